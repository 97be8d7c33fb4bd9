import { describe, expect, it } from 'vitest';
import { describeBatch, describeDeliveries } from '../../local/triggers/invocation-summary.ts';

const summaryLine = (counts: Record<string, unknown>) =>
  JSON.stringify({ level: 'INFO', message: 'Deliveries done', timestamp: '2026-12-04T19:00:00.000Z', ...counts });

/** The twin's line for a batch of deliveries: what happened to each, not only "done". */
describe("the twin's deliver lines", () => {
  it.each([
    [{ deliveries: 3, delivered: 3, statuses: { 200: 3 } }, '3 delivered; answers: HTTP 200 ×3'],
    [
      { deliveries: 1, failed: 1, retried: 1, statuses: { 500: 1 } },
      '1 failed, 1 returned to the queue for a retry; answers: HTTP 500',
    ],
    [
      { deliveries: 1, failed: 1, recorded: 1, statuses: { timeout: 1 } },
      '1 failed, 1 recorded under failures; answers: timeout',
    ],
    [
      { deliveries: 2, failed: 1, recorded: 1, disabled: 1, delivered: 1, statuses: { 200: 1, 410: 1 } },
      '1 delivered, 1 failed, 1 recorded under failures, 1 loop disabled by a 410; answers: HTTP 200, HTTP 410',
    ],
    [{ deliveries: 2, dropped: 2 }, '2 dropped (the loop no longer takes it)'],
    [{ deliveries: 0 }, '0 deliveries, nothing sent'],
  ])('%j reads "%s"', (counts, expected) => {
    expect(describeDeliveries(counts)).toBe(expected);
  });

  it("says a retry with the receiver's status, and marks it as not ok", () => {
    const lines = ['not json', summaryLine({ deliveries: 1, failed: 1, retried: 1, statuses: { 503: 1 } })];
    expect(describeBatch(lines, 0, 1)).toEqual({
      ok: false,
      summary: '1 failed, 1 returned to the queue for a retry; answers: HTTP 503',
    });
  });

  it('says a delivery given up was recorded under failures, not "done", and not ok', () => {
    const lines = [summaryLine({ deliveries: 1, failed: 1, recorded: 1, statuses: { 500: 1 } })];
    expect(describeBatch(lines, 1, 0)).toEqual({
      ok: false,
      summary: '1 failed, 1 recorded under failures; answers: HTTP 500',
    });
  });

  it('says ok for deliveries that all arrived, and counts messages returned for another reason', () => {
    expect(describeBatch([summaryLine({ deliveries: 2, delivered: 2, statuses: { 200: 2 } })], 2, 0)).toEqual({
      ok: true,
      summary: '2 delivered; answers: HTTP 200 ×2',
    });
    expect(describeBatch([summaryLine({ deliveries: 2, delivered: 1, statuses: { 200: 1 } })], 1, 1).summary).toBe(
      '1 delivered; answers: HTTP 200; 1 message returned to the queue',
    );
  });

  it('falls back to counting messages for a function without a deliveries summary', () => {
    expect(describeBatch(['{"level":"INFO","message":"Fanned out"}'], 4, 0)).toEqual({ ok: true, summary: '4 done' });
    expect(describeBatch(undefined, 3, 1)).toEqual({ ok: false, summary: '3 done, 1 returned to the queue' });
  });
});
