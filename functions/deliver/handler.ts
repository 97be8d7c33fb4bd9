import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type AttemptOutcome, attempt, signedRequest } from '#shared/delivery/attempt.ts';
import { failureRecord } from '#shared/delivery/failure.ts';
import { nextRetryDelay } from '#shared/delivery/retry-policy.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { isQueuedDelivery, type QueuedDelivery } from '#shared/events/messages.ts';
import { LOOP_ERRORS, logDate } from '#shared/logs/log-record.ts';
import { keepsForReplay, type LoopRecord, receivesEvent, withGone } from '#shared/loops/loop.ts';
import { send } from '#shared/outbound/client.ts';
import { outboundPolicyFromEnv } from '#shared/outbound/policy.ts';
import { sqs } from '#shared/runtime/sqs.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv, requireIntEnv, requireListEnv } from '#shared/runtime/config.ts';
import { SummaryCounts, logger } from '#shared/runtime/logger.ts';
import { RetryLater, parseBody, sqsBatchHandler } from '#shared/runtime/sqs-batch.ts';
import { clearFailure, recordFailure, releaseReplay } from '#shared/store/failures.ts';
import { type LogEntry, queueLogRecords } from '#shared/store/log-queue.ts';
import { getLoop, readLoopsNow, saveLoop } from '#shared/store/loops.ts';
import { ConditionFailed } from '#shared/store/table.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const DELIVERIES_QUEUE_URL = requireEnv(ENV.DELIVERIES_QUEUE_URL);
const DELIVERY_TIMEOUT_MS = requireIntEnv(ENV.DELIVERY_TIMEOUT_SECONDS) * 1000;
const RETRY_SCHEDULE = requireListEnv(ENV.RETRY_SCHEDULE).map(Number);
const POLICY = outboundPolicyFromEnv();
requireEnv(ENV.LOG_QUEUE_URL);

/**
 * One queued delivery → one signed POST, then by its outcome:
 *   2xx                     done (a replayed delivery leaves the loop's failures);
 *   410 Gone                the loop is disabled at once and the delivery recorded as a failure;
 *   anything else           the message comes back after the schedule's next delay, or, with the
 *                           schedule spent, the delivery is recorded as a failure.
 * The loop is read as it is now before each attempt (one consistent BatchGetItem per batch), so a
 * loop that was deleted, disabled, unsubscribed or re-pointed gets nothing more.
 */
export const handler = sqsBatchHandler<Batch>(
  async (record, batch) => {
    const delivery = parseBody<QueuedDelivery>(record, isQueuedDelivery);
    if (!delivery) return;
    const { event } = delivery;
    const loop = batch.loops.get(delivery.loopId);
    if (!receivesEvent(loop, event.type)) return notSent(delivery, loop, batch.tally);

    const attemptNumber = Number(record.attributes.ApproximateReceiveCount);
    const now = clock.now();
    const request = signedRequest(loop, toRecord(event), now, DELIVERY_TIMEOUT_MS);
    const outcome = await attempt((outbound) => send(POLICY, outbound), request, now);
    const context = { loopId: loop.id, eventId: event.id, attempt: attemptNumber };
    // By status; an attempt that got no answer by its kind: timeout, connection, blocked.
    batch.tally.addTo('statuses', outcome.ok ? outcome.status : (outcome.status ?? outcome.error.split(':')[0]!));
    if (outcome.ok) {
      batch.tally.add('delivered');
      logger.debug('Delivered', { ...context, status: outcome.status, durationMs: outcome.durationMs });
      if (delivery.replayOf) await clearFailure(loop.accountId, loop.id, event.id, delivery.replayOf.failedAt);
      return;
    }

    batch.tally.add('failed');
    logger.debug('Delivery attempt failed', { ...context, status: outcome.status, error: outcome.error });
    batch.loopErrors.push(loopError(record.messageId, delivery, loop, attemptNumber, outcome, now));
    if (outcome.gone) {
      await disable(loop, outcome, batch.tally);
      await recordFailure(failureRecord(delivery, attemptNumber, outcome, now));
      batch.tally.add('recorded');
      return;
    }
    const delay = nextRetryDelay(RETRY_SCHEDULE, attemptNumber, outcome.retryAfter);
    if (delay === undefined) {
      await recordFailure(failureRecord(delivery, attemptNumber, outcome, now));
      batch.tally.add('recorded');
      logger.debug('Retries exhausted; recorded under the loop’s failures', context);
      return;
    }
    // SQS hands the message back when the delay is over, with the same webhook-id.
    await postpone(record, delay);
    batch.tally.add('retried');
    throw new RetryLater(`attempt ${attemptNumber} to ${loop.id} failed (${outcome.error}); next in ${delay} s`);
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
 * The loop does not take this delivery now. A loop that a 410 disabled keeps what it misses as
 * failures, so that once it is back a replay sends it; otherwise the account chose (deleted,
 * disabled, unsubscribed, re-pointed) and the delivery is dropped.
 */
async function notSent(delivery: QueuedDelivery, loop: LoopRecord | undefined, tally: SummaryCounts): Promise<void> {
  if (keepsForReplay(loop, delivery.event.type)) {
    const reason = `not sent: the loop is disabled (${loop.disabledReason ?? 'no reason given'})`;
    await recordFailure(failureRecord(delivery, 0, { error: reason }, clock.now()));
    tally.add('recorded');
    return;
  }
  tally.add('dropped');
  // A dropped replay leaves its failure listed: unmarked, the next replay may take it again.
  if (delivery.replayOf)
    await releaseReplay(delivery.accountId, delivery.loopId, delivery.event.id, delivery.replayOf.failedAt);
  logger.debug('Loop gone, unverified, disabled or unsubscribed; delivery dropped', {
    loopId: delivery.loopId,
    eventId: delivery.event.id,
  });
}

/** Disables the loop after a 410; a change made meanwhile is read again and the 410 applied to it. */
async function disable(loop: LoopRecord, outcome: AttemptOutcome & { ok: false }, tally: SummaryCounts): Promise<void> {
  let current: LoopRecord | undefined = loop;
  for (let tries = 0; current && current.status === 'verified' && tries < 3; tries++) {
    try {
      await saveLoop(withGone(current, outcome.error, clock.now()), current.updatedAt);
      tally.add('disabled');
      logger.debug('Receiver answered 410 Gone; loop disabled', { loopId: loop.id });
      return;
    } catch (error) {
      if (!(error instanceof ConditionFailed)) throw error;
      current = await getLoop(loop.accountId, loop.id);
    }
  }
}

/** A failed attempt as its record in the account's `loop-errors` log (SPEC §5, §8). */
function loopError(
  sourceMessageId: string,
  delivery: QueuedDelivery,
  loop: LoopRecord,
  attemptNumber: number,
  outcome: AttemptOutcome & { ok: false },
  now: Date,
): LogEntry {
  const record = {
    time: Math.floor(now.getTime() / 1000),
    eventId: delivery.event.id,
    type: delivery.event.type,
    loopId: loop.id,
    url: loop.url,
    attempt: (delivery.replayOf?.attempts ?? 0) + attemptNumber,
    ...(outcome.status !== undefined ? { status: outcome.status } : { error: outcome.error }),
  };
  return { accountId: loop.accountId, date: logDate(now), prefix: LOOP_ERRORS, record, sourceMessageId };
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
