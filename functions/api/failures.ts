import * as z from 'zod';
import { type FailureRecord, toFailureView } from '#shared/delivery/failure.ts';
import { EVENT_ID_PATTERN, EVENT_ID_RULE } from '#shared/events/mail-event.ts';
import type { QueuedDelivery } from '#shared/events/messages.ts';
import type { ApiEvent, ApiResult } from '#shared/http/api-handler.ts';
import { receivesEvent } from '#shared/loops/loop.ts';
import { sendBatches } from '#shared/runtime/sqs-send.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { conflict, serviceUnavailable } from '#shared/http/errors.ts';
import { logger } from '#shared/runtime/logger.ts';
import { parseRequest } from '#shared/http/validation.ts';
import { failuresToReplay, listFailures } from '#shared/store/failures.ts';
import { ownLoop } from './loops.ts';
import { pageParams, readBody } from './request.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/**
 * A loop's failed deliveries (SPEC §3, §5): `GET …/failures` lists them, newest first;
 * `POST …/failures/replay` puts them back on the deliveries queue as they were (same `webhook-id`,
 * same body). A failure stays listed until its replay is delivered: deliver clears it then, and a
 * replay that fails again records it anew, with the attempts of both counted.
 */

export const MAX_REPLAY_IDS = 1000;

export const failureSchema = z
  .object({
    eventId: z.string(),
    type: z.string(),
    failedAt: z.string().describe('When the delivery gave up (its last attempt, or a 410).'),
    attempts: z.number().int().describe('Every attempt made, those of earlier replays included.'),
    lastStatus: z.number().int().optional().describe("The receiver's status at the last attempt, when it answered."),
    lastError: z.string().describe('What went wrong at the last attempt.'),
  })
  .describe('A delivery that exhausted its retries or met a 410 Gone; kept 14 days');

export const failureListSchema = z.object({ failures: z.array(failureSchema), nextCursor: z.string().optional() });

export const replayRequestSchema = z
  .strictObject({
    eventIds: z
      .array(z.string().regex(EVENT_ID_PATTERN, { error: `must be an event id: ${EVENT_ID_RULE}` }))
      .min(1)
      .max(MAX_REPLAY_IDS)
      .optional()
      .describe(`Replay only the failures of these events (1 to ${MAX_REPLAY_IDS} ids); ids without one are skipped.`),
  })
  .describe("Which failures to replay; no body (or {}) replays all of the loop's failures");

export const replayedSchema = z
  .object({ replayed: z.number().int().describe('How many failures were queued for delivery again.') })
  .describe('The failures are queued; each leaves the list once its replay is delivered');

export async function getFailures(event: ApiEvent): Promise<ApiResult> {
  const loop = await ownLoop(event);
  const { limit, cursor } = pageParams(event);
  const page = await listFailures(loop.accountId, loop.id, limit, cursor, clock.now());
  return {
    status: 200,
    body: {
      failures: page.items.map(toFailureView),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    },
  };
}

export async function replayFailures(event: ApiEvent): Promise<ApiResult> {
  const loop = await ownLoop(event);
  const { eventIds } = parseRequest(replayRequestSchema, replayBody(event));
  // deliver sends only to verified, enabled loops; a disabled loop would just record them again.
  if (loop.status !== 'verified' || !loop.enabled) {
    throw conflict(
      'loop_not_active',
      loop.status === 'unverified'
        ? 'The loop is not verified, so its failures cannot be delivered: verify it first.'
        : 'The loop is disabled, so its failures would only be recorded again: enable the loop first.',
    );
  }
  const found = await failuresToReplay(loop.accountId, loop.id, eventIds, clock.now());
  // deliver drops what the loop no longer subscribes to, so those are neither queued nor counted.
  const failures = found.filter((failure) => receivesEvent(loop, failure.type));
  await queueReplays(failures);
  logger.info('Failures replayed', {
    loopId: loop.id,
    replayed: failures.length,
    skipped: found.length - failures.length,
  });
  return { status: 202, body: { replayed: failures.length } };
}

/** The body is optional: none at all means `{}` (replay everything). One that is there must be JSON. */
function replayBody(event: ApiEvent): unknown {
  return event.body === undefined || event.body === null || event.body === '' ? {} : readBody(event);
}

/** The delivery as it was queued the first time, marked as the replay of this failure. */
export function replayOf(failure: FailureRecord): QueuedDelivery {
  return { ...failure.delivery, replayOf: { failedAt: failure.failedAt, attempts: failure.attempts } };
}

/** SendMessageBatch calls in flight at once. */
const PARALLEL_CALLS = 10;

/**
 * Puts the replays on the deliveries queue, ten (and at most 256 KiB) to a call, several calls side
 * by side. Entries SQS refuses are sent once more; any still refused make the request fail (503).
 */
async function queueReplays(failures: FailureRecord[]): Promise<void> {
  const notSent = await sendBatches(
    requireEnv(ENV.DELIVERIES_QUEUE_URL),
    failures.map((failure) => ({ body: JSON.stringify(replayOf(failure)) })),
    { resendOnce: true, parallelCalls: PARALLEL_CALLS },
  );
  if (!notSent.length) return;
  logger.error('Replays could not be queued', { replays: notSent.length, error: String(notSent[0]!.reason) });
  throw serviceUnavailable('The failures could not all be queued just now (some may have been); try again shortly.');
}
