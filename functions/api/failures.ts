import { type FailureRecord, toFailureView } from '#shared/delivery/failure.ts';
import type { QueuedDelivery } from '#shared/events/messages.ts';
import type { ApiEvent, ApiResult } from '#shared/http/api-handler.ts';
import type { RequestOf } from '#shared/http/routes.ts';
import { sendBatches } from '#shared/runtime/sqs-send.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { conflict, serviceUnavailable } from '#shared/http/errors.ts';
import { logger } from '#shared/runtime/logger.ts';
import {
  failuresToReplay,
  listFailures,
  markReplayQueued,
  releaseReplay,
  saveReplayResume,
} from '#shared/store/failures.ts';
import { countCheck } from '#shared/store/rate-limits.ts';
import { ownLoop } from './loops.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/**
 * A loop's failed deliveries (docs/api.md §3, §5): `GET …/failures` lists them, newest first;
 * `POST …/failures/replay` puts them back on the deliveries queue as they were (same `webhook-id`,
 * same body). A failure stays listed until its replay is delivered: deliver clears it then, and a
 * replay that fails again records it anew, with the attempts of both counted.
 *
 * A replay marks each failure it queues (a conditional write), so that another replay while that one
 * is in flight — a client's retry, five at once — does not queue it again. One request does bounded
 * work: at most REPLAY_PER_REQUEST failures and a few seconds of reading and marking; when more are left the
 * answer says `"more": true` and the next request goes on where this one stopped (the failures it
 * queued are marked, so it skips them). Replays count against the limits of verify and test.
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
  const now = clock.now();
  await countCheck(loop, now);
  const started = Date.now();
  const deadline = started + WORK_BUDGET_MS;
  const found = await failuresToReplay(loop.accountId, loop.id, loop.events, eventIds, {
    max: REPLAY_PER_REQUEST,
    deadline: started + WORK_BUDGET_MS / 2,
    now,
  });
  // A chunk at a time, each marked and then queued, until the budget is spent.
  let replayed = 0;
  let done = 0;
  while (done < found.failures.length && Date.now() < deadline) {
    const chunk = found.failures.slice(done, done + CHUNK);
    done += chunk.length;
    const claimed = await claimAll(chunk, now);
    await queueReplays(claimed, replayed);
    replayed += claimed.length;
  }
  const more = found.more || done < found.failures.length;
  if (!eventIds) {
    // The next request goes on after what this one took care of; a pass at its end starts afresh.
    const after = done < found.failures.length ? found.failures[done - 1]?.eventId : found.readUpTo;
    if (!more || after !== undefined) await saveReplayResume(loop.accountId, loop.id, more ? after : undefined, now);
  }
  logger.info('Failures replayed', { loopId: loop.id, replayed, looked: done, more, durationMs: Date.now() - started });
  return { status: 202, body: { replayed, ...(more ? { more: true } : {}) } };
}

/**
 * At most this many failures per request: each costs a conditional write and a tenth of an SQS call,
 * about a second for all of them on DynamoDB and SQS.
 */
export const REPLAY_PER_REQUEST = 1000;

/**
 * A request reads (for half of it), marks and queues for this long (ms) at most, then answers with
 * what it did, well within the api function's 15 s: one chunk more may be under way when it runs out.
 */
const WORK_BUDGET_MS = 4000;

/** Failures marked, then queued, at a time. */
const CHUNK = 50;

/** Conditional writes in flight at once. */
const PARALLEL_MARKS = 25;

/** Marks the failures as queued by this request: those it marked (no other replay took them first). */
async function claimAll(failures: FailureRecord[], now: Date): Promise<FailureRecord[]> {
  const claimed: FailureRecord[] = [];
  let next = 0;
  const worker = async () => {
    while (next < failures.length) {
      const failure = failures[next++]!;
      if (await markReplayQueued(failure, now)) claimed.push(failure);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_MARKS, failures.length) }, worker));
  return claimed;
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
async function queueReplays(failures: FailureRecord[], queuedBefore: number): Promise<void> {
  const notSent = await sendBatches(
    requireEnv(ENV.DELIVERIES_QUEUE_URL),
    failures.map((failure) => ({ body: JSON.stringify(replayOf(failure)), failure })),
    { resendOnce: true, parallelCalls: PARALLEL_CALLS },
  );
  if (!notSent.length) return;
  logger.error('Replays could not be queued', { replays: notSent.length, error: String(notSent[0]!.reason) });
  // Unmarked, so that the retry the answer asks for queues them.
  await Promise.all(
    notSent.map(({ message: { failure } }) =>
      releaseReplay(failure.accountId, failure.loopId, failure.eventId, failure.failedAt),
    ),
  );
  const queued = queuedBefore + failures.length - notSent.length;
  throw serviceUnavailable(
    `The failures could not all be queued just now: ${queued} were, ${notSent.length} may not have been; ` +
      'replay again shortly (what was queued is not queued twice).',
  );
}
