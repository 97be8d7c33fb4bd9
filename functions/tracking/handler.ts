import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv, requireIntEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { logger } from '#shared/runtime/logger.ts';
import { sendBatches } from '#shared/runtime/sqs-send.ts';
import { verifyingKeys } from '#shared/accounts/tracking-keys.ts';
import type { QueuedEvent } from '#shared/events/messages.ts';
import { trackedEvent } from '#shared/events/tracked-hit.ts';
import { type ReadToken, type TrackingKind, readToken, verifyToken } from '#shared/events/tracking-token.ts';
import { getTrackingKeys } from '#shared/store/tracking-keys.ts';

/**
 * GET (and HEAD) /t/o/{token} and /t/c/{token} (docs/tracking.md), outside the authoriser: verify the token
 * with the account's tracking keys, queue an open or a click on the events queue exactly as ingest
 * does (fanout enriches, delivers and logs it), then answer the pixel or the redirect. Anything that
 * does not verify answers 404 and records nothing. Imports kept few: a person's browser waits on this.
 */
const EVENTS_QUEUE_URL = requireEnv(ENV.EVENTS_QUEUE_URL);
const LINK_DAYS = requireIntEnv(ENV.TRACKING_LINK_DAYS);

/** SQS gets the function's time but this much, so that a slow SQS still leaves time to answer. */
const ANSWER_MARGIN_MS = 1000;
/** The 43-byte transparent 1×1 GIF. */
const PIXEL_BASE64 = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==';
const NOT_STORED = { 'cache-control': 'no-store, private', 'x-content-type-options': 'nosniff' };

export async function handler(
  event: APIGatewayProxyEventV2,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const kind: TrackingKind = event.routeKey.includes('/t/c/') ? 'click' : 'open';
  const token = readToken(kind, event.pathParameters?.token ?? '');
  if (!token || !(await verified(token))) return notValid(kind);

  const receivedAt = clock.now();
  const mailEvent = trackedEvent({
    kind,
    claims: token.claims,
    requestId: event.requestContext.requestId,
    receivedAt,
    method: event.requestContext.http.method,
    sourceIp: event.requestContext.http.sourceIp,
    headers: event.headers,
  });
  const queued: QueuedEvent = {
    accountId: token.claims.accountId,
    receivedAt: receivedAt.toISOString(),
    event: mailEvent,
    idFromClient: true,
  };
  const notSent = await sendBatches(EVENTS_QUEUE_URL, [{ body: JSON.stringify(queued) }], {
    resendOnce: true,
    abortSignal: AbortSignal.timeout(Math.max(0, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS)),
  });
  // The person still gets the pixel or their link: an error page would lose the click as well.
  if (notSent.length)
    logger.error('Queueing a tracking event failed', { type: kind, error: String(notSent[0]!.reason) });
  else logger.debug('Tracking event queued', { type: kind, accountId: queued.accountId, machine: mailEvent.machine });

  if (kind === 'click')
    return { statusCode: 302, headers: { ...NOT_STORED, location: new URL(token.claims.url!).href } };
  return {
    statusCode: 200,
    headers: { ...NOT_STORED, 'content-type': 'image/gif' },
    body: PIXEL_BASE64,
    isBase64Encoded: true,
  };
}

// ---- the account's keys, cached briefly ----

/** A minute, as the authoriser caches API keys: a revoked tracking key stops verifying within it. */
const CACHE_MS = 60_000;
const MAX_CACHED_ACCOUNTS = 10_000;
const keyCache = new Map<string, { keys: Awaited<ReturnType<typeof getTrackingKeys>>['keys']; at: number }>();

async function verified(token: ReadToken): Promise<boolean> {
  const { accountId, keyId } = token.claims;
  const now = Date.now();
  let cached = keyCache.get(accountId);
  const known = cached?.keys.some((key) => key.keyId === keyId);
  // A key id not in the cache is looked up again: a key rotated in moments ago signs at once.
  if (!cached || now - cached.at > CACHE_MS || !known) {
    if (keyCache.size >= MAX_CACHED_ACCOUNTS) keyCache.clear();
    cached = { keys: (await getTrackingKeys(accountId)).keys, at: now };
    keyCache.set(accountId, cached);
  }
  const key = verifyingKeys(cached.keys, clock.now(), LINK_DAYS).find((candidate) => candidate.keyId === keyId);
  return key !== undefined && verifyToken(token, key.secret);
}

// ---- 404 ----

const NOT_VALID_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link not valid</title></head>' +
  '<body><h1>This link is not valid</h1><p>The link may have been changed or may have expired.</p></body></html>';

function notValid(kind: TrackingKind): APIGatewayProxyStructuredResultV2 {
  logger.debug('Tracking token refused', { type: kind });
  return {
    statusCode: 404,
    headers: {
      ...NOT_STORED,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'",
    },
    body: NOT_VALID_PAGE,
  };
}
