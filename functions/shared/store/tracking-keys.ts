import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TrackingKey } from '#shared/accounts/tracking-keys.ts';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { ConditionFailed, TABLE, isConditionalCheckFailure, itemKeys } from './table.ts';

/** An account's tracking keys, one item; `version` makes each change a compare-and-set. */
export interface StoredTrackingKeys {
  keys: TrackingKey[];
  version: number;
}

export async function getTrackingKeys(accountId: string, consistent = false): Promise<StoredTrackingKeys> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: TABLE(), Key: itemKeys.trackingKeys(accountId), ConsistentRead: consistent }),
  );
  return { keys: (Item?.keys as TrackingKey[] | undefined) ?? [], version: (Item?.version as number | undefined) ?? 0 };
}

/** Replaces the keys if nobody changed them since `version` was read; ConditionFailed otherwise. */
export async function putTrackingKeys(accountId: string, keys: TrackingKey[], version: number): Promise<void> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: TABLE(),
        Item: { ...itemKeys.trackingKeys(accountId), keys, version: version + 1 },
        ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : 'version = :version',
        ...(version === 0 ? {} : { ExpressionAttributeValues: { ':version': version } }),
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailure(error)) throw new ConditionFailed('The tracking keys changed meanwhile');
    throw error;
  }
}
