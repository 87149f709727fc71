import { InitialSchema1764000000000 } from './1764000000000-initial-schema';
import { EscalationOutbox1764100000000 } from './1764100000000-escalation-outbox';
import { Chains1764200000000 } from './1764200000000-chains';
import { Reports1764300000000 } from './1764300000000-reports';
import { LeadTimeIndex1764400000000 } from './1764400000000-lead-time-index';
import { OutboxEscalationUnchecked1764500000000 } from './1764500000000-outbox-escalation-unchecked';
import { OutboxClaimedBy1764600000000 } from './1764600000000-outbox-claimed-by';
import { CommentSideAdmin1764700000000 } from './1764700000000-comment-side-admin';
import { OutboxInDoubt1764800000000 } from './1764800000000-outbox-in-doubt';

/** Every migration, oldest first; listed by hand so bundlers and ts-jest need no globbing. */
export const ALL_MIGRATIONS = [
  InitialSchema1764000000000,
  EscalationOutbox1764100000000,
  Chains1764200000000,
  Reports1764300000000,
  LeadTimeIndex1764400000000,
  OutboxEscalationUnchecked1764500000000,
  OutboxClaimedBy1764600000000,
  CommentSideAdmin1764700000000,
  OutboxInDoubt1764800000000,
];
