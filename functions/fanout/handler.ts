import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../shared/aws.ts';
import { requireEnv } from '../shared/config.ts';
import { logger } from '../shared/logger.ts';
import type { QueuedDelivery, QueuedEvent } from '../shared/messages.ts';
import { parseBody, sqsBatchHandler } from '../shared/sqs-batch.ts';
import { type LoopRecord, listLoops } from '../shared/table.ts';

const DELIVERIES_QUEUE_URL = requireEnv('DELIVERIES_QUEUE_URL');

/** Only verified, enabled loops that subscribe to the event's type receive it (SPEC §5). */
export function takesEvent(loop: LoopRecord, type: string): boolean {
  return loop.status === 'verified' && loop.enabled && (loop.events as string[]).includes(type);
}

export const handler = sqsBatchHandler(async (record) => {
  const queued = parseBody<QueuedEvent>(record);
  if (!queued) return;
  const { accountId, event } = queued;
  const loops = (await listLoops(accountId)).filter((loop) => takesEvent(loop, event.type));
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
