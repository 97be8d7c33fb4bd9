import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { sqs } from '#shared/runtime/sqs.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { ApiError, payloadTooLarge } from '#shared/http/errors.ts';
import { LIMITS, type MailEvent, parseEventBatch } from '#shared/events/mail-event.ts';
import { apiHandler, readJsonBody, requireAccount } from '#shared/http/api-handler.ts';
import { logger } from '#shared/runtime/logger.ts';
import type { QueuedEvent } from '#shared/events/messages.ts';

const EVENTS_QUEUE_URL = requireEnv('EVENTS_QUEUE_URL');

/** SQS takes at most 10 messages and 256 KiB per batch. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
/** An event once queued, with room left for the envelopes fanout puts it in (a delivery, a log message). */
const MAX_EVENT_BYTES = MAX_BATCH_BYTES - 1024;
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
      ...(clientIds.has(mailEvent.id) ? { clientId: true } : {}),
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
  const entries = messages.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) }));
  // Checked before anything is sent, so that the request stays all or nothing.
  entries.forEach((entry, index) => {
    const bytes = Buffer.byteLength(entry.MessageBody);
    if (bytes > MAX_EVENT_BYTES) {
      throw payloadTooLarge(
        `Event ${messages[index]!.event.id} takes ${bytes} bytes once queued; an event may take at most ${MAX_EVENT_BYTES}.`,
      );
    }
  });
  const batches: SendMessageBatchRequestEntry[][] = [];
  let batchBytes = 0;
  for (const entry of entries) {
    const bytes = Buffer.byteLength(entry.MessageBody);
    const batch = batches.at(-1);
    if (!batch || batch.length === MAX_BATCH_ENTRIES || batchBytes + bytes > MAX_BATCH_BYTES) {
      batches.push([entry]);
      batchBytes = bytes;
    } else {
      batch.push(entry);
      batchBytes += bytes;
    }
  }
  await Promise.all(batches.map((batch) => sendBatch(batch, deadline)));
}

/** The work, or the deadline's reason once it passes (whether or not the work heeds the signal). */
function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_resolve, reject) => {
      if (deadline.aborted) reject(deadline.reason as Error);
      deadline.addEventListener('abort', () => reject(deadline.reason as Error), { once: true });
    }),
  ]);
}

/** Sends one batch, retrying the entries SQS refused once; what still fails is an outage (503). */
async function sendBatch(
  entries: SendMessageBatchRequestEntry[],
  deadline: AbortSignal,
  retried = false,
): Promise<void> {
  let failedIds: string[];
  try {
    const command = new SendMessageBatchCommand({ QueueUrl: EVENTS_QUEUE_URL, Entries: entries });
    const result = await beforeDeadline(sqs.send(command, { abortSignal: deadline }), deadline);
    failedIds = (result.Failed ?? []).map((failure) => failure.Id!);
  } catch (error) {
    logger.error('Queueing events failed', error as Error);
    failedIds = entries.map((entry) => entry.Id!);
  }
  if (!failedIds.length) return;
  if (!retried && !deadline.aborted)
    return sendBatch(
      entries.filter((entry) => failedIds.includes(entry.Id!)),
      deadline,
      true,
    );
  throw new ApiError(
    503,
    'service_unavailable',
    'Events could not be queued just now; send them again (ids make that safe).',
    {
      headers: { 'retry-after': '5' },
    },
  );
}
