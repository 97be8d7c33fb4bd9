import { describe, expect, it } from 'vitest';
import { type DeliveryDecision, type LoopRecord, deliveryDecision } from '#shared/loops/loop.ts';
import { loopRecord } from '../support/factories.ts';

describe('deliveryDecision: what becomes of an event for a loop', () => {
  const cases: [string, LoopRecord | undefined, string, DeliveryDecision][] = [
    ['verified, enabled, subscribed', loopRecord({ events: ['open'] }), 'open', 'send'],
    ['not subscribed to the type', loopRecord({ events: ['click'] }), 'open', 'drop'],
    ['disabled by a 410, still enabled and subscribed', loopRecord({ status: 'disabled' }), 'open', 'keep-for-replay'],
    ['disabled by a 410, not subscribed', loopRecord({ status: 'disabled', events: ['click'] }), 'open', 'drop'],
    ['disabled by its account', loopRecord({ enabled: false }), 'open', 'drop'],
    ['disabled by a 410 and by its account', loopRecord({ status: 'disabled', enabled: false }), 'open', 'drop'],
    ['unverified', loopRecord({ status: 'unverified' }), 'open', 'drop'],
    ['deleted', undefined, 'open', 'drop'],
  ];
  it.each(cases)('%s → %s', (_name, loop, type, decision) => {
    expect(deliveryDecision(loop, type)).toBe(decision);
  });
});
