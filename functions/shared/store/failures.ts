import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { FAILURE_RETENTION_DAYS, type FailureRecord } from '#shared/delivery/failure.ts';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { type Page, decodeCursor, pageOf } from './cursors.ts';
import {
  INDEX_NAME,
  TABLE,
  batchGet,
  expired,
  expiresAfterDays,
  itemKeys,
  queryAll,
  isConditionalCheckFailure,
} from './table.ts';

/**
 * Failed deliveries under their loop, one per (loop, event): a delivery that fails again after a
 * replay replaces its record. Listed newest first through the index.
 */

export async function recordFailure(failure: FailureRecord): Promise<void> {
  const pk = itemKeys.failures(failure.accountId, failure.loopId);
  await dynamo.send(
    new PutCommand({
      TableName: TABLE(),
      Item: {
        ...itemKeys.failure(failure.accountId, failure.loopId, failure.eventId),
        gsi1pk: pk,
        gsi1sk: `${failure.failedAt}#${failure.eventId}`,
        ...failure,
        // As JSON text: a DynamoDB number cannot hold every JSON number (1e21 in `fields`, say).
        delivery: JSON.stringify(failure.delivery),
        expiresAt: expiresAfterDays(new Date(failure.failedAt), FAILURE_RETENTION_DAYS),
      },
    }),
  );
}

export async function listFailures(
  accountId: string,
  loopId: string,
  limit: number,
  cursor: string | undefined,
  now: Date,
): Promise<Page<FailureRecord>> {
  const pk = itemKeys.failures(accountId, loopId);
  const page = await dynamo.send(
    new QueryCommand({
      TableName: TABLE(),
      IndexName: INDEX_NAME,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ScanIndexForward: false,
      Limit: limit + 1,
      ExclusiveStartKey: decodeCursor(cursor, {
        pk: (value) => value === pk,
        sk: (value) => value.startsWith('EVENT#'),
        gsi1pk: (value) => value === pk,
        gsi1sk: (value) => /^\d{4}-\d\d-\d\dT[\d:.]+Z#/.test(value),
      }),
    }),
  );
  const found = pageOf(page.Items ?? [], limit, ['pk', 'sk', 'gsi1pk', 'gsi1sk'], toFailure);
  // Filtered after paging, not in the query: a filter would make pages short and hide the cursor.
  return { ...found, items: found.items.filter((failure) => !failureExpired(failure, now)) };
}

function failureExpired(failure: FailureRecord, now: Date): boolean {
  return expiresAfterDays(new Date(failure.failedAt), FAILURE_RETENTION_DAYS) * 1000 <= now.getTime();
}

/** The loop's failures to replay: all of them, or those of these event ids. */
export async function failuresToReplay(
  accountId: string,
  loopId: string,
  eventIds: string[] | undefined,
  now: Date,
): Promise<FailureRecord[]> {
  const items = eventIds
    ? await batchGet(eventIds.map((eventId) => itemKeys.failure(accountId, loopId, eventId)))
    : await queryAll({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': itemKeys.failures(accountId, loopId) },
      });
  return items.filter((item) => !expired(item, now)).map(toFailure);
}

/** Removes a failure once its replay went through, unless it failed again (a newer record) meanwhile. */
export async function clearFailure(accountId: string, loopId: string, eventId: string, failedAt: string) {
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: TABLE(),
        Key: itemKeys.failure(accountId, loopId, eventId),
        ConditionExpression: 'failedAt = :failedAt',
        ExpressionAttributeValues: { ':failedAt': failedAt },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

function toFailure(item: Record<string, unknown>): FailureRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, expiresAt: _expiresAt, delivery, ...failure } = item;
  return { ...failure, delivery: JSON.parse(delivery as string) } as unknown as FailureRecord;
}
