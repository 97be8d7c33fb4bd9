/**
 * `POST …/verify` and `POST …/test` fetch from the account's server while the caller waits, and say
 * what they met there (refused, timeout, HTTP status): useful for one's own URL, and a way to probe
 * hosts and ports if unbounded. `POST …/failures/replay` queues up to 1,000 deliveries a request.
 * All three count against one limit per loop and one per account (docs/api.md §2: 429 with `Retry-After`). A person placing a verification file, or testing a receiver, checks a
 * loop a few times a minute; 10 a minute per loop is one every 6 s, sustained. 60 a minute per account
 * lets someone check each of 20 loops (the default limit) three times within a minute.
 */
export const CHECK_LIMITS = {
  perLoop: { limit: 10, windowMs: 60_000 },
  perAccount: { limit: 60, windowMs: 60_000 },
} as const;

/** A check refused: the loop (or its account) has had its share; the http edge answers 429. */
export class TooManyChecks extends Error {
  override readonly name = 'TooManyChecks';
  constructor(
    readonly of: 'loop' | 'account',
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `${of === 'loop' ? 'This loop was verified, tested or replayed' : 'This account verified, tested or replayed loops'} ${limit} ` +
        `times within a minute; try again in ${retryAfterSeconds} s.`,
    );
  }
}
