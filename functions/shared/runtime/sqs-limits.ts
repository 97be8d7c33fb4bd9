/**
 * What SQS takes: at most 10 messages and 256 KiB to a SendMessageBatch, and so to one message; a
 * message hidden (its visibility timeout) for at most 12 hours, which bounds every retry delay.
 * Plain numbers, free of imports, so that the domain and the stack's settings (lib/) share them.
 */
export const SQS_LIMITS = { batchEntries: 10, batchBytes: 256 * 1024, maxVisibilitySeconds: 12 * 60 * 60 } as const;

/**
 * What an event may take once queued, with room left for the envelopes that carry it later (a
 * delivery, a log message): ingest refuses a larger one, fanout enriches one only as far as this.
 */
export const MAX_QUEUED_EVENT_BYTES = SQS_LIMITS.batchBytes - 1024;
