import type { QueuedDelivery } from '#shared/events/messages.ts';

/** A failure as `GET /v1/loops/{id}/failures` shows it. */
export interface FailureView {
  eventId: string;
  type: string;
  failedAt: string;
  /** Every attempt made, replays included. */
  attempts: number;
  lastStatus?: number;
  lastError: string;
}

/**
 * A delivery that gave up (docs/api.md §3, §5): its retry schedule was spent, the receiver answered
 * 410 Gone, or the delivery function kept failing on it. Kept 14 days under its loop, with the
 * queued delivery itself, so that a replay sends the same `webhook-id` and body.
 */
export interface FailureRecord extends FailureView {
  accountId: string;
  loopId: string;
  delivery: QueuedDelivery;
}

/** docs/api.md §3: failures are kept 14 days. */
export const FAILURE_RETENTION_DAYS = 14;

export function toFailureView(failure: FailureRecord): FailureView {
  return {
    eventId: failure.eventId,
    type: failure.type,
    failedAt: failure.failedAt,
    attempts: failure.attempts,
    ...(failure.lastStatus !== undefined ? { lastStatus: failure.lastStatus } : {}),
    lastError: failure.lastError,
  };
}

/** The failure of a delivery after `attempts` attempts in this schedule (plus those before a replay). */
export function failureRecord(
  delivery: QueuedDelivery,
  attempts: number,
  last: { status?: number; error: string },
  now: Date,
): FailureRecord {
  const { replayOf: _replayOf, ...original } = delivery;
  return {
    accountId: delivery.accountId,
    loopId: delivery.loopId,
    eventId: delivery.event.id,
    type: delivery.event.type,
    failedAt: now.toISOString(),
    attempts: (delivery.replayOf?.attempts ?? 0) + attempts,
    ...(last.status !== undefined ? { lastStatus: last.status } : {}),
    lastError: last.error,
    delivery: original,
  };
}
