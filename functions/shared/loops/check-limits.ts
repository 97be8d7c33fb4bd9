import { ApiError } from '#shared/http/errors.ts';
import { type RateLimit, takeRateToken } from '#shared/store/rate-limits.ts';
import { itemKeys } from '#shared/store/table.ts';
import type { LoopRecord } from './loop.ts';

/**
 * `POST …/verify` and `POST …/test` fetch from the account's server while the caller waits, and say
 * what they met there (refused, timeout, HTTP status): useful for one's own URL, and a way to probe
 * hosts and ports if unbounded. Both count against one limit per loop and one per account (SPEC §3:
 * 429 with `Retry-After`). A person placing a verification file, or testing a receiver, checks a
 * loop a few times a minute; 10 a minute per loop is one every 6 s, sustained. 60 a minute per account
 * lets someone check each of 20 loops (the default limit) three times within a minute.
 */
export const CHECK_LIMITS: { perLoop: RateLimit; perAccount: RateLimit } = {
  perLoop: { limit: 10, windowMs: 60_000 },
  perAccount: { limit: 60, windowMs: 60_000 },
};

/** Counts one check of `loop`, or throws 429 when the loop or its account has had its share. */
export async function countCheck(loop: LoopRecord, now: Date): Promise<void> {
  const { perLoop, perAccount } = CHECK_LIMITS;
  const loopWait = await takeRateToken(itemKeys.rateCounter(loop.accountId, loop.id), perLoop, now);
  if (loopWait !== undefined) throw tooMany(`This loop was verified or tested ${perLoop.limit} times`, loopWait);
  const accountWait = await takeRateToken(itemKeys.rateCounter(loop.accountId, 'ACCOUNT'), perAccount, now);
  if (accountWait !== undefined)
    throw tooMany(`This account verified or tested loops ${perAccount.limit} times`, accountWait);
}

function tooMany(what: string, seconds: number): ApiError {
  return new ApiError(429, 'too_many_requests', `${what} within a minute; try again in ${seconds} s.`, {
    headers: { 'retry-after': String(seconds) },
  });
}
