import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { hashApiKey, sameKey } from '#shared/accounts/api-keys.ts';
import { secrets } from '#shared/runtime/secrets.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { logger } from '#shared/runtime/logger.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { findApiKey } from '#shared/store/accounts.ts';
import type { Principal } from './principal.ts';

/**
 * Who an API key is: the one resolution of keys, used by the authoriser (for `Authorization: Bearer`)
 * and by the SOAP function (whose key may come in the SOAP header, which an authoriser cannot read).
 */
const ADMIN_SECRET_NAME = requireEnv(ENV.ADMIN_SECRET_NAME);

/**
 * How long a resolved key (and the admin key) is remembered by this execution environment. A revoked
 * key, or a rotated admin key, stops working within this time (docs/api.md §2 allows up to 5 minutes).
 */
const CACHE_MS = 60_000;
const CACHE_MAX_ENTRIES = 10_000;

const resolved = new Map<string, { principal: Principal; until: number }>();
let adminKey: { value: string; until: number } | undefined;

async function currentAdminKey(now: number): Promise<string> {
  if (!adminKey || adminKey.until <= now) {
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: ADMIN_SECRET_NAME }));
    // Trimmed: a secret set from a shell or a file often ends in a newline no header can carry.
    adminKey = { value: (secret.SecretString ?? '').trim(), until: now + CACHE_MS };
  }
  return adminKey.value;
}

async function resolve(key: string, hash: string, now: number): Promise<Principal> {
  // Account keys first: they are most of the traffic, and they keep working if the secret cannot be read.
  const record = await findApiKey(hash);
  if (record) return { kind: 'account', accountId: record.accountId, keyId: record.keyId };
  const admin = await currentAdminKey(now);
  if (admin && sameKey(key, admin)) return { kind: 'admin' };
  return { kind: 'anonymous', reason: 'invalid' };
}

/** The caller a key names; `unavailable` (nothing cached) when the table or the secret cannot be read. */
export async function resolveKey(key: string): Promise<Principal> {
  const now = Date.now();
  const hash = hashApiKey(key);
  let entry = resolved.get(hash);
  if (!entry || entry.until <= now) {
    let principal: Principal;
    try {
      principal = await resolve(key, hash, now);
    } catch (error) {
      // The route answers 503 in the API's error shape; nothing is cached, the next request tries again.
      logger.error('Resolving an API key failed', error as Error);
      return { kind: 'unavailable' };
    }
    entry = { principal, until: now + CACHE_MS };
    if (resolved.size >= CACHE_MAX_ENTRIES) resolved.delete(resolved.keys().next().value!);
    resolved.set(hash, entry);
  }
  return entry.principal;
}

/** The key of an `Authorization: Bearer <key>` header, if it is one. */
export const bearerKey = (header: string | undefined) =>
  header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
