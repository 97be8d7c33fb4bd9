import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { attempt, signedRequest, statusOf } from '#shared/delivery/attempt.ts';
import { afterAttempt, beforeAttempt, statusKey } from '#shared/delivery/decision.ts';
import { failureRecord } from '#shared/delivery/failure.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { isQueuedDelivery, type QueuedDelivery } from '#shared/events/messages.ts';
import { loopErrorRecord } from '#shared/logs/log-record.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { send } from '#shared/outbound/client.ts';
import { outboundPolicyFromEnv } from '#shared/outbound/policy.ts';
import { sqs } from '#shared/runtime/sqs.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv, requireIntEnv, requireListEnv } from '#shared/runtime/config.ts';
import { SummaryCounts, logger } from '#shared/runtime/logger.ts';
import { RetryLater, parseBody, sqsBatchHandler } from '#shared/runtime/sqs-batch.ts';
import { clearFailure, recordFailure, releaseReplay } from '#shared/store/failures.ts';
import { type LogEntry, queueLogRecords } from '#shared/store/log-queue.ts';
import { disableAfterGone, readLoopsNow } from '#shared/store/loops.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const DELIVERIES_QUEUE_URL = requireEnv(ENV.DELIVERIES_QUEUE_URL);
const DELIVERY_TIMEOUT_MS = requireIntEnv(ENV.DELIVERY_TIMEOUT_SECONDS) * 1000;
const RETRY_SCHEDULE = requireListEnv(ENV.RETRY_SCHEDULE).map(Number);
const POLICY = outboundPolicyFromEnv();
requireEnv(ENV.LOG_QUEUE_URL);

/**
 * One queued delivery → one signed POST, carried out as `delivery/decision.ts` decides: before the
 * POST by the loop as it is now (send, keep as a failure, drop), after it by the outcome (delivered,
 * retry after a delay, record as a failure, disable the loop). The loops are read as they are now
 * (one consistent BatchGetItem per batch), so a loop that was deleted, disabled, unsubscribed or
 * re-pointed gets nothing more.
 */
export const handler = sqsBatchHandler<Batch>(
  async (record, batch) => {
    const delivery = parseBody<QueuedDelivery>(record, isQueuedDelivery);
    if (!delivery) return;
    const { event } = delivery;
    const context = { loopId: delivery.loopId, eventId: event.id };
    const now = clock.now();
    const before = beforeAttempt(batch.loops.get(delivery.loopId), event.type);
    if (before.action === 'drop') {
      batch.tally.add('dropped');
      // A dropped replay leaves its failure listed: unmarked, the next replay may take it again.
      if (delivery.replayOf)
        await releaseReplay(delivery.accountId, delivery.loopId, delivery.event.id, delivery.replayOf.failedAt);
      logger.debug('Loop gone, unverified, disabled or unsubscribed; delivery dropped', context);
      return;
    }
    if (before.action === 'keep') {
      await recordFailure(failureRecord(delivery, 0, { error: before.error }, now));
      batch.tally.add('recorded');
      return;
    }

    const { loop } = before;
    const attemptNumber = Number(record.attributes.ApproximateReceiveCount);
    const attempted = { ...context, attempt: attemptNumber };
    const request = signedRequest(loop, toRecord(event), now, DELIVERY_TIMEOUT_MS);
    const outcome = await attempt((outbound) => send(POLICY, outbound), request, now);
    batch.tally.addTo('statuses', statusKey(outcome));
    const decision = afterAttempt(delivery, outcome, attemptNumber, RETRY_SCHEDULE);
    if (decision.action === 'delivered') {
      batch.tally.add('delivered');
      logger.debug('Delivered', { ...attempted, status: statusOf(outcome), durationMs: outcome.durationMs });
      if (decision.clearsFailedAt) await clearFailure(loop.accountId, loop.id, event.id, decision.clearsFailedAt);
      return;
    }

    const { failure } = decision;
    batch.tally.add('failed');
    logger.debug('Delivery attempt failed', { ...attempted, status: statusOf(failure), error: failure.error });
    batch.loopErrors.push({
      ...loopErrorRecord(delivery, loop, attemptNumber, failure, now),
      sourceMessageId: record.messageId,
    });
    if (decision.action === 'retry') {
      // SQS hands the message back when the delay is over, with the same webhook-id.
      await postpone(record, decision.afterSeconds);
      batch.tally.add('retried');
      throw new RetryLater(
        `attempt ${attemptNumber} to ${loop.id} failed (${failure.error}); next in ${decision.afterSeconds} s`,
      );
    }
    if (decision.action === 'disable') {
      if (await disableAfterGone(loop, failure.error, clock.now())) {
        batch.tally.add('disabled');
        logger.debug('Receiver answered 410 Gone; loop disabled', { loopId: loop.id });
      }
    }
    await recordFailure(failureRecord(delivery, attemptNumber, failure, now));
    batch.tally.add('recorded');
    if (decision.action === 'record') logger.debug('Retries exhausted; recorded under the loop’s failures', attempted);
  },
  async (records) => ({
    loops: await readLoopsNow(
      records.flatMap((record) => {
        const delivery = parseBody<QueuedDelivery>(record, isQueuedDelivery);
        return delivery ? [{ accountId: delivery.accountId, loopId: delivery.loopId }] : [];
      }),
    ),
    loopErrors: [],
    deliveries: records.length,
    tally: new SummaryCounts(),
  }),
  async (batch) => {
    await logLoopErrors(batch);
    logger.info('Deliveries done', { deliveries: batch.deliveries, ...batch.tally.toJSON() });
  },
);

/**
 * What a batch shares: its loops as they are now, the failed attempts to log, sent together, and
 * the counts of its summary line (delivered, failed, retried, recorded, disabled, dropped, statuses).
 */
interface Batch {
  loops: Map<string, LoopRecord>;
  loopErrors: LogEntry[];
  deliveries: number;
  tally: SummaryCounts;
}

/**
 * The batch's failed attempts, in one send (packed per file). A loop error is a diagnosis, not the
 * event: when the log queue cannot take it, the deliveries stand and the loss is logged.
 */
async function logLoopErrors(batch: Batch): Promise<void> {
  if (!batch.loopErrors.length) return;
  try {
    const failed = await queueLogRecords(batch.loopErrors);
    if (failed.size)
      logger.error('Loop errors could not be logged', { count: failed.size, error: String([...failed.values()][0]) });
  } catch (error) {
    logger.error('Loop errors could not be logged', { count: batch.loopErrors.length, error: String(error) });
  }
}

async function postpone(record: SQSRecord, seconds: number): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: DELIVERIES_QUEUE_URL,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}
