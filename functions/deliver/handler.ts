import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { attempt, signedRequest } from '#shared/delivery/attempt.ts';
import { nextRetryDelay } from '#shared/delivery/retry-policy.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import type { QueuedDelivery } from '#shared/events/messages.ts';
import { receivesEvent } from '#shared/loops/loop.ts';
import { send } from '#shared/outbound/client.ts';
import { outboundPolicyFromEnv } from '#shared/outbound/policy.ts';
import { sqs } from '#shared/runtime/aws.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv, requireIntEnv, requireListEnv } from '#shared/runtime/config.ts';
import { logger } from '#shared/runtime/logger.ts';
import { parseBody, sqsBatchHandler } from '#shared/runtime/sqs-batch.ts';
import { getLoop } from '#shared/store/loops.ts';

const DELIVERIES_QUEUE_URL = requireEnv('DELIVERIES_QUEUE_URL');
const DELIVERY_TIMEOUT_MS = requireIntEnv('DELIVERY_TIMEOUT_SECONDS') * 1000;
const RETRY_SCHEDULE = requireListEnv('RETRY_SCHEDULE').map(Number);
const POLICY = outboundPolicyFromEnv();

/** One queued delivery: the loop's current state decides whether it still goes out. */
export const handler = sqsBatchHandler(async (record) => {
  const delivery = parseBody<QueuedDelivery>(record);
  if (!delivery) return;
  const { event } = delivery;
  const loop = await getLoop(delivery.accountId, delivery.loopId);
  if (!receivesEvent(loop, event.type)) {
    logger.info('Loop gone, unverified, disabled or unsubscribed; delivery dropped', {
      loopId: delivery.loopId,
      eventId: event.id,
    });
    return;
  }

  const attemptNumber = Number(record.attributes.ApproximateReceiveCount);
  const now = clock.now();
  const request = signedRequest(loop, toRecord(event), now, DELIVERY_TIMEOUT_MS);
  const outcome = await attempt((outbound) => send(POLICY, outbound), request, now);
  if (outcome.ok) {
    logger.info('Delivered', { loopId: loop.id, eventId: event.id, attempt: attemptNumber, status: outcome.status });
    return;
  }

  // The next attempt waits as the retry schedule says. With the schedule exhausted the message
  // shows again at once, and SQS's redrive moves it to the dead-letter queue on that receive.
  const delay = nextRetryDelay(RETRY_SCHEDULE, attemptNumber, outcome.retryAfter);
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: DELIVERIES_QUEUE_URL,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: delay ?? 0,
    }),
  );
  throw new Error(
    `attempt ${attemptNumber} to ${loop.id} failed (${outcome.error}); ${delay === undefined ? 'no retries left' : `next in ${delay} s`}`,
  );
});
