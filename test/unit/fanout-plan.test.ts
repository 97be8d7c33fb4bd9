import { describe, expect, it } from 'vitest';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { contextKey, type MessageContext } from '#shared/events/enrichment.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { MAX_QUEUED_EVENT_BYTES } from '#shared/runtime/sqs-limits.ts';
import { claimOf, enrichedToFit, fanOut, planBatch } from '../../functions/fanout/plan.ts';
import { ACCOUNT_ID, loopRecord, mailEvent, queuedEvent, sentEvent } from '../support/factories.ts';

const OTHER_ACCOUNT = 'acc_01JDTEST0000000000000000BB';
const CONTEXT = {
  recipient: 'jane@example.com',
  profile: 'profile-1',
  fields: { firstname: 'Jane', plan: 'pro' },
  tags: ['news', 'nov'],
};

describe('planBatch: what the batch stores and reads (docs/api.md §4)', () => {
  it('stores the context of each message a sent brings, the later sent of one message winning', () => {
    const earlier = sentEvent({ message: 'm-1', profile: 'earlier', timestamp: '2026-11-21T08:00:00.000Z' });
    const later = sentEvent({ message: 'm-1', profile: 'later', timestamp: '2026-11-21T09:00:00.000Z' });
    const other = sentEvent({ message: 'm 2', recipient: 'joe@example.com' });
    const plan = planBatch([
      queuedEvent(later),
      queuedEvent(earlier),
      queuedEvent(other, { accountId: OTHER_ACCOUNT }),
    ]);

    expect(plan.contextsToSave).toEqual([
      { accountId: ACCOUNT_ID, message: 'm-1', context: { ...CONTEXT, profile: 'later' } },
      { accountId: OTHER_ACCOUNT, message: 'm 2', context: { ...CONTEXT, recipient: 'joe@example.com' } },
    ]);
  });

  it('reads the contexts of the other events’ messages only where the batch brings none', () => {
    const plan = planBatch([
      queuedEvent(mailEvent({ type: 'open', message: 'm-1' })),
      queuedEvent(sentEvent({ message: 'm-1' })),
      queuedEvent(mailEvent({ type: 'click', message: 'm-3' })),
      queuedEvent(mailEvent({ type: 'open', message: 'm-1' }), { accountId: OTHER_ACCOUNT }),
      queuedEvent(sentEvent({ message: 'm-4' })),
    ]);

    expect(plan.contextsToRead).toEqual([
      { accountId: ACCOUNT_ID, message: 'm-3' },
      { accountId: OTHER_ACCOUNT, message: 'm-1' },
    ]);
    expect([...plan.inBatch.keys()]).toEqual([contextKey(ACCOUNT_ID, 'm-1'), contextKey(ACCOUNT_ID, 'm-4')]);
  });

  it("reads each account's loops once", () => {
    const plan = planBatch([queuedEvent(), queuedEvent(), queuedEvent(mailEvent(), { accountId: OTHER_ACCOUNT })]);
    expect(plan.accounts).toEqual([ACCOUNT_ID, OTHER_ACCOUNT]);
  });

  it('stores and reads nothing for an empty batch', () => {
    expect(planBatch([])).toEqual({ contextsToSave: [], contextsToRead: [], accounts: [], inBatch: new Map() });
  });
});

describe('claimOf: an event with a client id claims it first (docs/api.md §4)', () => {
  it.each([
    ['a client id', { idFromClient: true }, { accountId: ACCOUNT_ID, id: 'client-1', days: 7 }],
    ['an id the service made', {}, undefined],
    ['idFromClient false', { idFromClient: false }, undefined],
  ])('%s', (_case, overrides, claim) => {
    expect(claimOf(queuedEvent(mailEvent({ id: 'client-1' }), overrides))).toEqual(claim);
  });
});

describe('fanOut: the log record and the deliveries of an event that goes on (ARCHITECTURE.md; docs/api.md §5)', () => {
  const gone = { status: 'disabled', disabledReason: 'HTTP 410 at …' } as const;

  it.each<[string, Partial<LoopRecord>, boolean]>([
    ['verified, enabled and subscribed', {}, true],
    ['unverified', { status: 'unverified' }, false],
    ['disabled by its account', { enabled: false }, false],
    ['disabled by a 410 (deliver keeps it as a failure to replay)', gone, true],
    ['disabled by a 410 and by its account', { ...gone, enabled: false }, false],
    ['unsubscribed from the type', { events: ['click'] }, false],
    ['disabled by a 410, unsubscribed from the type', { ...gone, events: ['click'] }, false],
  ])('a loop %s gets a delivery: %s', (_case, overrides, gets) => {
    const loop = loopRecord(overrides);
    const queued = queuedEvent(mailEvent({ type: 'open' }));
    const { deliveries } = fanOut(queued, planBatch([queued]), new Map(), [loop]);
    expect(deliveries).toEqual(gets ? [{ accountId: ACCOUNT_ID, loopId: loop.id, event: queued.event }] : []);
  });

  it('logs the event whether or not a loop takes it, in the file of its type and accepted day', () => {
    const queued = queuedEvent(mailEvent({ type: 'click' }), { receivedAt: '2026-11-20T23:59:59.000Z' });
    expect(fanOut(queued, planBatch([queued]), new Map(), [])).toEqual({
      log: { accountId: ACCOUNT_ID, date: '2026-11-20', prefix: 'clicks', record: toRecord(queued.event) },
      deliveries: [],
    });
  });

  it("enriches from the batch's own context before a stored one, and the delivery and log alike", () => {
    const open = queuedEvent(mailEvent({ type: 'open', message: 'm-1' }));
    const plan = planBatch([open, queuedEvent(sentEvent({ message: 'm-1' }))]);
    const stored = new Map<string, MessageContext>([
      [contextKey(ACCOUNT_ID, 'm-1'), { recipient: 'stale@example.com' }],
    ]);
    const loop = loopRecord();

    const { log, deliveries } = fanOut(open, plan, stored, [loop]);
    const enriched = { ...open.event, ...CONTEXT };
    expect(deliveries).toEqual([{ accountId: ACCOUNT_ID, loopId: loop.id, event: enriched }]);
    expect(log.record).toEqual(toRecord(enriched));
  });

  it('enriches from the stored context of a message the batch brings none of', () => {
    const open = queuedEvent(mailEvent({ type: 'open', message: 'm-9' }));
    const stored = new Map<string, MessageContext>([[contextKey(ACCOUNT_ID, 'm-9'), { profile: 'stored' }]]);
    expect(fanOut(open, planBatch([open]), stored, [loopRecord()]).deliveries[0]!.event.profile).toBe('stored');
  });
});

describe('enrichedToFit: the enriched event, as far as it fits an SQS message', () => {
  /** Fields of about `bytes` in JSON: a control character is six bytes there (\u0001). */
  const fieldsOf = (prefix: string, bytes: number) =>
    Object.fromEntries(
      Array.from({ length: Math.ceil(bytes / 6000) }, (_, i) => [`${prefix}${i}`, '\u0001'.repeat(1000)]),
    );
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

  it('fills in the whole context when it fits', () => {
    const event = mailEvent({ type: 'open' });
    expect(enrichedToFit(event, CONTEXT)).toEqual({ ...event, ...CONTEXT });
  });

  it("leaves the context's fields out when with them the event would not fit", () => {
    const event = mailEvent({ type: 'open', fields: fieldsOf('o', 180 * 1024) });
    const enriched = enrichedToFit(event, { ...CONTEXT, fields: fieldsOf('c', 180 * 1024) });
    expect(enriched).toEqual({ ...event, recipient: CONTEXT.recipient, profile: CONTEXT.profile, tags: CONTEXT.tags });
    expect(size(enriched)).toBeLessThanOrEqual(MAX_QUEUED_EVENT_BYTES);
  });

  it('sends the event as it came when even less of the context would not fit', () => {
    const event = mailEvent({ type: 'open', fields: fieldsOf('o', MAX_QUEUED_EVENT_BYTES - 4000) });
    expect(size(event)).toBeLessThanOrEqual(MAX_QUEUED_EVENT_BYTES);
    expect(enrichedToFit(event, { ...CONTEXT, profile: 'p'.repeat(8000) })).toBe(event);
  });

  it('sends an event without a context as it came', () => {
    const event = mailEvent();
    expect(enrichedToFit(event, undefined)).toBe(event);
  });
});
