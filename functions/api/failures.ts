import { type FailureRecord, toFailureView } from '#shared/delivery/failure.ts';
import type { QueuedDelivery } from '#shared/events/messages.ts';
import type { ApiEvent, ApiResult } from '#shared/http/api-handler.ts';
import type { RequestOf } from '#shared/http/routes.ts';
import { receivesEvent } from '#shared/loops/loop.ts';
import { sendBatches } from '#shared/runtime/sqs-send.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { conflict, serviceUnavailable } from '#shared/http/errors.ts';
import { logger } from '#shared/runtime/logger.ts';
import { failuresToReplay, listFailures } from '#shared/store/failures.ts';
import { ownLoop } from './loops.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/**
 * A loop's failed deliveries (SPEC §3, §5): `GET …/failures` lists them, newest first;
 * `POST …/failures/replay` puts them back on the deliveries queue as they were (same `webhook-id`,
 * same body). A failure stays listed until its replay is delivered: deliver clears it then, and a
 * replay that fails again records it anew, with the attempts of both counted.
 */

export async function getFailures(
  event: ApiEvent,
  request: RequestOf<'GET /v1/loops/{loopId}/failures'>,
): Promise<ApiResult> {
  const loop = await ownLoop(event);
  const { limit, cursor } = request.page();
  const page = await listFailures(loop.accountId, loop.id, limit, cursor, clock.now());
  return {
    status: 200,
    body: {
      failures: page.items.map(toFailureView),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    },
  };
}

export async function replayFailures(
  event: ApiEvent,
  request: RequestOf<'POST /v1/loops/{loopId}/failures/replay'>,
): Promise<ApiResult> {
  const loop = await ownLoop(event);
  const { eventIds } = request.body();
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
