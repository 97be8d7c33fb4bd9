import { randomBytes } from 'node:crypto';
import { OutboundError, type OutboundPolicy, send, USER_AGENT } from '#shared/outbound/client.ts';
import type { LoopRecord, LoopVerification } from './loop.ts';

/** docs/api.md §6: the system keeps checking an unverified loop for 7 days. */
export const VERIFICATION_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** docs/api.md §6: each location is fetched with GET, 5 s timeout, no redirects, at most 4 KiB read. */
const FETCH = { timeoutMs: 5000, maxResponseBytes: 4096, headers: { 'user-agent': USER_AGENT } };
/** The longest a check takes: its locations are fetched side by side, each within the timeout. */
export const CHECK_MAX_MS = FETCH.timeoutMs;

/** A new verification file, unique to the loop: its name and content are random. */
export function newVerification(now: Date): LoopVerification {
  return {
    file: `fl-${randomBytes(10).toString('hex')}.txt`,
    content: randomBytes(24).toString('base64url'),
    checkUntil: new Date(now.getTime() + VERIFICATION_WINDOW_MS).toISOString(),
  };
}

/**
 * Where the verification file may be: the directory of the loop's script, then the web root
 * (`https://host/dir/script.php` → `https://host/dir/<file>`, `https://host/<file>`).
 */
export function verificationLocations(loopUrl: string, file: string): string[] {
  const parsed = new URL(loopUrl);
  const directory = parsed.pathname.slice(0, parsed.pathname.lastIndexOf('/') + 1);
  const inDirectory = `${parsed.origin}${directory}${file}`;
  const inRoot = `${parsed.origin}/${file}`;
  return inDirectory === inRoot ? [inRoot] : [inDirectory, inRoot];
}

export interface LocationResult {
  location: string;
  ok: boolean;
  /** What was found there, in words: "HTTP 404", "the content does not match", … */
  found: string;
  /** Nothing answered within the timeout. */
  timedOut?: boolean;
}

export interface VerificationResult {
  verified: boolean;
  results: LocationResult[];
}

/** Fetches every location of the loop's verification file; verified when one holds the exact content. */
export async function checkVerification(loop: LoopRecord, policy: OutboundPolicy): Promise<VerificationResult> {
  const { file, content } = loop.verification;
  const results = await Promise.all(
    verificationLocations(loop.url, file).map((location) => checkLocation(location, content, policy)),
  );
  return { verified: results.some((result) => result.ok), results };
}

async function checkLocation(location: string, content: string, policy: OutboundPolicy): Promise<LocationResult> {
  try {
    const response = await send(policy, { method: 'GET', url: location, ...FETCH });
    if (response.status >= 300 && response.status < 400) {
      return { location, ok: false, found: `HTTP ${response.status}, a redirect (redirects are not followed)` };
    }
    if (response.status < 200 || response.status >= 300)
      return { location, ok: false, found: `HTTP ${response.status}` };
    if (response.truncated)
      return { location, ok: false, found: `a file larger than ${FETCH.maxResponseBytes / 1024} KiB` };
    if (response.body.trim() !== content) return { location, ok: false, found: 'a file whose content does not match' };
    return { location, ok: true, found: 'the verification file' };
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    const found = {
      timeout: `no answer within ${FETCH.timeoutMs / 1000} s`,
      connection: `no connection (${error.message})`,
      blocked: `nothing: the address is not allowed (${error.message})`,
    }[error.failure];
    return { location, ok: false, found, ...(error.failure === 'timeout' ? { timedOut: true } : {}) };
  }
}

/** The loop after a check: verified, or unverified with what was found where. */
export function applyVerification(loop: LoopRecord, result: VerificationResult, now: Date): LoopRecord {
  const checkedAt = now.toISOString();
  if (result.verified) {
    const { lastError: _lastError, timeouts: _timeouts, ...verification } = loop.verification;
    return {
      ...loop,
      status: 'verified',
      verification: { ...verification, lastCheckedAt: checkedAt },
      updatedAt: checkedAt,
    };
  }
  const lastError = result.results.map((entry) => `${entry.location}: ${entry.found}`).join('; ');
  const { timeouts: _timeouts, ...verification } = loop.verification;
  const timeouts = result.results.some((entry) => entry.timedOut) ? (loop.verification.timeouts ?? 0) + 1 : 0;
  return {
    ...loop,
    verification: { ...verification, lastCheckedAt: checkedAt, lastError, ...(timeouts ? { timeouts } : {}) },
    updatedAt: checkedAt,
  };
}

/** docs/api.md §6: the scheduled re-check runs every 5 minutes. */
export const RECHECK_INTERVAL_MS = 5 * 60 * 1000;
/** The longest a loop whose server keeps not answering waits between scheduled checks. */
const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * When a loop is next due for a scheduled check: at once, unless its last checks in a row timed out;
 * then 10, 20, 40 minutes after the last one, and hourly from there. A server that hangs costs a
 * run 5 s a check; backing off keeps such loops from crowding out the others.
 */
export function nextCheckAt(loop: LoopRecord): number {
  const { lastCheckedAt, timeouts = 0 } = loop.verification;
  if (!lastCheckedAt || timeouts < 2) return 0;
  return Date.parse(lastCheckedAt) + Math.min(RECHECK_INTERVAL_MS * 2 ** (timeouts - 1), MAX_BACKOFF_MS);
}

/**
 * The loops a scheduled run checks, in the order it should: those due (a minute's slack for the
 * schedule's own drift), least recently checked first (never checked before all), taking turns
 * across accounts: each account's next loop, then each account's next, and so on. However many
 * loops one account has, every other account's most overdue loop comes within the first round.
 */
export function recheckOrder(loops: LoopRecord[], now: Date): LoopRecord[] {
  const due = loops
    .filter((loop) => nextCheckAt(loop) <= now.getTime() + 60_000)
    .sort(
      (a, b) =>
        (a.verification.lastCheckedAt ?? '').localeCompare(b.verification.lastCheckedAt ?? '') ||
        a.createdAt.localeCompare(b.createdAt) ||
        a.id.localeCompare(b.id),
    );
  const byAccount = new Map<string, LoopRecord[]>();
  for (const loop of due) {
    const queue = byAccount.get(loop.accountId);
    if (queue) queue.push(loop);
    else byAccount.set(loop.accountId, [loop]);
  }
  const queues = [...byAccount.values()];
  const order: LoopRecord[] = [];
  for (let round = 0; order.length < due.length; round++) {
    for (const queue of queues) if (round < queue.length) order.push(queue[round]!);
  }
  return order;
}
