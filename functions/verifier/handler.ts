import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { clock } from '#shared/runtime/clock.ts';
import { logger } from '#shared/runtime/logger.ts';
import { outboundPolicyFromEnv } from '#shared/outbound/policy.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { listLoopsAwaitingVerification, saveLoop } from '#shared/store/loops.ts';
import { ConditionFailed } from '#shared/store/table.ts';
import { applyVerification, checkVerification } from '#shared/loops/verification.ts';

const OUTBOUND = outboundPolicyFromEnv();
/** Checks at a time: each waits at most 5 s for a server, and the function has a minute. */
const CONCURRENCY = 10;

/**
 * Every 5 minutes (SPEC §6): checks each unverified loop whose 7-day window is open, so a loop
 * becomes verified once its file is in place, without the account asking.
 */
export const handler = middy<ScheduledEvent, void>()
  .use(injectLambdaContext(logger))
  .handler(async () => {
    const now = clock.now();
    const loops = await listLoopsAwaitingVerification(now);
    let verified = 0;
    const queue = [...loops];
    const worker = async () => {
      for (let loop = queue.shift(); loop; loop = queue.shift()) {
        if (await recheck(loop, now)) verified++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    logger.info('Verification re-check done', { checked: loops.length, verified });
  });

async function recheck(previous: LoopRecord, now: Date): Promise<boolean> {
  const loop = applyVerification(previous, await checkVerification(previous, OUTBOUND), now);
  try {
    await saveLoop(loop, previous.updatedAt);
  } catch (error) {
    // The account changed the loop meanwhile (a new URL, say): its own state wins.
    if (error instanceof ConditionFailed) return false;
    throw error;
  }
  return loop.status === 'verified';
}
