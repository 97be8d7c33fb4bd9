import { sendBatches } from '#shared/runtime/sqs-send.ts';
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
  await enqueue(
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

async function enqueue(messages: QueuedEvent[], deadline: AbortSignal): Promise<void> {
  const outgoing = messages.map((message) => ({ body: JSON.stringify(message), eventId: message.event.id }));
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
  throw serviceUnavailable('Events could not be queued just now; send them again (ids make that safe).');
}
