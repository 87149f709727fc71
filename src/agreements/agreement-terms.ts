export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const NOTIFY_TARGETS = ['assignee', 'provider_head', 'customer_head', 'ladder', 'ops'] as const;
export type NotifyTarget = (typeof NOTIFY_TARGETS)[number];

export interface EscalationLevel {
  atPercent: number;
  notify: NotifyTarget;
}

/** What a request keeps of its agreement: the terms it was opened under. */
export interface AgreementTerms {
  agreementId: string;
  agreementVersion: number;
  responseTarget: string;
  responseTargetSeconds: number;
  resolutionTarget: string;
  resolutionTargetSeconds: number;
  /** The calendar that counts (the agreement's, else the provider department's); null = always open. */
  calendarId: string | null;
  /** Zone used when no calendar is set: the provider department's. */
  timezone: string;
  warnAtPercent: number;
  pauseWhileBlocked: boolean;
  escalations: EscalationLevel[];
}
