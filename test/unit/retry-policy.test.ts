import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DELAY_SECONDS, nextRetryDelay, parseRetryAfter } from '#shared/delivery/retry-policy.ts';

/** docs/api.md §5/§9: 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 12 h. */
const DEFAULT_SCHEDULE = [5, 60, 300, 1800, 7200, 18000, 36000, 43200];
const TWELVE_HOURS = 43_200;
const NOW = new Date('2026-11-21T10:00:00.000Z');

/** random() values over [0, 1), including both ends of the range. */
const randomValue = fc.oneof(
  fc.constantFrom(0, 0.5, 1 - Number.EPSILON),
  fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
);

describe('nextRetryDelay: the schedule with jitter', () => {
  /** ±10 % of the planned delay, widened by the rounding to whole seconds, and never over 12 hours. */
  function expectWithinJitter(delay: number | undefined, planned: number) {
    expect(delay).toBeTypeOf('number');
    expect(Number.isInteger(delay)).toBe(true);
    expect(delay).toBeGreaterThanOrEqual(Math.min(planned, TWELVE_HOURS) * 0.9 - 0.5);
    expect(delay).toBeLessThanOrEqual(Math.min(planned * 1.1 + 0.5, TWELVE_HOURS));
  }

  it('keeps every delay of the default schedule within ±10 % of its planned value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: DEFAULT_SCHEDULE.length }), randomValue, (attempt, random) => {
        expectWithinJitter(
          nextRetryDelay(DEFAULT_SCHEDULE, attempt, undefined, () => random),
          DEFAULT_SCHEDULE[attempt - 1]!,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the delays of any schedule within ±10 % and never over 12 hours', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: TWELVE_HOURS }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        randomValue,
        (schedule, pick, random) => {
          const attempt = (pick % schedule.length) + 1;
          expectWithinJitter(
            nextRetryDelay(schedule, attempt, undefined, () => random),
            schedule[attempt - 1]!,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the 12-hour step at or below 12 hours (SQS cannot wait longer)', () => {
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 8, undefined, () => 1 - Number.EPSILON)).toBe(TWELVE_HOURS);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 8, undefined, () => 0)).toBe(38_880);
  });

  it('spreads retries out: the lowest and highest random values give different delays', () => {
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 2, undefined, () => 0)).toBe(54);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 2, undefined, () => 0.999_999)).toBe(66);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 5, undefined, () => 0.5)).toBe(7200);
  });

  it('uses Math.random by default and still stays within ±10 %', () => {
    for (let i = 0; i < 200; i++) {
      const delay = nextRetryDelay(DEFAULT_SCHEDULE, 4)!;
      expect(delay).toBeGreaterThanOrEqual(1620);
      expect(delay).toBeLessThanOrEqual(1980);
    }
  });

  it('gives up (undefined) after the last delay of the schedule', () => {
    expect(nextRetryDelay(DEFAULT_SCHEDULE, DEFAULT_SCHEDULE.length + 1)).toBeUndefined();
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 100)).toBeUndefined();
    expect(nextRetryDelay([1, 1, 2], 3, undefined, () => 0.5)).toBe(2);
    expect(nextRetryDelay([1, 1, 2], 4, undefined, () => 0.5)).toBeUndefined();
    expect(nextRetryDelay([], 1)).toBeUndefined();
  });

  it('does not let a Retry-After extend an exhausted schedule', () => {
    expect(nextRetryDelay(DEFAULT_SCHEDULE, DEFAULT_SCHEDULE.length + 1, 30)).toBeUndefined();
  });
});

describe('nextRetryDelay: Retry-After', () => {
  it('replaces the planned delay by the Retry-After, rounded up to whole seconds', () => {
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, 120, () => 0.5)).toBe(120);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 6, 2, () => 0.5)).toBe(2);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, 1.2, () => 0.5)).toBe(2);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, 0, () => 0.5)).toBe(0);
  });

  it('caps a Retry-After at 12 hours', () => {
    expect(MAX_DELAY_SECONDS).toBe(TWELVE_HOURS);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, TWELVE_HOURS)).toBe(TWELVE_HOURS);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, TWELVE_HOURS + 1)).toBe(TWELVE_HOURS);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, 7 * 24 * 3600)).toBe(TWELVE_HOURS);
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, Number.MAX_SAFE_INTEGER * 10)).toBe(TWELVE_HOURS);
  });

  it('keeps any Retry-After between 0 and 12 hours', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        fc.integer({ min: 1, max: 8 }),
        (retryAfter, attempt) => {
          const delay = nextRetryDelay(DEFAULT_SCHEDULE, attempt, retryAfter)!;
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(TWELVE_HOURS);
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('caps a parsed Retry-After header of days at 12 hours', () => {
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 1, parseRetryAfter('864000', NOW))).toBe(TWELVE_HOURS);
    expect(
      nextRetryDelay(DEFAULT_SCHEDULE, 1, parseRetryAfter(new Date(NOW.getTime() + 3 * 86_400_000).toUTCString(), NOW)),
    ).toBe(TWELVE_HOURS);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30);
    expect(parseRetryAfter('43201', NOW)).toBe(43201);
  });

  it('reads an HTTP date as the seconds until then', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:02:00 GMT', NOW)).toBe(120);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:00 GMT', NOW)).toBe(86_400);
    expect(parseRetryAfter(new Date(NOW.getTime() + 3_600_000).toUTCString(), NOW)).toBe(3600);
  });

  it('reads an HTTP date in the past as "now"', () => {
    expect(parseRetryAfter('Fri, 20 Nov 2026 10:00:00 GMT', NOW)).toBe(0);
  });

  it('reads any delay-seconds value as that number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (seconds) => {
        expect(parseRetryAfter(String(seconds), NOW)).toBe(seconds);
      }),
    );
  });

  it.each([
    undefined,
    '',
    '   ',
    'soon',
    'later',
    'abc',
    'NaN',
    'Infinity',
    '1e3',
    '0x10',
    'five',
    'Retry later please',
    '5 minutes',
  ])('ignores the garbage value %j', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
    // And the schedule applies as if there were no header.
    expect(nextRetryDelay(DEFAULT_SCHEDULE, 3, parseRetryAfter(value, NOW), () => 0.5)).toBe(300);
  });
});
