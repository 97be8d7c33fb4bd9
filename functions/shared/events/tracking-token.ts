import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tracking tokens (docs/tracking.md), the part of `/t/o/{token}` and `/t/c/{token}` after the kind. A token is
 *
 *   base64url(payload) "." base64url(first 16 bytes of HMAC-SHA256(secret, payload))
 *
 * where the payload is UTF-8 text, its parts joined by a NUL byte:
 *   open:  keyId NUL accountId NUL message
 *   click: keyId NUL accountId NUL message NUL url
 * and the secret is the account's tracking key (`trk_…`) as UTF-8 bytes. No lookup is needed to trust
 * one: whoever holds a verifying key checks the signature, and the redirect target is in the payload.
 * docs/tracking.md documents it with examples in PHP, Node and Python. No part may contain a NUL or
 * any other control character, so an open token and a click token can never be read as each other.
 */

export type TrackingKind = 'open' | 'click';
/** The path segment of each kind: `/t/o/…` and `/t/c/…`. */
export const TRACKING_PATH = { open: 'o', click: 'c' } as const satisfies Record<TrackingKind, string>;

export interface TrackingClaims {
  keyId: string;
  accountId: string;
  message: string;
  /** The original URL of a click; none for an open. */
  url?: string;
}

/** 16 bytes (128 bits) of the HMAC: the truncation RFC 2104 allows, and 21 characters shorter than all 32. */
const SIGNATURE_BYTES = 16;
export const TRACKING_KEY_ID_PATTERN = /^[a-z0-9]{8}$/;
const ACCOUNT_ID_PATTERN = /^acc_[0-9A-HJKMNP-TV-Z]{26}$/;
export const TRACKED_MESSAGE_MAX_LENGTH = 128;
export const TRACKED_URL_MAX_BYTES = 2048;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** A token longer than this cannot be valid (the longest message and URL, base64url, and the signature). */
const TOKEN_MAX_LENGTH = 4 * Math.ceil((9 + 31 + 4 * TRACKED_MESSAGE_MAX_LENGTH + TRACKED_URL_MAX_BYTES + 3) / 3) + 30;

/** Why a message or link cannot be put in a token, in words; undefined when it can. */
export function claimProblem(claims: Omit<TrackingClaims, 'keyId' | 'accountId'>): string | undefined {
  const { message, url } = claims;
  if (message.length < 1 || message.length > TRACKED_MESSAGE_MAX_LENGTH)
    return `message must be 1 to ${TRACKED_MESSAGE_MAX_LENGTH} characters`;
  if (CONTROL.test(message)) return 'message must not contain control characters';
  if (url === undefined) return undefined;
  if (Buffer.byteLength(url, 'utf8') > TRACKED_URL_MAX_BYTES)
    return `a link must be at most ${TRACKED_URL_MAX_BYTES} bytes`;
  if (CONTROL.test(url)) return 'a link must not contain control characters';
  if (!isWebUrl(url)) return 'a link must be an absolute http or https URL';
  return undefined;
}

function isWebUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.username === '' && parsed.password === ''
    );
  } catch {
    return false;
  }
}

function payloadOf(claims: TrackingClaims): string {
  const parts = [claims.keyId, claims.accountId, claims.message];
  if (claims.url !== undefined) parts.push(claims.url);
  return parts.join('\u0000');
}

function signatureOf(payload: Buffer, secret: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest().subarray(0, SIGNATURE_BYTES);
}

/** The token of an open (no `url`) or a click (`url`), signed with `secret`. */
export function signToken(claims: TrackingClaims, secret: string): string {
  const problem = claimProblem(claims);
  if (problem) throw new Error(`Cannot sign a tracking token: ${problem}`);
  const payload = Buffer.from(payloadOf(claims), 'utf8');
  return `${payload.toString('base64url')}.${signatureOf(payload, secret).toString('base64url')}`;
}

/** A token read but not yet trusted: its claims, and what verifying it takes. */
export interface ReadToken {
  claims: TrackingClaims;
  payload: Buffer;
  signature: Buffer;
}

/**
 * Reads a token of the given kind without trusting it: undefined for anything that is not exactly
 * a well-formed token of that kind (the caller answers 404). Trust comes from `verifyToken`.
 */
export function readToken(kind: TrackingKind, token: string): ReadToken | undefined {
  if (token.length > TOKEN_MAX_LENGTH) return undefined;
  const [encodedPayload, encodedSignature, ...rest] = token.split('.');
  if (rest.length || !encodedPayload || !encodedSignature) return undefined;
  if (!BASE64URL.test(encodedPayload) || !BASE64URL.test(encodedSignature)) return undefined;
  const payload = Buffer.from(encodedPayload, 'base64url');
  const signature = Buffer.from(encodedSignature, 'base64url');
  // One spelling per token: base64url that does not round-trip (stray bits, padding) is not ours.
  if (payload.toString('base64url') !== encodedPayload || signature.toString('base64url') !== encodedSignature)
    return undefined;
  if (signature.length !== SIGNATURE_BYTES) return undefined;
  const text = payload.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(payload)) return undefined; // not UTF-8
  const parts = text.split('\u0000');
  if (parts.length !== (kind === 'click' ? 4 : 3)) return undefined;
  const [keyId, accountId, message, url] = parts as [string, string, string, string | undefined];
  if (!TRACKING_KEY_ID_PATTERN.test(keyId) || !ACCOUNT_ID_PATTERN.test(accountId)) return undefined;
  if (claimProblem({ message, url })) return undefined;
  return { claims: { keyId, accountId, message, ...(url === undefined ? {} : { url }) }, payload, signature };
}

/** Whether the token was signed with `secret` (in constant time). */
export function verifyToken(token: ReadToken, secret: string): boolean {
  return timingSafeEqual(signatureOf(token.payload, secret), token.signature);
}

/** `<base>/t/o/<token>` or `<base>/t/c/<token>`; `base` without a trailing slash. */
export function trackingUrl(base: string, claims: TrackingClaims, secret: string): string {
  const kind: TrackingKind = claims.url === undefined ? 'open' : 'click';
  return `${base.replace(/\/+$/, '')}/t/${TRACKING_PATH[kind]}/${signToken(claims, secret)}`;
}
