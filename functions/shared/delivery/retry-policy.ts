import { SQS_LIMITS } from '#shared/runtime/sqs-limits.ts';

/** SQS hides a message for at most 12 hours, which bounds every wait (also a Retry-After). */
export const MAX_DELAY_SECONDS = SQS_LIMITS.maxVisibilitySeconds;
const JITTER = 0.1;

/**
 * Seconds to wait before the next attempt after failed attempt number `attempt` (1-based), or
 * undefined when the schedule is exhausted. Each delay gets ±10 % jitter so that retries of many
 * deliveries that failed together spread out; a receiver's Retry-After replaces the delay.
 */
export function nextRetryDelay(
  schedule: number[],
  attempt: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number | undefined {
  const planned = schedule[attempt - 1];
  if (planned === undefined) return undefined;
  if (retryAfterSeconds !== undefined) return Math.min(Math.max(0, Math.ceil(retryAfterSeconds)), MAX_DELAY_SECONDS);
  const jittered = planned * (1 - JITTER + 2 * JITTER * random());
  return Math.min(Math.max(0, Math.round(jittered)), MAX_DELAY_SECONDS);
}

/** A Retry-After header: delay-seconds or an HTTP date. Unparseable values are ignored. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // Only a real HTTP date (IMF-fixdate, e.g. "Sun, 22 Nov 2026 08:00:00 GMT"): Date.parse also
  // accepts odd text such as "1.5", which would mean "retry at once".
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now.getTime()) / 1000);
}
