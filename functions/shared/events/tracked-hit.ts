import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { isMachineTraffic } from './machine-traffic.ts';
import type { MailEvent } from './mail-event.ts';
import type { TrackingClaims, TrackingKind } from './tracking-token.ts';

/**
 * The event's limits on these headers (LIMITS.useragentMaxBytes and refererMaxBytes of mail-event.ts,
 * which a unit test holds them to): not imported from there, because that module builds the zod
 * schemas at load, which the tracking function, a browser waiting on it, should not pay for.
 */
export const USERAGENT_MAX_BYTES = 1024;
export const REFERER_MAX_BYTES = 2048;

/** One request for a tracking URL whose token verified, as API Gateway handed it over. */
export interface TrackedHit {
  kind: TrackingKind;
  claims: TrackingClaims;
  /** API Gateway's id of the request: the same when it retries the invocation, new for every click. */
  requestId: string;
  receivedAt: Date;
  method: string;
  /** `requestContext.http.sourceIp`: the connection's address, which a client cannot forge with a header. */
  sourceIp: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
}

/**
 * The event a tracking hit records (docs/tracking.md): `message` (and `original`) from the token, the rest
 * from the request. Its id is derived from the request id and marked as an idempotency key, so an
 * invocation retried by the gateway is one event while a second click is another.
 */
export function trackedEvent(hit: TrackedHit): MailEvent {
  const useragent = cleanHeader(hit.headers['user-agent'], USERAGENT_MAX_BYTES);
  const referer = cleanHeader(hit.headers.referer, REFERER_MAX_BYTES);
  return {
    id: trackedEventId(hit.requestId),
    type: hit.kind,
    message: hit.claims.message,
    timestamp: hit.receivedAt.toISOString(),
    ...(isIP(hit.sourceIp) ? { ip: hit.sourceIp } : {}),
    ...(useragent ? { useragent } : {}),
    ...(referer ? { referer } : {}),
    ...(hit.claims.url !== undefined ? { original: hit.claims.url } : {}),
    machine: isMachineTraffic({ method: hit.method, headers: hit.headers }),
  };
}

/** `evt_t` and 27 characters of base32 from the request id's SHA-256: within the client-id pattern. */
export function trackedEventId(requestId: string): string {
  const digest = createHash('sha256').update(`tracking\u0000${requestId}`).digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 17)) bits = (bits << 8n) | BigInt(byte);
  return `evt_t${bits.toString(32).padStart(27, '0').slice(-27).toUpperCase()}`;
}

// eslint-disable-next-line no-control-regex -- the event refuses control characters in its text
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** A header as an event field: control characters removed, cut to the field's byte limit on a character boundary. */
function cleanHeader(value: string | undefined, maxBytes: number): string | undefined {
  if (value === undefined) return undefined;
  const text = value.replace(CONTROL, '').trim();
  const bytes = Buffer.from(text, 'utf8');
  // A cut inside a character decodes to U+FFFD at the end: dropped.
  const cut =
    bytes.length > maxBytes
      ? bytes
          .subarray(0, maxBytes)
          .toString('utf8')
          .replace(/\uFFFD+$/, '')
      : text;
  return cut || undefined;
}
