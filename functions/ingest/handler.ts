import { RefusedBySqs, sendBatches } from '#shared/runtime/sqs-send.ts';
import { MAX_QUEUED_EVENT_BYTES } from '#shared/runtime/sqs-limits.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { payloadTooLarge, serviceUnavailable } from '#shared/http/errors.ts';
import { LIMITS, type MailEvent, parseEventBatch } from '#shared/events/mail-event.ts';
import { apiHandler, readJsonBody, requireAccount } from '#shared/http/api-handler.ts';
import { logger } from '#shared/runtime/logger.ts';
import type { QueuedEvent } from '#shared/events/messages.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const EVENTS_QUEUE_URL = requireEnv(ENV.EVENTS_QUEUE_URL);

/** SQS gets the function's time but this much: a slow SQS is answered 503, not cut off by the timeout (a 500). */
const ANSWER_MARGIN_MS = 2000;

/** POST /v1/events: all or nothing. Every event is validated before any is queued. */
export const handler = apiHandler(async (event, context) => {
  const { accountId } = requireAccount(event);
  const receivedAt = clock.now();
  const payload = readJsonBody(event, LIMITS.maxRequestBytes);
  const events = parseEventBatch(payload, receivedAt);
  const clientIds = clientIdsOf(payload);
  const isBatch = Object.hasOwn(payload as object, 'events');
  await enqueue(
    isBatch,
    events.map((mailEvent): QueuedEvent => ({
      accountId,
      receivedAt: receivedAt.toISOString(),
      event: mailEvent,
      ...(clientIds.has(mailEvent.id) ? { idFromClient: true } : {}),
    })),
    AbortSignal.timeout(Math.max(0, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS)),
  );
  logger.info('Events accepted', { accountId, accepted: events.length });
  return { status: 202, body: { accepted: events.length, ids: events.map((e: MailEvent) => e.id) } };
});

/** The ids the client gave (a valid request's): they are idempotency keys, the ones we assign are not. */
function clientIdsOf(payload: unknown): Set<string> {
  const body = payload as { id?: unknown; events?: { id?: unknown }[] };
  const events = Array.isArray(body.events) ? body.events : [body];
  return new Set(events.flatMap((event) => (typeof event.id === 'string' ? [event.id] : [])));
}

async function enqueue(isBatch: boolean, messages: QueuedEvent[], deadline: AbortSignal): Promise<void> {
  const outgoing = messages.map((message, index) => ({
    body: JSON.stringify(message),
    eventId: message.event.id,
    index,
  }));
  // Checked before anything is sent, so that the request stays all or nothing.
  for (const { body, eventId } of outgoing) {
    const bytes = Buffer.byteLength(body);
    if (bytes > MAX_QUEUED_EVENT_BYTES) {
      throw payloadTooLarge(
        `Event ${eventId} takes ${bytes} bytes once queued; an event may take at most ${MAX_QUEUED_EVENT_BYTES}.`,
      );
    }
  }
  // What SQS refuses is sent once more; what still fails is an outage.
  const notSent = await sendBatches(EVENTS_QUEUE_URL, outgoing, { resendOnce: true, abortSignal: deadline });
  if (!notSent.length) return;
  logger.error('Queueing events failed', { events: notSent.length, error: String(notSent[0]!.reason) });
  const fates = new Map(notSent.map(({ message, reason }) => [message.index, fateOf(reason)]));
  throw partlyQueued(
    isBatch,
    outgoing.map(({ eventId, index }) => ({ eventId, index, fate: fates.get(index) ?? 'queued' })),
  );
}

/**
 * What became of an event SQS did not confirm: refused (not queued), or the call failed or ran out
 * of time on our side, when SQS may well have taken it (a send that completed after we gave up).
 */
type Fate = 'queued' | 'not-queued' | 'unknown';
const fateOf = (reason: unknown): Fate => (reason instanceof RefusedBySqs ? 'not-queued' : 'unknown');

const SAID: Record<Fate, (id: string) => string> = {
  queued: (id) => `was queued as ${id}: do not send it again`,
  'not-queued': (id) => `was not queued (${id}): send it again`,
  unknown: (id) =>
    `may have been queued as ${id}: SQS did not answer in time; sent again it may be delivered twice ` +
    'unless it had your own id',
};

/**
 * The 503 of a request some of whose events may be queued (docs/api.md §4: an accepted event is never
 * lost, so the answer must not say none was): how many of each, and each event's fate in `details`.
 */
function partlyQueued(isBatch: boolean, events: { eventId: string; index: number; fate: Fate }[]) {
  const count = (fate: Fate) => events.filter((event) => event.fate === fate).length;
  const [queued, notQueued, unknown] = [count('queued'), count('not-queued'), count('unknown')];
  const message =
    unknown === 0 && queued === 0
      ? 'The events could not be queued just now, none of them: send them again shortly.'
      : `Not all events could be confirmed as queued just now: ${queued} were queued, ${unknown} may have been ` +
        `and ${notQueued} were not (each is said in details); send again only those that were not.`;
  return serviceUnavailable(
    message,
    events.map(({ eventId, index, fate }) => ({
      path: isBatch ? `events[${index}]` : '(body)',
      message: SAID[fate](eventId),
    })),
  );
}
