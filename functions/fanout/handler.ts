import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { QueuedDelivery, QueuedEvent } from '#shared/events/messages.ts';
import { receivesEvent } from '#shared/loops/loop.ts';
import { sqs } from '#shared/runtime/aws.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { logger } from '#shared/runtime/logger.ts';
import { parseBody, sqsBatchHandler } from '#shared/runtime/sqs-batch.ts';
import { listLoops } from '#shared/store/loops.ts';

const DELIVERIES_QUEUE_URL = requireEnv('DELIVERIES_QUEUE_URL');

/** One event → one delivery message per loop that receives it. */
export const handler = sqsBatchHandler(async (record) => {
  const queued = parseBody<QueuedEvent>(record);
  if (!queued) return;
  const { accountId, event } = queued;
  const loops = (await listLoops(accountId)).filter((loop) => receivesEvent(loop, event.type));
  for (let start = 0; start < loops.length; start += 10) {
    const entries = loops.slice(start, start + 10).map((loop) => {
      const delivery: QueuedDelivery = { accountId, loopId: loop.id, event };
      return { Id: loop.id, MessageBody: JSON.stringify(delivery) };
    });
    const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: DELIVERIES_QUEUE_URL, Entries: entries }));
    // The whole event is retried; a loop may then get it twice, which at-least-once delivery allows.
    if (result.Failed?.length) throw new Error(`${result.Failed.length} deliveries could not be queued`);
  }
  logger.info('Event fanned out', { accountId, eventId: event.id, type: event.type, loops: loops.length });
});
