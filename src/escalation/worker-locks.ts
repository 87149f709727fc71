/**
 * A killed worker's job is taken over in seconds, not BullMQ's default 30 s: the lock is
 * renewed every 2.5 s while a job runs and expires 5 s after its worker dies; stalled jobs are
 * looked for every 2 s.
 */
export const WORKER_LOCKS = { lockDuration: 5000, stalledInterval: 2000, maxStalledCount: 10 } as const;
