import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type LoopRecord, withGone } from '#shared/loops/loop.ts';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { type Page, decodeCursor, pageOf } from './cursors.ts';
import {
  ConditionFailed,
  INDEX_NAME,
  PENDING_VERIFICATION,
  TABLE,
  batchGet,
  itemKeys,
  queryAll,
  transact,
  isConditionalCheckFailure,
} from './table.ts';

/** Loops, one item each under their account; unverified ones also in the verifier's sparse index. */

/** Creates a loop if the account has fewer than `maxLoops`; ConditionFailed when it has not. */
export async function createLoop(loop: LoopRecord, maxLoops: number): Promise<void> {
  await transact([
    {
      Update: {
        TableName: TABLE(),
        Key: itemKeys.account(loop.accountId),
        UpdateExpression: 'SET loopCount = if_not_exists(loopCount, :zero) + :one',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(loopCount) OR loopCount < :max)',
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': maxLoops },
      },
    },
    { Put: { TableName: TABLE(), Item: loopItem(loop), ConditionExpression: 'attribute_not_exists(pk)' } },
  ]);
}

export async function getLoop(accountId: string, loopId: string): Promise<LoopRecord | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: TABLE(), Key: itemKeys.loop(accountId, loopId) }));
  return Item ? toLoop(Item) : undefined;
}

/** Writes a changed loop, unless it changed since `previousUpdatedAt` (ConditionFailed). */
export async function saveLoop(loop: LoopRecord, previousUpdatedAt: string): Promise<void> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: TABLE(),
        Item: loopItem(loop),
        ConditionExpression: 'updatedAt = :previous',
        ExpressionAttributeValues: { ':previous': previousUpdatedAt },
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailure(error)) throw new ConditionFailed('the loop changed meanwhile');
    throw error;
  }
}

/**
 * Disables the loop after its receiver answered 410 Gone (`answer`, e.g. `HTTP 410`). A change made
 * meanwhile is read again and the 410 applied to it (at most three times), unless the loop is no
 * longer verified by then (deleted, disabled, re-pointed): answers whether this call disabled it.
 */
export async function disableAfterGone(loop: LoopRecord, answer: string, now: Date): Promise<boolean> {
  let current: LoopRecord | undefined = loop;
  for (let tries = 0; current && current.status === 'verified' && tries < 3; tries++) {
    try {
      await saveLoop(withGone(current, answer, now), current.updatedAt);
      return true;
    } catch (error) {
      if (!(error instanceof ConditionFailed)) throw error;
      current = await getLoop(loop.accountId, loop.id);
    }
  }
  return false;
}

/**
 * Deletes a loop and counts it off its account; false when there was none. A count that drifted to
 * 0 (or is missing) never keeps a loop from being deleted: the loop is then deleted alone.
 */
export async function deleteLoop(accountId: string, loopId: string): Promise<boolean> {
  const deleteItem = {
    TableName: TABLE(),
    Key: itemKeys.loop(accountId, loopId),
    ConditionExpression: 'attribute_exists(pk)',
  };
  try {
    await transact([
      { Delete: deleteItem },
      {
        Update: {
          TableName: TABLE(),
          Key: itemKeys.account(accountId),
          UpdateExpression: 'SET loopCount = loopCount - :one',
          ConditionExpression: 'loopCount > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
        },
      },
    ]);
    return true;
  } catch (error) {
    if (!(error instanceof ConditionFailed)) throw error;
    if (error.failedItems.includes(0)) return false;
  }
  try {
    await dynamo.send(new DeleteCommand(deleteItem));
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

export async function listLoopsPage(
  accountId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<LoopRecord>> {
  const pk = itemKeys.account(accountId).pk;
  const page = await dynamo.send(
    new QueryCommand({
      TableName: TABLE(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :loop)',
      ExpressionAttributeValues: { ':pk': pk, ':loop': 'LOOP#' },
      Limit: limit + 1,
      ExclusiveStartKey: decodeCursor(cursor, {
        pk: (value) => value === pk,
        sk: (value) => value.startsWith('LOOP#'),
      }),
    }),
  );
  return pageOf(page.Items ?? [], limit, ['pk', 'sk'], toLoop);
}

/** Every loop of an account (fan-out reads them all). */
export async function listLoops(accountId: string): Promise<LoopRecord[]> {
  return (
    await queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :loop)',
      ExpressionAttributeValues: { ':pk': itemKeys.account(accountId).pk, ':loop': 'LOOP#' },
    })
  ).map(toLoop);
}

/** Loops awaiting verification whose re-check window is still open at `now`. */
export async function listLoopsAwaitingVerification(now: Date): Promise<LoopRecord[]> {
  return (
    await queryAll({
      IndexName: INDEX_NAME,
      KeyConditionExpression: 'gsi1pk = :verify AND gsi1sk > :now',
      ExpressionAttributeValues: { ':verify': PENDING_VERIFICATION, ':now': now.toISOString() },
    })
  ).map(toLoop);
}

/** The stored item: unverified loops are in the index the scheduled re-check reads, until their deadline. */
function loopItem(loop: LoopRecord) {
  const pending =
    loop.status === 'unverified'
      ? { gsi1pk: PENDING_VERIFICATION, gsi1sk: `${loop.verification.checkUntil}#${loop.id}` }
      : {};
  return { ...itemKeys.loop(loop.accountId, loop.id), ...pending, ...loop };
}

function toLoop(item: Record<string, unknown>): LoopRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...loop } = item;
  return loop as unknown as LoopRecord;
}

/**
 * These loops as they are now (strongly consistent, one BatchGetItem per 100): what deliver reads
 * before posting, so a change the API has answered already holds. By loop id.
 */
export async function readLoopsNow(keys: { accountId: string; loopId: string }[]): Promise<Map<string, LoopRecord>> {
  const items = await batchGet(
    keys.map(({ accountId, loopId }) => itemKeys.loop(accountId, loopId)),
    { consistent: true },
  );
  return new Map(items.map((item) => toLoop(item)).map((loop) => [loop.id, loop]));
}
