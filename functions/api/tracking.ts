import { clock } from '#shared/runtime/clock.ts';
import { requireEnv, requireIntEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { type TrackingKey, newTrackingKey, rotated, signingKey } from '#shared/accounts/tracking-keys.ts';
import { trackingUrl } from '#shared/events/tracking-token.ts';
import { type ApiEvent, type ApiResult, requireAccount } from '#shared/http/api-handler.ts';
import { conflict } from '#shared/http/errors.ts';
import type { RequestOf } from '#shared/http/routes.ts';
import { ConditionFailed } from '#shared/store/table.ts';
import { getTrackingKeys, putTrackingKeys } from '#shared/store/tracking-keys.ts';

/** Answers holding a key, or URLs signed with one, are not kept by any cache (docs/api.md §2). */
const NOT_STORED = { 'cache-control': 'no-store' };

/** POST /v1/tracking/secret/rotate: a new signing key, shown only here. */
export async function rotateTrackingKey(
  event: ApiEvent,
  request: RequestOf<'POST /v1/tracking/secret/rotate'>,
): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const { revokePrevious } = request.body();
  const linkDays = requireIntEnv(ENV.TRACKING_LINK_DAYS);
  const { keys, version } = await getTrackingKeys(accountId, true);
  const next = rotated(keys, clock.now(), linkDays, revokePrevious);
  try {
    await putTrackingKeys(accountId, next.keys, version);
  } catch (error) {
    if (error instanceof ConditionFailed)
      throw conflict('concurrent_rotation', 'The tracking key was rotated by another request just now; try again.');
    throw error;
  }
  return { status: 200, body: { secret: next.created.secret, keyId: next.created.keyId }, headers: NOT_STORED };
}

/**
 * POST /v1/tracking/urls: the open URL and one click URL per link, signed with the current key. An
 * account that has none yet gets one (not shown: rotating shows a key; URLs need none shown).
 */
export async function makeTrackingUrls(
  event: ApiEvent,
  request: RequestOf<'POST /v1/tracking/urls'>,
): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const { message, links } = request.body();
  const key = await currentKey(accountId);
  const base = requireEnv(ENV.TRACKING_BASE_URL);
  const claims = { keyId: key.keyId, accountId, message };
  return {
    status: 200,
    body: {
      open: trackingUrl(base, claims, key.secret),
      links: links.map((original) => ({ original, url: trackingUrl(base, { ...claims, url: original }, key.secret) })),
      keyId: key.keyId,
    },
    headers: NOT_STORED,
  };
}

async function currentKey(accountId: string): Promise<TrackingKey> {
  const stored = await getTrackingKeys(accountId);
  const current = signingKey(stored.keys);
  if (current) return current;
  const created = newTrackingKey(clock.now());
  try {
    await putTrackingKeys(accountId, [created, ...stored.keys], stored.version);
    return created;
  } catch (error) {
    if (!(error instanceof ConditionFailed)) throw error;
    // Another request made or rotated it meanwhile: use that one.
    const again = signingKey((await getTrackingKeys(accountId, true)).keys);
    if (again) return again;
    throw error;
  }
}
