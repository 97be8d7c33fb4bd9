import { randomBytes } from 'node:crypto';
import { OutboundError, type OutboundPolicy, send } from '#shared/outbound/client.ts';
import type { LoopRecord, LoopVerification } from './loop.ts';

/** SPEC §6: the system keeps checking an unverified loop for 7 days. */
export const VERIFICATION_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** SPEC §6: each location is fetched with GET, 5 s timeout, no redirects, at most 4 KiB read. */
const FETCH = { timeoutMs: 5000, maxResponseBytes: 4096 };

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
    return { location, ok: false, found };
  }
}

/** The loop after a check: verified, or unverified with what was found where. */
export function applyVerification(loop: LoopRecord, result: VerificationResult, now: Date): LoopRecord {
  const checkedAt = now.toISOString();
  if (result.verified) {
    const { lastError: _lastError, ...verification } = loop.verification;
    return {
      ...loop,
      status: 'verified',
      verification: { ...verification, lastCheckedAt: checkedAt },
      updatedAt: checkedAt,
    };
  }
  const lastError = result.results.map((entry) => `${entry.location}: ${entry.found}`).join('; ');
  return { ...loop, verification: { ...loop.verification, lastCheckedAt: checkedAt, lastError }, updatedAt: checkedAt };
}
