import type { SQSRecord } from 'aws-lambda';
import {
  contextKey,
  contextsInBatch,
  enrich,
  type MessageContext,
  splitContextKey,
} from '#shared/events/enrichment.ts';
import type { MailEvent } from '#shared/events/mail-event.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { LIMITS } from '#shared/events/mail-event.ts';
import { EVENT_LOG_PREFIXES, logDate } from '#shared/logs/log-record.ts';
import { isQueuedEvent, type QueuedDelivery, type QueuedEvent } from '#shared/events/messages.ts';
import { keepsForReplay, type LoopRecord, receivesEvent } from '#shared/loops/loop.ts';
import { bySourceMessage, type Outgoing, sendBatches } from '#shared/runtime/sqs-send.ts';
import { MAX_QUEUED_EVENT_BYTES } from '#shared/runtime/sqs-limits.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv, requireIntEnv } from '#shared/runtime/config.ts';
import { logger } from '#shared/runtime/logger.ts';
import { parseBody, sqsBatchHandlerOfAll } from '#shared/runtime/sqs-batch.ts';
import { claimEventId } from '#shared/store/event-ids.ts';
import { type LogEntry, queueLogRecords } from '#shared/store/log-queue.ts';
import { listLoops } from '#shared/store/loops.ts';
import { readMessageContexts, saveMessageContexts } from '#shared/store/message-contexts.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const DELIVERIES_QUEUE_URL = requireEnv(ENV.DELIVERIES_QUEUE_URL);
const MESSAGE_CONTEXT_TTL_DAYS = requireIntEnv(ENV.MESSAGE_CONTEXT_TTL_DAYS);
requireEnv(ENV.LOG_QUEUE_URL);

interface Incoming {
  record: SQSRecord;
  queued: QueuedEvent;
}

/**
 * A batch of accepted events → one delivery per (event, loop that receives it), SPEC §2:
 *   1. the contexts the batch's `sent` events bring are stored (one write each), so that they
 *      also apply to the batch's other events of those messages;
 *   2. the contexts of the other messages are read in one BatchGetItem, each account's loops in one
 *      Query;
 *   3. an event with a client id goes on only if this message owns the id (a duplicate stops here);
 *   4. each event is enriched, logged (the log queue, packed per file) and its deliveries queued,
 *      ten to an SQS call across the batch. Every accepted event is logged, whether or not a loop
 *      takes it; a duplicate of a client id is neither delivered nor logged again.
 * A record fails (and returns) when its own step fails; a batch-wide step failing returns them all.
 */
export const handler = sqsBatchHandlerOfAll(async (records) => {
  const now = clock.now();
  const incoming = records.flatMap((record): Incoming[] => {
    const queued = parseBody<QueuedEvent>(record, isQueuedEvent);
    return queued ? [{ record, queued }] : [];
  });

  const inBatch = contextsInBatch(incoming.map(({ queued }) => queued));
  const [stored, loopsByAccount] = await Promise.all([
    readMessageContexts(
      incoming
        .filter(({ queued }) => queued.event.type !== 'sent')
        .map(({ queued }) => ({ accountId: queued.accountId, message: queued.event.message }))
        .filter(({ accountId, message }) => !inBatch.has(contextKey(accountId, message))),
      now,
      contextKey,
    ),
    readLoops([...new Set(incoming.map(({ queued }) => queued.accountId))]),
    saveMessageContexts(
      [...inBatch].map(([key, context]) => {
        const [accountId, message] = splitContextKey(key);
        return { accountId, message, context };
      }),
      MESSAGE_CONTEXT_TTL_DAYS,
      now,
    ),
  ]);

  const failed = new Map<string, unknown>();
  const deliveries: (Outgoing & { sourceMessageId: string })[] = [];
  const logEntries: LogEntry[] = [];
  let duplicates = 0;
  await Promise.all(
    incoming.map(async ({ record, queued }) => {
      try {
        const { accountId, event } = queued;
        if (queued.clientId) {
          const owner = await claimEventId(accountId, event.id, record.messageId, LIMITS.idempotencyWindowDays, now);
          if (!owner) {
            duplicates++;
            logger.debug('Duplicate client id; not delivered again', { accountId, eventId: event.id });
            return;
          }
        }
        const key = contextKey(accountId, event.message);
        const enriched = enrichedToFit(event, inBatch.get(key) ?? stored.get(key));
        logEntries.push({
          accountId,
          date: logDate(queued.receivedAt),
          prefix: EVENT_LOG_PREFIXES[event.type as keyof typeof EVENT_LOG_PREFIXES],
          record: toRecord(enriched),
          sourceMessageId: record.messageId,
        });
        const loops = (loopsByAccount.get(accountId) ?? []).filter(
          // A loop that a 410 disabled gets the delivery too: deliver records it as a failure to replay.
          (loop) => receivesEvent(loop, event.type) || keepsForReplay(loop, event.type),
        );
        for (const loop of loops) {
          const delivery: QueuedDelivery = { accountId, loopId: loop.id, event: enriched };
          deliveries.push({ body: JSON.stringify(delivery), sourceMessageId: record.messageId });
        }
      } catch (error) {
        failed.set(record.messageId, error);
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

/**
 * The event with its message's context filled in, as far as it still fits an SQS message with room
 * for its envelope (a delivery, a log message): otherwise with less of the context (its fields left
 * out), or as the event came, which ingest made sure fits.
 */
function enrichedToFit(event: MailEvent, context: MessageContext | undefined): MailEvent {
  if (!context) return event;
  for (const candidate of [enrich(event, context), enrich(event, { ...context, fields: undefined })]) {
    if (Buffer.byteLength(JSON.stringify(candidate)) <= MAX_QUEUED_EVENT_BYTES) return candidate;
  }
  return event;
}
