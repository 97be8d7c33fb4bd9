import { clock } from '#shared/runtime/clock.ts';
import { requireIntEnv } from '#shared/runtime/config.ts';
import { ApiError, badRequest, conflict, notFound } from '#shared/http/errors.ts';
import { type ApiEvent, type ApiResult, requireAccount } from '#shared/http/api-handler.ts';
import { isId, newId } from '#shared/runtime/ids.ts';
import { LOOP_LIMITS, createLoopSchema, toLoopView, updateLoopSchema } from '#shared/loops/schemas.ts';
import { countCheck } from '#shared/store/rate-limits.ts';
import { checkTargetUrl } from '#shared/outbound/guard.ts';
import { outboundPolicyFromEnv } from '#shared/outbound/policy.ts';
import { generateSecret } from '#shared/delivery/signing.ts';
import { type LoopRecord, withChange, withRotatedSecret } from '#shared/loops/loop.ts';
import { createLoop, deleteLoop, getLoop, listLoopsPage, saveLoop } from '#shared/store/loops.ts';
import { ConditionFailed } from '#shared/store/table.ts';
import { parseRequest } from '#shared/http/validation.ts';
import { applyVerification, checkVerification, newVerification } from '#shared/loops/verification.ts';
import { pageParams, readBody } from './request.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const MAX_LOOPS_PER_ACCOUNT = requireIntEnv(ENV.MAX_LOOPS_PER_ACCOUNT);
const OUTBOUND = outboundPolicyFromEnv();

/**
 * The URL as it is stored: normalised (`new URL(raw).href`), so every later parser (the guard, the
 * client, the verification locations) reads the same host and path. A URL the system could never
 * reach is refused when it is given, not at the first delivery.
 */
function targetUrl(raw: string): string {
  const reason = checkTargetUrl(raw, OUTBOUND);
  if (reason)
    throw badRequest('invalid_request', `The url cannot be used: ${reason}.`, [{ path: 'url', message: reason }]);
  const url = new URL(raw).href;
  if (url.length > LOOP_LIMITS.urlMaxLength) {
    const message = `longer than ${LOOP_LIMITS.urlMaxLength} characters once normalised (${url.length})`;
    throw badRequest('invalid_request', `The url is ${message}.`, [{ path: 'url', message }]);
  }
  return url;
}

/** The account's loop, or 404: another account's loop is indistinguishable from none. */
export async function ownLoop(event: ApiEvent): Promise<LoopRecord> {
  const { accountId } = requireAccount(event);
  const loopId = event.pathParameters!.loopId!;
  const loop = isId('loop', loopId) ? await getLoop(accountId, loopId) : undefined;
  if (!loop) throw notFound(`There is no loop ${loopId}.`);
  return loop;
}

async function save(loop: LoopRecord, previous: LoopRecord): Promise<void> {
  try {
    await saveLoop(loop, previous.updatedAt);
  } catch (error) {
    if (error instanceof ConditionFailed)
      throw conflict('conflict', 'The loop was changed by another request meanwhile; read it and try again.');
    throw error;
  }
}

export async function postLoop(event: ApiEvent): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const input = parseRequest(createLoopSchema, readBody(event));
  const url = targetUrl(input.url);
  const now = clock.now();
  const loop: LoopRecord = {
    id: newId('loop'),
    accountId,
    url,
    events: input.events,
    format: input.format ?? 'form',
    description: input.description ?? '',
    enabled: input.enabled ?? true,
    status: 'unverified',
    secrets: [{ value: generateSecret() }],
    verification: newVerification(now),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  try {
    await createLoop(loop, MAX_LOOPS_PER_ACCOUNT);
  } catch (error) {
    if (error instanceof ConditionFailed) {
      throw conflict(
        'loop_limit_reached',
        `An account may have at most ${MAX_LOOPS_PER_ACCOUNT} loops; delete one first.`,
      );
    }
    throw error;
  }
  return { status: 201, body: toLoopView(loop, { withSecret: true }) };
}

export async function getLoops(event: ApiEvent): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const { limit, cursor } = pageParams(event);
  const page = await listLoopsPage(accountId, limit, cursor);
  return {
    status: 200,
    body: {
      loops: page.items.map((loop) => toLoopView(loop)),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    },
  };
}

export async function getOneLoop(event: ApiEvent): Promise<ApiResult> {
  return { status: 200, body: toLoopView(await ownLoop(event)) };
}

export async function patchLoop(event: ApiEvent): Promise<ApiResult> {
  const previous = await ownLoop(event);
  const input = parseRequest(updateLoopSchema, readBody(event));
  // The URL it has passes as it is; another is checked and normalised (it may normalise to the same).
  const change =
    input.url === undefined || input.url === previous.url ? input : { ...input, url: targetUrl(input.url) };
  const loop = withChange(previous, change, clock.now(), newVerification);
  await save(loop, previous);
  return { status: 200, body: toLoopView(loop) };
}

export async function removeLoop(event: ApiEvent): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const loopId = event.pathParameters!.loopId!;
  if (!isId('loop', loopId) || !(await deleteLoop(accountId, loopId))) throw notFound(`There is no loop ${loopId}.`);
  return { status: 204 };
}

export async function verifyLoop(event: ApiEvent): Promise<ApiResult> {
  const previous = await ownLoop(event);
  if (previous.status !== 'unverified') return { status: 200, body: toLoopView(previous) };
  await countCheck(previous, clock.now());
  const result = await checkVerification(previous, OUTBOUND);
  const loop = applyVerification(previous, result, clock.now());
  await save(loop, previous);
  if (loop.status === 'verified') return { status: 200, body: toLoopView(loop) };
  throw new ApiError(
    422,
    'verification_failed',
    `The verification file ${loop.verification.file} was not found with its content at any location.`,
    {
      details: result.results.map((entry, index) => ({
        path: `verification.locations[${index}]`,
        message: `${entry.location}: ${entry.found}`,
      })),
    },
  );
}

export async function rotateSecret(event: ApiEvent): Promise<ApiResult> {
  const previous = await ownLoop(event);
  const secret = generateSecret();
  await save(withRotatedSecret(previous, secret, clock.now()), previous);
  return { status: 200, body: { secret } };
}
