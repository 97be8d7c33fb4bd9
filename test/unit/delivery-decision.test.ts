import { describe, expect, it } from 'vitest';
import type { AttemptFailure, AttemptOutcome } from '#shared/delivery/attempt.ts';
import { afterAttempt, beforeAttempt, statusKey } from '#shared/delivery/decision.ts';
import { MAX_DELAY_SECONDS } from '#shared/delivery/retry-policy.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { loopRecord, mailEvent, queuedDelivery } from '../support/factories.ts';

const SCHEDULE = [10, 60, 300];
const LAST = SCHEDULE.length + 1;
/** No jitter: the schedule's planned delay exactly. */
const MIDDLE = () => 0.5;

const delivered: AttemptOutcome = { ok: true, status: 204, durationMs: 5 };
const status = (code: number, retryAfter?: number): AttemptFailure => ({
  ok: false,
  kind: 'status',
  status: code,
  error: `HTTP ${code}`,
  ...(retryAfter !== undefined ? { retryAfter } : {}),
  durationMs: 5,
});
const noAnswer = (kind: 'timeout' | 'connection' | 'blocked'): AttemptFailure => ({
  ok: false,
  kind,
  error: `${kind}: …`,
  durationMs: 5,
});

describe('beforeAttempt: the loop as it is now decides (docs/api.md §5)', () => {
  const gone = { status: 'disabled', disabledReason: 'HTTP 410 at 2026-11-21T10:00:00.000Z: gone' } as const;

  it.each<[string, Partial<LoopRecord> | undefined, string, ReturnType<typeof beforeAttempt>['action']]>([
    ['verified, enabled and subscribed', {}, 'open', 'send'],
    ['deleted', undefined, 'open', 'drop'],
    ['disabled by its account', { enabled: false }, 'open', 'drop'],
    ['unsubscribed from the type', { events: ['click'] }, 'open', 'drop'],
    ['unverified (its URL changed)', { status: 'unverified' }, 'open', 'drop'],
    ['disabled by a 410, still subscribed', gone, 'open', 'keep'],
    ['disabled by a 410, not subscribed to the type', { ...gone, events: ['click'] }, 'open', 'drop'],
    ['disabled by a 410, then by its account', { ...gone, enabled: false }, 'open', 'drop'],
  ])('a loop %s: %s → %s', (_case, overrides, type, action) => {
    const loop = overrides && loopRecord(overrides);
    expect(beforeAttempt(loop, type).action).toBe(action);
  });

  it('sends to the loop as it is now', () => {
    const loop = loopRecord();
    expect(beforeAttempt(loop, 'open')).toEqual({ action: 'send', loop });
  });

  it('keeps a delivery for a loop a 410 disabled with why it was not sent', () => {
    expect(beforeAttempt(loopRecord(gone), 'open')).toEqual({
      action: 'keep',
      error: `not sent: the loop is disabled (${gone.disabledReason})`,
    });
    expect(beforeAttempt(loopRecord({ status: 'disabled' }), 'open')).toEqual({
      action: 'keep',
      error: 'not sent: the loop is disabled (no reason given)',
    });
  });
});

describe('afterAttempt: the outcome decides (docs/api.md §5)', () => {
  const loop = loopRecord();
  const delivery = queuedDelivery(loop, mailEvent());

  it.each<[string, AttemptOutcome, number, ReturnType<typeof afterAttempt>]>([
    ['a 2xx', delivered, 1, { action: 'delivered' }],
    ['a 2xx on the last attempt', delivered, LAST, { action: 'delivered' }],
    ['a 500 on attempt 1', status(500), 1, { action: 'retry', afterSeconds: 10, failure: status(500) }],
    ['a 500 on attempt 3', status(500), 3, { action: 'retry', afterSeconds: 300, failure: status(500) }],
    ['a 500 on the last attempt', status(500), LAST, { action: 'record', failure: status(500) }],
    ['a redirect', status(302), 2, { action: 'retry', afterSeconds: 60, failure: status(302) }],
    ['a timeout', noAnswer('timeout'), 1, { action: 'retry', afterSeconds: 10, failure: noAnswer('timeout') }],
    ['a refused connection', noAnswer('connection'), LAST, { action: 'record', failure: noAnswer('connection') }],
    ['a blocked address', noAnswer('blocked'), 2, { action: 'retry', afterSeconds: 60, failure: noAnswer('blocked') }],
    ['a 410 on attempt 1', status(410), 1, { action: 'disable', failure: status(410) }],
    ['a 410 on the last attempt', status(410), LAST, { action: 'disable', failure: status(410) }],
    ['a 503 asking for 120 s', status(503, 120), 1, { action: 'retry', afterSeconds: 120, failure: status(503, 120) }],
    ['a 429 asking for 0 s', status(429, 0), 2, { action: 'retry', afterSeconds: 0, failure: status(429, 0) }],
    [
      'a 503 asking for a day',
      status(503, 86_400),
      1,
      { action: 'retry', afterSeconds: MAX_DELAY_SECONDS, failure: status(503, 86_400) },
    ],
    [
      'a 503 asking for 120 s on the last attempt',
      status(503, 120),
      LAST,
      { action: 'record', failure: status(503, 120) },
    ],
  ])('%s (attempt %i)', (_case, outcome, attempt, decision) => {
    expect(afterAttempt(delivery, outcome, attempt, SCHEDULE, MIDDLE)).toEqual(decision);
  });

  it('retries after the planned delay with ±10 % jitter', () => {
    const delay = (random: number) => afterAttempt(delivery, status(500), 2, SCHEDULE, () => random);
    expect(delay(0)).toMatchObject({ action: 'retry', afterSeconds: 54 });
    expect(delay(1)).toMatchObject({ action: 'retry', afterSeconds: 66 });
  });

  it('clears the replayed failure once a replay is delivered', () => {
    const replay = { ...delivery, replayOf: { failedAt: '2026-11-20T00:00:00.000Z', attempts: LAST } };
    expect(afterAttempt(replay, delivered, 1, SCHEDULE)).toEqual({
      action: 'delivered',
      clearsFailedAt: '2026-11-20T00:00:00.000Z',
    });
    expect(afterAttempt(replay, status(500), 1, SCHEDULE, MIDDLE)).toMatchObject({ action: 'retry' });
  });
});

describe('statusKey: what the summary line counts an attempt under', () => {
  it.each<[string, AttemptOutcome, number | string]>([
    ['a 2xx', delivered, 204],
    ['another status', status(500), 500],
    ['a 410', status(410), 410],
    ['a timeout', noAnswer('timeout'), 'timeout'],
    ['a refused connection', noAnswer('connection'), 'connection'],
    ['a blocked address', noAnswer('blocked'), 'blocked'],
  ])('%s → %s', (_case, outcome, key) => {
    expect(statusKey(outcome)).toBe(key);
  });
});
