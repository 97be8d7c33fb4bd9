import type { SQSRecord } from 'aws-lambda';
import { failureRecord } from '#shared/delivery/failure.ts';
import type { QueuedDelivery, QueuedEvent } from '#shared/events/messages.ts';
import { deliveryDecision } from '#shared/loops/loop.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireIntEnv } from '#shared/runtime/config.ts';
import { SummaryCounts, logger } from '#shared/runtime/logger.ts';
import { sqsBatchHandler } from '#shared/runtime/sqs-batch.ts';
import { recordFailure } from '#shared/store/failures.ts';
import { listLoops } from '#shared/store/loops.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const FANOUT_MAX_RECEIVES = requireIntEnv(ENV.FANOUT_MAX_RECEIVES);
const DELIVER_MAX_RECEIVES = requireIntEnv(ENV.DELIVER_MAX_RECEIVES);

/**
 * Nothing may sit where neither the account nor the operator looks: what lands in a dead-letter
 * queue because a function kept failing on it (a crash, a bug, an outage longer than the queue's
 * receives) becomes a failure under the loop it was for, which the account lists and replays.
 *   a delivery → one failure of its loop;
 *   an event   → one failure per loop that receives it or keeps it for replay (deliveryDecision;
 *                not enriched: fanout never got that far).
 * A message it cannot read stays in the dead-letter queue, where the operator's alarm sees it.
 */
export const handler = sqsBatchHandler(recordDeadLetter, async () => new SummaryCounts(), logDeadLetters);

async function recordDeadLetter(record: SQSRecord, tally: SummaryCounts): Promise<void> {
  let message: Partial<QueuedDelivery & QueuedEvent>;
  try {
    message = JSON.parse(record.body) as Partial<QueuedDelivery & QueuedEvent>;
  } catch {
    throw new Error('a dead letter that is not JSON stays in the dead-letter queue for the operator');
  }
  const { accountId, event } = message;
  if (typeof accountId !== 'string' || typeof event?.id !== 'string' || typeof event.type !== 'string') {
    throw new Error('a dead letter that is neither a delivery nor an event stays for the operator');
  }
  const now = clock.now();
  if (typeof message.loopId === 'string') {
    const delivery = message as QueuedDelivery;
    const error = `the delivery function failed on this delivery ${DELIVER_MAX_RECEIVES} times`;
    await recordFailure(failureRecord(delivery, DELIVER_MAX_RECEIVES, { error }, now));
    tally.add('deliveries');
    tally.add('failures');
    logger.debug('Dead-lettered delivery recorded as a failure', { loopId: delivery.loopId, eventId: event.id });
    return;
  }
  // Every loop fanout would have queued it for: one that a 410 disabled keeps it for its replay too.
  const loops = (await listLoops(accountId)).filter((loop) => deliveryDecision(loop, event.type!) !== 'drop');
  const error = `the event could not be fanned out (the fanout function failed on it ${FANOUT_MAX_RECEIVES} times)`;
  await Promise.all(
    loops.map((loop) =>
      recordFailure(
        failureRecord({ accountId, loopId: loop.id, event: event as QueuedEvent['event'] }, 0, { error }, now),
      ),
    ),
  );
  tally.add('events');
  tally.add('failures', loops.length);
  logger.debug('Dead-lettered event recorded as failures', { accountId, eventId: event.id, loops: loops.length });
}

/** Something kept failing on these: one WARN line per batch for the operator; the account sees the failures. */
async function logDeadLetters(tally: SummaryCounts): Promise<void> {
  const counts = tally.toJSON();
  if (Object.keys(counts).length) logger.warn('Dead letters recorded as failures', counts);
}
