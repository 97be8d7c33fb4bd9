import type { AnyEventType } from '#shared/events/event-types.ts';

/**
 * A feedback loop as stored, and the rules of its life: who receives what, which secrets sign,
 * and how its status changes. Each rule lives here once; the API, fanout and deliver call it.
 */

export type LoopStatus = 'unverified' | 'verified' | 'disabled';
export type BodyFormat = 'form' | 'json';

export interface LoopSecret {
  value: string;
  /** Set on the previous secret during a rotation: it signs alongside until then. */
  expiresAt?: string;
}

export interface LoopVerification {
  file: string;
  content: string;
  /** The scheduled re-check gives up after this (7 days after creation or a URL change). */
  checkUntil: string;
  lastCheckedAt?: string;
  lastError?: string;
  /** How many checks in a row found a location that did not answer in time (the re-check backs off). */
  timeouts?: number;
}

export interface LoopRecord {
  id: string;
  accountId: string;
  url: string;
  events: AnyEventType[];
  format: BodyFormat;
  description: string;
  enabled: boolean;
  status: LoopStatus;
  disabledReason?: string;
  /** The current secret first; during a rotation the previous one follows, with its expiry. */
  secrets: LoopSecret[];
  verification: LoopVerification;
  createdAt: string;
  updatedAt: string;
}

/** docs/api.md §3: after a rotation the previous secret keeps signing for 24 hours. */
export const PREVIOUS_SECRET_VALID_MS = 24 * 60 * 60 * 1000;

/**
 * docs/api.md §5: only loops that are verified, enabled and subscribed to the event's type receive it.
 * fanout asks before queueing a delivery and deliver asks again before each attempt, so that a
 * change (unsubscribed, disabled, deleted, re-pointed) stops queued deliveries too.
 */
export function receivesEvent(loop: LoopRecord | undefined, type: string): loop is LoopRecord {
  return !!loop && loop.status === 'verified' && loop.enabled && (loop.events as string[]).includes(type);
}

/**
 * A loop that a 410 disabled (its account did not: it is still enabled and subscribed) keeps what
 * it misses as failures, so that a replay sends them once it is back (docs/api.md §5: nothing is POSTed).
 */
export function keepsForReplay(loop: LoopRecord | undefined, type: string): loop is LoopRecord {
  return !!loop && loop.status === 'disabled' && loop.enabled && (loop.events as string[]).includes(type);
}

/**
 * What becomes of an event of this type for this loop: the one rule that fanout (queue a delivery
 * or not), deliver (before each attempt) and dead-letters (which loops an event that never fanned
 * out was for) ask alike.
 *   send             the loop receives it (receivesEvent);
 *   keep-for-replay  a 410 disabled the loop: the delivery is recorded as a failure, unsent, so
 *                    that a replay sends it once the receiver is back (keepsForReplay);
 *   drop             the account chose (deleted, disabled, unverified, unsubscribed): nothing.
 */
export type DeliveryDecision = 'send' | 'keep-for-replay' | 'drop';

export function deliveryDecision(loop: LoopRecord | undefined, type: string): DeliveryDecision {
  if (receivesEvent(loop, type)) return 'send';
  if (keepsForReplay(loop, type)) return 'keep-for-replay';
  return 'drop';
}

/** The secrets that sign at `now`: the current one, and the previous one until its expiry. */
export function activeSecrets(loop: LoopRecord, now: Date): string[] {
  return loop.secrets
    .filter((secret) => !secret.expiresAt || Date.parse(secret.expiresAt) > now.getTime())
    .map((secret) => secret.value);
}

/** The loop with a new current secret; the previous one signs alongside for 24 hours. */
export function withRotatedSecret(loop: LoopRecord, secret: string, now: Date): LoopRecord {
  const expiresAt = new Date(now.getTime() + PREVIOUS_SECRET_VALID_MS).toISOString();
  return {
    ...loop,
    secrets: [{ value: secret }, { value: loop.secrets[0]!.value, expiresAt }],
    updatedAt: now.toISOString(),
  };
}

export interface LoopChange {
  url?: string;
  events?: AnyEventType[];
  format?: BodyFormat;
  description?: string;
  enabled?: boolean;
}

/**
 * The loop after an account's change. A new URL must be proven again, with a new file (the old
 * one proved the old server); enabling a loop that a 410 disabled makes it verified again, since
 * its URL and verification still stand.
 */
export function withChange(
  previous: LoopRecord,
  change: LoopChange,
  now: Date,
  newVerification: (now: Date) => LoopVerification,
): LoopRecord {
  const { disabledReason: _disabledReason, ...rest } = previous;
  const changed: LoopRecord = { ...previous, ...change, updatedAt: now.toISOString() };
  if (change.url !== undefined && change.url !== previous.url) {
    return {
      ...rest,
      ...change,
      status: 'unverified',
      verification: newVerification(now),
      updatedAt: changed.updatedAt,
    };
  }
  if (change.enabled === true && previous.status === 'disabled') {
    return { ...rest, ...change, status: 'verified', updatedAt: changed.updatedAt };
  }
  return changed;
}

/** The loop after its receiver answered 410 Gone (docs/api.md §5): disabled at once, saying when and why. */
export function withGone(loop: LoopRecord, answer: string, now: Date): LoopRecord {
  return {
    ...loop,
    status: 'disabled',
    disabledReason: `${answer} at ${now.toISOString()}: the receiver says it is gone. Enable the loop again once it is back.`,
    updatedAt: now.toISOString(),
  };
}
