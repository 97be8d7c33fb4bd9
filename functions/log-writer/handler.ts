import type { QueuedLogRecords } from '#shared/logs/log-record.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireIntEnv } from '#shared/runtime/config.ts';
import { logger } from '#shared/runtime/logger.ts';
import { parseBody, sqsBatchHandlerOfAll } from '#shared/runtime/sqs-batch.ts';
import { addChunk } from '#shared/store/log-index.ts';
import { putChunk } from '#shared/store/log-objects.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const LOG_RETENTION_DAYS = requireIntEnv(ENV.LOG_RETENTION_DAYS);

const isQueuedLogRecords = (body: unknown): boolean => {
  const message = body as Partial<Record<keyof QueuedLogRecords, unknown>> | null;
  return (
    typeof message === 'object' &&
    message !== null &&
    ['accountId', 'date', 'prefix'].every((key) => typeof message[key as keyof QueuedLogRecords] === 'string') &&
    Array.isArray(message.records)
  );
};

/**
 * Flushes the log queue (docs/api.md §8): the event source hands over what gathered within
 * `logFlushSeconds` (up to thousands of records), and each log file it touches gets one chunk
 * object with all of them — one S3 PUT and one index update per (account, day, type) per flush.
 * A file whose write fails returns its messages to the queue; a chunk written twice is harmless,
 * since compaction keeps each record once.
 */
export const handler = sqsBatchHandlerOfAll(async (sqsRecords) => {
  const files = new Map<
    string,
    { file: Omit<QueuedLogRecords, 'records'>; lines: string[]; sourceMessageIds: string[] }
  >();
  for (const sqsRecord of sqsRecords) {
    const message = parseBody<QueuedLogRecords>(sqsRecord, isQueuedLogRecords);
    if (!message) continue;
    const key = `${message.accountId} ${message.date} ${message.prefix}`;
    let file = files.get(key);
    if (!file) {
      file = {
        file: { accountId: message.accountId, date: message.date, prefix: message.prefix },
        lines: [],
        sourceMessageIds: [],
      };
      files.set(key, file);
    }
    for (const record of message.records) file.lines.push(JSON.stringify(record));
    file.sourceMessageIds.push(sqsRecord.messageId);
  }

  const now = clock.now();
  const failed = new Map<string, unknown>();
  await Promise.all(
    [...files.values()].map(async ({ file, lines, sourceMessageIds }) => {
      try {
        const body = `${lines.join('\n')}\n`;
        await putChunk(file.accountId, file.date, file.prefix, body, now);
        await addChunk(file, lines.length, Buffer.byteLength(body), LOG_RETENTION_DAYS);
      } catch (error) {
        for (const messageId of sourceMessageIds) failed.set(messageId, error);
      }
    }),
  );
  logger.info('Log records flushed', { files: files.size, messages: sqsRecords.length, failed: failed.size });
  return failed;
});
