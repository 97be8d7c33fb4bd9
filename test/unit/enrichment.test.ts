import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextKey, contextOf, contextsInBatch, enrich, splitContextKey } from '#shared/events/enrichment.ts';
import { ACCOUNT_ID, mailEvent, sentEvent } from '../support/factories.ts';

const context = {
  recipient: 'jane@example.com',
  profile: 'profile-1',
  fields: { firstname: 'Jane', plan: 'pro' },
  tags: ['news'],
};

describe('contextOf', () => {
  it('is what a sent event knows of its message: recipient, profile, fields and tags', () => {
    const sent = sentEvent({ ip: '203.0.113.1', useragent: 'x' });
    expect(contextOf(sent)).toEqual({
      recipient: sent.recipient,
      profile: sent.profile,
      fields: sent.fields,
      tags: sent.tags,
    });
  });

  it('leaves out empty fields and tags, and is nothing for a sent that knows nothing', () => {
    expect(contextOf(sentEvent({ profile: undefined, fields: {}, tags: [] }))).toEqual({
      recipient: 'jane@example.com',
    });
    expect(
      contextOf(mailEvent({ type: 'sent', recipient: undefined, profile: undefined, fields: {}, tags: [] })),
    ).toBeUndefined();
  });

  it.each(['delivery', 'open', 'click', 'bounce'] as const)('is nothing for a %s event', (type) => {
    expect(contextOf(mailEvent({ type, recipient: 'jane@example.com', tags: ['x'] }))).toBeUndefined();
  });
});

describe('enrich', () => {
  it('fills in what the event lacks', () => {
    const open = mailEvent({ type: 'open', ip: '203.0.113.1' });
    expect(enrich(open, context)).toEqual({ ...open, ...context });
  });

  it("keeps the event's own recipient, profile and tags whole", () => {
    const own = mailEvent({ type: 'click', recipient: 'joe@example.com', profile: 'p-2', tags: ['own'] });
    expect(enrich(own, context)).toMatchObject({ recipient: 'joe@example.com', profile: 'p-2', tags: ['own'] });
  });

  it("merges fields key by key, the event's own values winning", () => {
    const own = mailEvent({ fields: { plan: 'free', visits: 2 } });
    expect(enrich(own, context).fields).toEqual({ plan: 'free', visits: 2, firstname: 'Jane' });
  });

  it('gives back the event as it came without a context, and a sent event always', () => {
    const open = mailEvent();
    expect(enrich(open, undefined)).toBe(open);
    const sent = sentEvent({ recipient: 'a@example.com', profile: undefined, fields: undefined, tags: undefined });
    expect(enrich(sent, context)).toBe(sent);
  });

  it('does not change the event it was given', () => {
    const open = mailEvent({ fields: { a: 1 } });
    const copy = structuredClone(open);
    enrich(open, context);
    expect(open).toEqual(copy);
  });

  it('holds at most 100 fields: all of its own, then the context’s in their order', () => {
    const own = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`own${i}`, i]));
    const contextFields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`ctx${i}`, `v${i}`]));
    const fields = enrich(mailEvent({ fields: own }), { fields: contextFields }).fields!;
    expect(Object.keys(fields)).toEqual([...Object.keys(own), ...Array.from({ length: 30 }, (_, i) => `ctx${i}`)]);
  });

  const fieldsArb = fc.dictionary(
    fc.stringMatching(/^[a-z]{1,3}$/),
    fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean()),
    { maxKeys: 120 },
  );

  it('never loses an own value and never exceeds 100 fields (or the own count)', () => {
    fc.assert(
      fc.property(
        fc.option(fieldsArb, { nil: undefined }),
        fieldsArb,
        fc.option(fc.emailAddress(), { nil: undefined }),
        (ownFields, contextFields, recipient) => {
          const ownCapped = ownFields && Object.fromEntries(Object.entries(ownFields).slice(0, 100));
          const event = mailEvent({ fields: ownCapped, recipient });
          const enriched = enrich(event, { ...context, fields: contextFields });
          expect(enriched.fields).toMatchObject(ownCapped ?? {});
          expect(Object.keys(enriched.fields ?? {}).length).toBeLessThanOrEqual(100);
          expect(enriched.recipient).toBe(recipient ?? context.recipient);
          // Every field comes from the event or the context.
          for (const [name, value] of Object.entries(enriched.fields ?? {})) {
            expect(ownCapped && Object.hasOwn(ownCapped, name) ? ownCapped[name] : contextFields[name]).toBe(value);
          }
        },
      ),
    );
  });
});

describe('contextsInBatch', () => {
  it("collects the sent events' contexts by account and message", () => {
    const sent = sentEvent({ message: 'm-1' });
    const contexts = contextsInBatch([
      { accountId: ACCOUNT_ID, event: sent },
      { accountId: 'acc_other', event: sentEvent({ message: 'm-1', recipient: 'other@example.com' }) },
      { accountId: ACCOUNT_ID, event: mailEvent({ type: 'open', message: 'm-2', recipient: 'x@example.com' }) },
    ]);
    expect([...contexts.keys()].toSorted()).toEqual([contextKey(ACCOUNT_ID, 'm-1'), contextKey('acc_other', 'm-1')]);
    expect(contexts.get(contextKey(ACCOUNT_ID, 'm-1'))).toEqual(contextOf(sent));
    expect(contexts.get(contextKey('acc_other', 'm-1'))?.recipient).toBe('other@example.com');
  });

  it('keeps the later of two sent events of one message, whatever their order in the batch', () => {
    const earlier = sentEvent({ message: 'm', profile: 'old', timestamp: '2026-11-21T08:00:00.000Z' });
    const later = sentEvent({ message: 'm', profile: 'new', timestamp: '2026-11-21T09:00:00.000Z' });
    for (const order of [
      [earlier, later],
      [later, earlier],
    ]) {
      const contexts = contextsInBatch(order.map((event) => ({ accountId: ACCOUNT_ID, event })));
      expect(contexts.get(contextKey(ACCOUNT_ID, 'm'))?.profile).toBe('new');
    }
  });

  it('keeps messages apart whose ids contain spaces', () => {
    const contexts = contextsInBatch([
      { accountId: ACCOUNT_ID, event: sentEvent({ message: 'a b', profile: '1' }) },
      { accountId: ACCOUNT_ID, event: sentEvent({ message: 'a  b', profile: '2' }) },
    ]);
    expect(contexts.size).toBe(2);
  });
});

describe('contextKey', () => {
  it('splits back into the account and the message, spaces in the message and all', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^acc_[a-z0-9]{1,20}$/), fc.string(), (accountId, message) => {
        expect(splitContextKey(contextKey(accountId, message))).toEqual([accountId, message]);
      }),
    );
    expect(splitContextKey(contextKey(ACCOUNT_ID, 'm 1 2'))).toEqual([ACCOUNT_ID, 'm 1 2']);
  });
});
