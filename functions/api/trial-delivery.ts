import { type AttemptOutcome, attempt, signedRequest } from '#shared/delivery/attempt.ts';
import { testEvent } from '#shared/delivery/trial-event.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import type { ApiEvent, ApiResult } from '#shared/http/api-handler.ts';
import type { TestResult } from '#shared/http/responses.ts';
import { send } from '#shared/outbound/client.ts';
import { outboundPolicyFromEnv } from '#shared/outbound/policy.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireIntEnv } from '#shared/runtime/config.ts';
import { conflict } from '#shared/http/errors.ts';
import { countCheck } from '#shared/store/rate-limits.ts';
import { ownLoop } from './loops.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/**
 * `POST /v1/loops/{loopId}/test` (docs/api.md §3): one signed `test` event, POSTed while the caller waits,
 * through the same guarded client, encoding and signing as every delivery, and answered with what
 * the receiver did. A manual check: it is not queued, not retried and leaves no failure behind.
 */

const OUTBOUND = outboundPolicyFromEnv();
// Read when a test runs, not at import: the other routes do not need it.
const testTimeoutMs = () => requireIntEnv(ENV.TEST_TIMEOUT_SECONDS) * 1000;

export async function testLoop(event: ApiEvent): Promise<ApiResult> {
  const loop = await ownLoop(event);
  // Nothing is POSTed to a loop before it is verified (docs/api.md §6), not even a test. A disabled loop
  // (by its account, or by a 410) may be tested: that is how one finds out it works again.
  if (loop.status === 'unverified') {
    throw conflict(
      'loop_not_verified',
      'The loop is not verified yet, so nothing was sent: place its verification file and POST …/verify first.',
    );
  }
  const now = clock.now();
  await countCheck(loop, now);
  const request = signedRequest(loop, toRecord(testEvent(now)), now, testTimeoutMs());
  const outcome = await attempt((outbound) => send(OUTBOUND, outbound), request, now);
  // A 410 Gone here does NOT disable the loop, unlike a delivery's (docs/api.md §5): the test is a manual
  // check whose answer the account reads right here, and its receiver may answer 410 on purpose.
  return { status: 200, body: testResult(outcome) };
}

function testResult(outcome: AttemptOutcome): TestResult {
  if (outcome.ok) return { delivered: true, status: outcome.status, durationMs: outcome.durationMs };
  return {
    delivered: false,
    ...(outcome.kind === 'status' ? { status: outcome.status } : {}),
    error: outcome.error,
    durationMs: outcome.durationMs,
  };
}
