import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { clock } from '#shared/runtime/clock.ts';
import { logger } from '#shared/runtime/logger.ts';
import { outboundPolicyFromEnv } from '#shared/outbound/policy.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { listLoopsAwaitingVerification, saveLoop } from '#shared/store/loops.ts';
import { ConditionFailed } from '#shared/store/table.ts';
import { CHECK_MAX_MS, applyVerification, checkVerification, recheckOrder } from '#shared/loops/verification.ts';

const OUTBOUND = outboundPolicyFromEnv();
/** Checks at a time: each waits at most 5 s for a server, and the function has a minute. */
const CONCURRENCY = 10;
/** No check starts with less time left than it may take, plus room to save it. */
const CHECK_RESERVE_MS = CHECK_MAX_MS + 3000;

/**
 * Every 5 minutes (docs/api.md §6): checks the unverified loops whose 7-day window is open, so a loop
 * becomes verified once its file is in place, without the account asking. Fair and bounded: the
 * accounts take turns, least recently checked loops first, loops whose servers keep hanging back
 * off (`recheckOrder`), and no check starts that could outlast the invocation; what a run leaves
 * is first in line at the next.
 */
export const handler = middy<ScheduledEvent, void, Error, Context>()
  .use(injectLambdaContext(logger))
  .handler(async (_event, context) => {
    const now = clock.now();
    const waiting = await listLoopsAwaitingVerification(now);
    const queue = recheckOrder(waiting, now);
    const due = queue.length;
    let verified = 0;
    const worker = async () => {
      while (queue.length && context.getRemainingTimeInMillis() > CHECK_RESERVE_MS) {
        if (await recheck(queue.shift()!)) verified++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    logger.info('Verification re-check done', {
      waiting: waiting.length,
      due,
      checked: due - queue.length,
      verified,
    });
  });

async function recheck(previous: LoopRecord): Promise<boolean> {
  const result = await checkVerification(previous, OUTBOUND);
  const loop = applyVerification(previous, result, clock.now());
  try {
    await saveLoop(loop, previous.updatedAt);
  } catch (error) {
    // The account changed the loop meanwhile (a new URL, say): its own state wins.
    if (error instanceof ConditionFailed) return false;
    throw error;
  }
  return loop.status === 'verified';
}
