import { contextKey } from '#shared/events/enrichment.ts';
import { isQueuedEvent, type QueuedEvent } from '#shared/events/messages.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv, requireIntEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { logger } from '#shared/runtime/logger.ts';
import { parseBody, sqsBatchHandlerOfAll } from '#shared/runtime/sqs-batch.ts';
import { bySourceMessage, type Outgoing, sendBatches } from '#shared/runtime/sqs-send.ts';
import { claimEventId } from '#shared/store/event-ids.ts';
import { type LogEntry, queueLogRecords } from '#shared/store/log-queue.ts';
import { listLoops } from '#shared/store/loops.ts';
import { readMessageContexts, saveMessageContexts } from '#shared/store/message-contexts.ts';
import { claimOf, fanOut, planBatch } from './plan.ts';

const DELIVERIES_QUEUE_URL = requireEnv(ENV.DELIVERIES_QUEUE_URL);
const MESSAGE_CONTEXT_TTL_DAYS = requireIntEnv(ENV.MESSAGE_CONTEXT_TTL_DAYS);
requireEnv(ENV.LOG_QUEUE_URL);

/**
 * A batch of accepted events → one delivery per (event, loop that takes it) (ARCHITECTURE.md), as `plan.ts`
 * decides:
 *   1. the contexts the batch's `sent` events bring are stored (one write each), so that they
 *      also apply to the batch's other events of those messages;
 *   2. the contexts of the other messages are read in one BatchGetItem, each account's loops in one
 *      Query;
 *   3. an event with a client id goes on only if this message owns the id (a duplicate stops here);
 *   4. each event is enriched, logged (the log queue, packed per file) and its deliveries queued,
 *      ten to an SQS call across the batch.
 * A record fails (and returns) when its own step fails; a batch-wide step failing returns them all.
 */
export const handler = sqsBatchHandlerOfAll(async (records) => {
  const now = clock.now();
  const incoming = records.flatMap((record) => {
    const queued = parseBody<QueuedEvent>(record, isQueuedEvent);
    return queued ? [{ record, queued }] : [];
  });

  const plan = planBatch(incoming.map(({ queued }) => queued));
  const [stored, loopsByAccount] = await Promise.all([
    readMessageContexts(plan.contextsToRead, now, contextKey),
    readLoops(plan.accounts),
    saveMessageContexts(plan.contextsToSave, MESSAGE_CONTEXT_TTL_DAYS, now),
  ]);

  const failed = new Map<string, unknown>();
  const deliveries: (Outgoing & { sourceMessageId: string })[] = [];
  const logEntries: LogEntry[] = [];
  let duplicates = 0;
  await Promise.all(
    incoming.map(async ({ record, queued }) => {
      const sourceMessageId = record.messageId;
      try {
        const claim = claimOf(queued);
        if (claim && !(await claimEventId(claim.accountId, claim.id, sourceMessageId, claim.days, now))) {
          duplicates++;
          logger.debug('Duplicate client id; not delivered again', { accountId: claim.accountId, eventId: claim.id });
          return;
        }
        const fannedOut = fanOut(queued, plan, stored, loopsByAccount.get(queued.accountId) ?? []);
        logEntries.push({ ...fannedOut.log, sourceMessageId });
        deliveries.push(
          ...fannedOut.deliveries.map((delivery) => ({ body: JSON.stringify(delivery), sourceMessageId })),
        );
      } catch (error) {
        failed.set(sourceMessageId, error);
      }
    }),
  );

  // An event whose deliveries did not all go returns whole; a loop may then get one twice, which
  // at-least-once delivery allows.
  const [notQueued, notLogged] = await Promise.all([
    sendBatches(DELIVERIES_QUEUE_URL, deliveries).then((notSent) =>
      bySourceMessage(notSent, (delivery) => [delivery.sourceMessageId]),
    ),
    queueLogRecords(logEntries),
  ]);
  for (const [messageId, reason] of [...notQueued, ...notLogged]) failed.set(messageId, reason);
  logger.info('Events fanned out', {
    events: incoming.length,
    duplicates,
    deliveries: deliveries.length,
    failed: failed.size,
  });
  return failed;
});

async function readLoops(accountIds: string[]): Promise<Map<string, LoopRecord[]>> {
  return new Map(await Promise.all(accountIds.map(async (id) => [id, await listLoops(id)] as const)));
}
