import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API keys: `fl_` and 32 random bytes (base64url). Only their SHA-256 is ever stored. */
export function generateApiKey(): string {
  return `fl_${randomBytes(32).toString('base64url')}`;
}

/** A fast hash is right here: keys carry 256 bits of entropy, so there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function sameKey(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a).digest();
  const digestB = createHash('sha256').update(b).digest();
  return timingSafeEqual(digestA, digestB);
}
