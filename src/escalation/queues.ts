import type { EscalationKind } from './deadline-plan';

/** Every queue, by name; each has one job name and one typed payload (ids only). */
export enum QueueName {
  Deadlines = 'deadlines',
  Mail = 'mail',
}

/** A timer carries its request and due time; PostgreSQL says what is due (BullMQ zeroes `delay` on promotion, so dueAt travels here). */
export interface JobPayloads {
  [QueueName.Deadlines]: { requestId: string; dueAt: number };
  [QueueName.Mail]: { mailId: string };
}

/** A timer to set: which request, for which deadline, at which clock version, due when. */
export interface ScheduledDeadline {
  requestId: string;
  clockVersion: number;
  kind: EscalationKind;
  dueAt: number;
}

export const JOB_NAME: { [Q in QueueName]: string } = {
  [QueueName.Deadlines]: 'due',
  [QueueName.Mail]: 'send-mail',
};

const KIND_CODE: Record<string, string> = {
  response_warning: 'rw',
  response_breach: 'rb',
  resolution_warning: 'sw',
  resolution_breach: 'sb',
  chain_at_risk: 'ck',
};

/**
 * Deterministic ids — adding the same timer or mail twice is a no-op in BullMQ — kept short,
 * since each pending timer holds its id three times in Redis (key, delayed set, options).
 */
export const deadlineJobId = (d: ScheduledDeadline) =>
  `${d.requestId.replace(/-/g, '')}.${KIND_CODE[d.kind] ?? d.kind.replace('level-', 'l')}.${d.clockVersion}`;
export const mailJobId = (mailId: string) => `mail_${mailId}`;
/**
 * A mail whose claim was abandoned by a dead worker: that worker's job for it may still sit in
 * Redis as active until BullMQ finds it stalled (5–9 s), and re-adding the same id would be a no-op.
 */
export const mailTakeoverJobId = (mailId: string) => `mail_${mailId}_takeover`;
/** A reconciler pass's job for a run of due, unsent mails (MailQueue.enqueueBacklog); `pass` tells the passes apart. */
export const mailBacklogJobId = (mailId: string, pass: string) => `mail_${mailId}_pass_${pass}`;
