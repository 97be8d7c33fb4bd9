import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { CHECK_LIMITS, TooManyChecks } from '#shared/loops/check-limits.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { TABLE, isConditionalCheckFailure, itemKeys } from './table.ts';

/**
 * Rate limits that hold across execution environments: one counter item per subject in the table,
 * counting requests in a window that opens with the first of them (so `limit` requests within any
 * window's length always pass, whatever the clock's minute). Each is one conditional UpdateItem, and
 * DynamoDB lets exactly `limit` of them pass however many arrive at once; items expire through TTL.
 */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

type Key = { pk: string; sk: string };

/** Counts one check of `loop` (a verification or a test), or throws TooManyChecks (CHECK_LIMITS). */
export async function countCheck(loop: LoopRecord, now: Date): Promise<void> {
  const { perLoop, perAccount } = CHECK_LIMITS;
  const loopWait = await takeRateToken(itemKeys.rateCounter(loop.accountId, loop.id), perLoop, now);
  if (loopWait !== undefined) throw new TooManyChecks('loop', perLoop.limit, loopWait);
  const accountWait = await takeRateToken(itemKeys.rateCounter(loop.accountId, 'ACCOUNT'), perAccount, now);
  if (accountWait !== undefined) throw new TooManyChecks('account', perAccount.limit, accountWait);
}

/** Counts one request against `key`: undefined when it may go ahead, else the seconds until it may. */
export async function takeRateToken(key: Key, rule: RateLimit, now: Date): Promise<number | undefined> {
  const cutoff = now.getTime() - rule.windowMs;
  // Two requests may both find a window over and race to open the next: the loser counts in it.
  for (let round = 0; round < 3; round++) {
    const counted = await update(key, {
      UpdateExpression: 'SET hits = hits + :one',
      ConditionExpression: 'windowStart > :cutoff AND hits < :max',
      ExpressionAttributeValues: { ':one': 1, ':cutoff': cutoff, ':max': rule.limit },
    });
    if (counted === true) return undefined;
    const windowStart = Number(counted?.windowStart?.N);
    if (windowStart > cutoff) return Math.max(1, Math.ceil((windowStart + rule.windowMs - now.getTime()) / 1000));
    const opened = await update(key, {
      UpdateExpression: 'SET windowStart = :now, hits = :one, expiresAt = :expires',
      ConditionExpression: 'attribute_not_exists(pk) OR windowStart <= :cutoff',
      ExpressionAttributeValues: {
        ':now': now.getTime(),
        ':one': 1,
        ':cutoff': cutoff,
        ':expires': Math.ceil((now.getTime() + rule.windowMs) / 1000) + 60,
      },
    });
    if (opened === true) return undefined;
  }
  return Math.ceil(rule.windowMs / 1000);
}

type OldItem = Record<string, { N?: string } | undefined> | undefined;

/** true when the update was made; else the item as it was (in DynamoDB's own JSON), if there was one. */
async function update(
  key: Key,
  expression: {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeValues: Record<string, number>;
  },
): Promise<true | OldItem> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: TABLE(),
        Key: key,
        ...expression,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
    // The DocumentClient does not unmarshall an error's item: it stays { name: { N: "…" } }.
    return (error as { Item?: OldItem }).Item;
  }
}
