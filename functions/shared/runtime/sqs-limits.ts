/**
 * What SQS takes: at most 10 messages and 256 KiB to a SendMessageBatch, and so to one message.
 * Plain numbers, free of the SDK, so that the domain can size what it queues by them.
 */
export const SQS_LIMITS = { batchEntries: 10, batchBytes: 256 * 1024 } as const;

/**
 * What an event may take once queued, with room left for the envelopes that carry it later (a
 * delivery, a log message): ingest refuses a larger one, fanout enriches one only as far as this.
 */
export const MAX_QUEUED_EVENT_BYTES = SQS_LIMITS.batchBytes - 1024;
