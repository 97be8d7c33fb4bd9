import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from './logger.ts';
import { sqs } from './sqs.ts';
import { ENV } from './env-names.ts';

/**
 * SQS consumers report the records that failed, so that only they return to the queue (the event
 * source mapping has ReportBatchItemFailures on).
 */

/**
 * Handles a batch record by record, side by side. `prepare` reads what the whole batch needs at
 * once (one batched read instead of one per record); when it throws, every record returns.
 * `process` throws to fail its record.
 */
export function sqsBatchHandler<Prepared = undefined>(
  process: (record: SQSRecord, prepared: Prepared) => Promise<void>,
  prepare: (records: SQSRecord[]) => Promise<Prepared> = async () => undefined as Prepared,
  /** After every record settled: what the batch gathered goes out at once (it must not throw). */
  finish: (prepared: Prepared) => Promise<void> = async () => undefined,
) {
  return sqsBatchHandlerOfAll(async (records) => {
    const prepared = await prepare(records);
    const outcomes = await Promise.allSettled(records.map((record) => process(record, prepared)));
    await finish(prepared);
    return new Map(
      outcomes.flatMap((outcome, index) =>
        outcome.status === 'rejected' ? [[records[index]!.messageId, outcome.reason] as const] : [],
      ),
    );
  });
}

/**
 * Handles a batch as a whole: `processAll` answers the failed records' message ids with why.
 * When it throws, every record returns to the queue.
 */
export function sqsBatchHandlerOfAll(processAll: (records: SQSRecord[]) => Promise<Map<string, unknown>>) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      let failed: Map<string, unknown>;
      try {
        failed = await processAll(event.Records);
      } catch (error) {
        failed = new Map(event.Records.map((record) => [record.messageId, error]));
      }
      const unreadable = event.Records.filter(
        (record) => unreadableRecords.has(record) && !failed.has(record.messageId),
      );
      for (const [messageId, reason] of await moveToDeadLetters(unreadable)) failed.set(messageId, reason);
      logFailures(failed);
      return { batchItemFailures: [...failed.keys()].map((itemIdentifier) => ({ itemIdentifier })) };
    });
}

/**
 * A failure that is part of the plan, e.g. a delivery whose receiver failed and whose retry is
 * scheduled: the record returns to the queue, and the handler's own summary counts it.
 */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

/**
 * One line per record at DEBUG; what failed unexpectedly, one WARN line per batch with each distinct
 * reason once, so that an outage failing a whole batch does not log a line per record.
 */
function logFailures(failed: Map<string, unknown>): void {
  const reasons = new Map<string, number>();
  for (const [messageId, reason] of failed) {
    const error = reason instanceof Error ? reason.message : String(reason);
    logger.debug('Record failed; it returns to the queue', { messageId, error });
    if (!(reason instanceof RetryLater)) reasons.set(error, (reasons.get(error) ?? 0) + 1);
  }
  if (!reasons.size) return;
  const records = [...reasons.values()].reduce((sum, count) => sum + count, 0);
  const errors = [...reasons].slice(0, 5).map(([error, count]) => ({ error, records: count }));
  logger.warn('Records failed; they return to the queue', { records, errors });
}

const unreadableRecords = new WeakSet<SQSRecord>();

/**
 * A record's JSON body, when it is JSON of the shape `is` checks. Otherwise no retry can mend it:
 * the caller skips it (undefined) and, once the batch is done, it goes to the queue's dead-letter
 * queue at once, where the operator's alarm sees it, instead of holding up or failing the others.
 */
export function parseBody<T>(record: SQSRecord, is: (body: unknown) => boolean = () => true): T | undefined {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  if (body !== undefined && is(body)) return body as T;
  unreadableRecords.add(record);
  return undefined;
}

/**
 * Sends the records to DEAD_LETTER_QUEUE_URL; answers those it could not send (they return to their
 * queue, and SQS's redrive moves them later). A record read from the dead-letter queue itself stays.
 */
async function moveToDeadLetters(records: SQSRecord[]): Promise<Map<string, unknown>> {
  const failed = new Map<string, unknown>();
  const deadLetterQueueUrl = process.env[ENV.DEAD_LETTER_QUEUE_URL];
  await Promise.all(
    records.map(async (record) => {
      const context = { messageId: record.messageId, queue: record.eventSourceARN.split(':').pop() };
      if (!deadLetterQueueUrl || deadLetterQueueUrl.split('/').pop() === context.queue) {
        logger.error('A message it cannot read stays in its queue for the operator', context);
        failed.set(record.messageId, new Error('unreadable message'));
        return;
      }
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: record.body }));
        logger.error('A message it cannot read was moved to the dead-letter queue', context);
      } catch (error) {
        failed.set(record.messageId, error);
      }
    }),
  );
  return failed;
}
