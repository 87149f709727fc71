import { Agreement, AgreementVersion } from '../agreements/agreement.entity';
import { Escalation } from '../escalation/escalation.entity';
import { User } from '../identity/user.entity';
import { MailLaneRecord } from '../mail/mail-lane-record.entity';
import { OutboxMail } from '../mail/outbox-mail.entity';
import { Calendar } from '../org/calendar.entity';
import { Department } from '../org/department.entity';
import { ProviderService } from '../org/provider-service.entity';
import { ReportDailyRollup, ReportOpenRequest } from '../reports/report-rollup.entity';
import { IdempotencyKey } from '../requests/idempotency-key.entity';
import { RequestComment } from '../requests/request-comment.entity';
import { RequestDependency } from '../requests/request-dependency.entity';
import { RequestEvent } from '../requests/request-event.entity';
import { RequestPause } from '../requests/request-pause.entity';
import { ServiceRequest } from '../requests/request.entity';

export const ENTITIES = [
  User,
  Department,
  Calendar,
  ProviderService,
  Agreement,
  AgreementVersion,
  ServiceRequest,
  RequestPause,
  RequestEvent,
  RequestComment,
  RequestDependency,
  IdempotencyKey,
  Escalation,
  OutboxMail,
  MailLaneRecord,
  ReportDailyRollup,
  ReportOpenRequest,
];
