import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (docs/api.md §5, https://www.standardwebhooks.com): any Standard Webhooks library
 * verifies what this produces.
 */

const SECRET_PREFIX = 'whsec_';

/** `whsec_` + base64 of 32 random bytes, the secret format Standard Webhooks libraries accept. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per secret, space-separated: during a
 * rotation the receiver may still hold the previous secret, and one matching signature is enough.
 */
export function signatureHeader(input: { id: string; timestamp: number; body: string; secrets: string[] }): string {
  if (input.secrets.length === 0) throw new Error('signatureHeader: a loop always has at least one secret');
  const signedContent = `${input.id}.${input.timestamp}.${input.body}`;
  return input.secrets
    .map((secret) => `v1,${createHmac('sha256', secretKey(secret)).update(signedContent, 'utf8').digest('base64')}`)
    .join(' ');
}

/**
 * The key is the base64 part after the prefix, as Standard Webhooks defines (not the string itself).
 * Kept as a KeyObject per secret: building the HMAC key from bytes on every signature is most of
 * its cost on Node 24. A warm instance sees a handful of loops' secrets; the cache stays small.
 */
const keys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 256) keys.delete(keys.keys().next().value!);
    key = createSecretKey(
      Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64'),
    );
    keys.set(secret, key);
  }
  return key;
}

export function webhookHeaders(input: {
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: string;
  secrets: string[];
  contentType: string;
  userAgent: string;
}): Record<string, string> {
  return {
    'content-type': input.contentType,
    'user-agent': input.userAgent,
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signatureHeader(input),
  };
}
