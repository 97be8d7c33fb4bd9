import { describe, expect, it } from 'vitest';
import type { AttemptFailure } from '#shared/delivery/attempt.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { eventRecord, loopErrorRecord } from '#shared/logs/log-record.ts';
import { ACCOUNT_ID, NOW, loopRecord, mailEvent, queuedDelivery } from '../support/factories.ts';

describe('eventRecord: an accepted event in its file (docs/api.md §8)', () => {
  it.each([
    ['sent', 'sent'],
    ['delivery', 'deliveries'],
    ['open', 'opens'],
    ['click', 'clicks'],
    ['bounce', 'bounces'],
    ['failure', 'failures'],
    ['unsubscribe', 'unsubscribes'],
    ['abuse', 'abuses'],
  ] as const)('files a %s under %s, on the day it was accepted', (type, prefix) => {
    const event = mailEvent({ type, timestamp: '2026-11-19T23:00:00.000Z' });
    expect(eventRecord(ACCOUNT_ID, '2026-11-20T23:59:59.999Z', event)).toEqual({
      accountId: ACCOUNT_ID,
      date: '2026-11-20',
      prefix,
      record: toRecord(event),
    });
  });
});

describe('loopErrorRecord: a failed attempt in the loop-errors file (docs/api.md §5, §8)', () => {
  const loop = loopRecord();
  const event = mailEvent({ type: 'click' });
  const base = {
    time: Math.floor(NOW.getTime() / 1000),
    eventId: event.id,
    type: 'click',
    loopId: loop.id,
    url: loop.url,
  };

  it.each<[string, AttemptFailure, { status: number } | { error: string }]>([
    [
      'keeps the status of an answer',
      { ok: false, kind: 'status', status: 500, error: 'HTTP 500', durationMs: 1 },
      { status: 500 },
    ],
    [
      'keeps the words of a timeout',
      { ok: false, kind: 'timeout', error: 'timeout: no answer', durationMs: 1 },
      { error: 'timeout: no answer' },
    ],
    [
      'keeps the words of a refused connection',
      { ok: false, kind: 'connection', error: 'connection: ECONNREFUSED', durationMs: 1 },
      { error: 'connection: ECONNREFUSED' },
    ],
    [
      'keeps the words of a blocked address',
      { ok: false, kind: 'blocked', error: 'blocked: private', durationMs: 1 },
      { error: 'blocked: private' },
    ],
  ])('%s', (_case, failure, what) => {
    expect(loopErrorRecord(queuedDelivery(loop, event), loop, 2, failure, NOW)).toEqual({
      accountId: loop.accountId,
      date: '2026-11-21',
      prefix: 'loop-errors',
      record: { ...base, attempt: 2, ...what },
    });
  });

  it('numbers the attempt after those made before a replay', () => {
    const replay = queuedDelivery(loop, event, { replayOf: { failedAt: NOW.toISOString(), attempts: 4 } });
    const failure: AttemptFailure = { ok: false, kind: 'status', status: 502, error: 'HTTP 502', durationMs: 1 };
    expect(loopErrorRecord(replay, loop, 1, failure, NOW).record.attempt).toBe(5);
  });
});
