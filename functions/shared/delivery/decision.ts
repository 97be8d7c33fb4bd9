import type { QueuedDelivery } from '#shared/events/messages.ts';
import { deliveryDecision, type LoopRecord } from '#shared/loops/loop.ts';
import type { AttemptFailure, AttemptOutcome } from './attempt.ts';
import { nextRetryDelay } from './retry-policy.ts';

/**
 * What deliver does with a queued delivery (docs/api.md §5), decided without AWS: first by the loop as it
 * is now, then by the outcome of the attempt. deliver carries the decision out.
 */

/** Before any POST, by the loop as it is now. */
export type BeforeAttempt =
  /** The loop takes the delivery: POST it. */
  | { action: 'send'; loop: LoopRecord }
  /** A loop that a 410 disabled keeps what it misses as a failure (without an attempt), for its replay. */
  | { action: 'keep'; error: string }
  /** The account chose (deleted, disabled, unsubscribed, re-pointed): nothing is sent or kept. */
  | { action: 'drop' };

/** loops/loop.ts's `deliveryDecision` (the rule fanout and dead-letters ask too), as deliver carries it out. */
export function beforeAttempt(loop: LoopRecord | undefined, type: string): BeforeAttempt {
  const decision = deliveryDecision(loop, type);
  if (!loop || decision === 'drop') return { action: 'drop' };
  if (decision === 'send') return { action: 'send', loop };
  return { action: 'keep', error: `not sent: the loop is disabled (${loop.disabledReason ?? 'no reason given'})` };
}

/** After the attempt, by its outcome. */
export type AfterAttempt =
  /** 2xx: done; a replay also leaves the loop's failures (the failure of `clearsFailedAt` it replays). */
  | { action: 'delivered'; clearsFailedAt?: string }
  /** The message comes back after this many seconds, with the same webhook-id. */
  | { action: 'retry'; afterSeconds: number; failure: AttemptFailure }
  /** The schedule is spent: the delivery is recorded under the loop's failures. */
  | { action: 'record'; failure: AttemptFailure }
  /** 410 Gone: the loop is disabled at once and the delivery recorded as a failure. */
  | { action: 'disable'; failure: AttemptFailure };

/**
 * `attempt` is the 1-based number of this attempt in the delivery's schedule (SQS's receive
 * count); `schedule` the delays after each failed one, in seconds.
 */
export function afterAttempt(
  delivery: QueuedDelivery,
  outcome: AttemptOutcome,
  attempt: number,
  schedule: number[],
  random: () => number = Math.random,
): AfterAttempt {
  if (outcome.ok) {
    return { action: 'delivered', ...(delivery.replayOf ? { clearsFailedAt: delivery.replayOf.failedAt } : {}) };
  }
  if (outcome.kind === 'status' && outcome.status === 410) return { action: 'disable', failure: outcome };
  const retryAfter = outcome.kind === 'status' ? outcome.retryAfter : undefined;
  const afterSeconds = nextRetryDelay(schedule, attempt, retryAfter, random);
  return afterSeconds === undefined
    ? { action: 'record', failure: outcome }
    : { action: 'retry', afterSeconds, failure: outcome };
}

/** What the summary line counts an attempt under: its status, or without one its kind (`timeout` …). */
export function statusKey(outcome: AttemptOutcome): number | string {
  return outcome.ok || outcome.kind === 'status' ? outcome.status : outcome.kind;
}
