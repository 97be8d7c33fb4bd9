import {
  contextKey,
  contextsInBatch,
  enrich,
  type MessageContext,
  splitContextKey,
} from '#shared/events/enrichment.ts';
import { LIMITS, type MailEvent } from '#shared/events/mail-event.ts';
import type { QueuedDelivery, QueuedEvent } from '#shared/events/messages.ts';
import { eventRecord, type FiledRecord } from '#shared/logs/log-record.ts';
import { deliveryDecision, type LoopRecord } from '#shared/loops/loop.ts';
import { MAX_QUEUED_EVENT_BYTES } from '#shared/runtime/sqs-limits.ts';

/**
 * What fanout does with a batch of accepted events (ARCHITECTURE.md; docs/api.md §4, §5), decided without AWS: what it
 * stores and reads for the whole batch (`planBatch`), which client id an event claims first
 * (`claimOf`), and, for an event that goes on, its log record and deliveries (`fanOut`). The
 * handler makes the calls these name.
 */

export interface BatchPlan {
  /** The contexts the batch's `sent` events bring: stored, one write each. */
  contextsToSave: { accountId: string; message: string; context: MessageContext }[];
  /** The other messages of the batch's events, whose contexts are read (one BatchGetItem). */
  contextsToRead: { accountId: string; message: string }[];
  /** The accounts whose loops are read, one Query each. */
  accounts: string[];
  /** The contexts the batch brings, by `contextKey`: they apply to its other events of those messages. */
  inBatch: Map<string, MessageContext>;
}

export function planBatch(events: QueuedEvent[]): BatchPlan {
  const inBatch = contextsInBatch(events);
  return {
    contextsToSave: [...inBatch].map(([key, context]) => {
      const [accountId, message] = splitContextKey(key);
      return { accountId, message, context };
    }),
    contextsToRead: events
      .filter(({ event }) => event.type !== 'sent')
      .map(({ accountId, event }) => ({ accountId, message: event.message }))
      .filter(({ accountId, message }) => !inBatch.has(contextKey(accountId, message))),
    accounts: [...new Set(events.map(({ accountId }) => accountId))],
    inBatch,
  };
}

/**
 * The client id an event claims before it goes on (docs/api.md §4): the first message to claim it owns it
 * for the idempotency window, and another message with that id is a duplicate, neither delivered
 * nor logged again. An id the service made needs no claim.
 */
export function claimOf(queued: QueuedEvent): { accountId: string; id: string; days: number } | undefined {
  if (!queued.idFromClient) return undefined;
  return { accountId: queued.accountId, id: queued.event.id, days: LIMITS.idempotencyWindowDays };
}

/**
 * An event that goes on, enriched from its message's context (the batch's own, else the stored one
 * in `stored`): its record in the log, and one delivery per loop of its account that takes it.
 * Every such event is logged, whether or not a loop takes it.
 */
export function fanOut(
  queued: QueuedEvent,
  plan: BatchPlan,
  stored: ReadonlyMap<string, MessageContext>,
  loops: readonly LoopRecord[],
): { log: FiledRecord; deliveries: QueuedDelivery[] } {
  const { accountId, event } = queued;
  const key = contextKey(accountId, event.message);
  const enriched = enrichedToFit(event, plan.inBatch.get(key) ?? stored.get(key));
  return {
    log: eventRecord(accountId, queued.receivedAt, enriched),
    deliveries: loops
      // A loop that a 410 disabled gets the delivery too: deliver records it as a failure to replay.
      .filter((loop) => deliveryDecision(loop, event.type) !== 'drop')
      .map((loop) => ({ accountId, loopId: loop.id, event: enriched })),
  };
}

/**
 * The event with its message's context filled in, as far as it still fits an SQS message with room
 * for its envelope (a delivery, a log message): otherwise with less of the context (its fields left
 * out), or as the event came, which ingest made sure fits.
 */
export function enrichedToFit(event: MailEvent, context: MessageContext | undefined): MailEvent {
  if (!context) return event;
  for (const candidate of [enrich(event, context), enrich(event, { ...context, fields: undefined })]) {
    if (Buffer.byteLength(JSON.stringify(candidate)) <= MAX_QUEUED_EVENT_BYTES) return candidate;
  }
  return event;
}
