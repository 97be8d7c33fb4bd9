import { randomBytes } from 'node:crypto';

/**
 * An account's tracking keys (docs/tracking.md): the key that signs new tracking URLs, and the ones it
 * replaced, which keep verifying links already in mailboxes for `trackingLinkDays` after their
 * rotation. HMAC needs the key itself, so it is stored as it is (in the table, encrypted at rest),
 * shown once (the rotate answer) and never logged.
 */
export interface TrackingKey {
  keyId: string;
  /** `trk_` and 32 random bytes, base64url. */
  secret: string;
  createdAt: string;
  /** When a rotation replaced it; absent for the key that signs now. */
  retiredAt?: string;
}

const KEY_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const DAY_MS = 24 * 60 * 60 * 1000;

export function newTrackingKey(now: Date): TrackingKey {
  // 8 characters of 36: a key id only has to differ from the account's other few.
  const keyId = [...randomBytes(8)].map((byte) => KEY_ID_ALPHABET[byte % KEY_ID_ALPHABET.length]).join('');
  return { keyId, secret: `trk_${randomBytes(32).toString('base64url')}`, createdAt: now.toISOString() };
}

/** The key that signs new URLs: the one not retired. */
export const signingKey = (keys: readonly TrackingKey[]): TrackingKey | undefined =>
  keys.find((key) => key.retiredAt === undefined);

/** The keys that verify a link now: the signing one, and those retired less than `linkDays` ago. */
export function verifyingKeys(keys: readonly TrackingKey[], now: Date, linkDays: number): TrackingKey[] {
  return keys.filter(
    (key) => key.retiredAt === undefined || now.getTime() < new Date(key.retiredAt).getTime() + linkDays * DAY_MS,
  );
}

/**
 * A rotation: a new signing key; the old one retired (it keeps verifying for `linkDays`), unless
 * `revokePrevious`, which drops every earlier key at once so that their links answer 404. Keys past
 * their days are dropped as well.
 */
export function rotated(
  keys: readonly TrackingKey[],
  now: Date,
  linkDays: number,
  revokePrevious: boolean,
): { keys: TrackingKey[]; created: TrackingKey } {
  const created = newTrackingKey(now);
  const kept = revokePrevious
    ? []
    : verifyingKeys(keys, now, linkDays).map((key) => ({ ...key, retiredAt: key.retiredAt ?? now.toISOString() }));
  return { keys: [created, ...kept], created };
}
