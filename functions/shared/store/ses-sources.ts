import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SesSource } from '#shared/events/ses-sources.ts';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { type Page, decodeCursor, pageOf } from './cursors.ts';
import { INDEX_NAME, TABLE, isConditionalCheckFailure, itemKeys } from './table.ts';

/**
 * SES configuration sets mapped to accounts (docs/ses.md): one item per configuration set, so that a
 * set belongs to one account (the put's condition settles two at once), listed per account through gsi1.
 */

/** Maps the set to the account: `created`, `exists` (the account's already) or `taken` (another's). */
export async function mapConfigurationSet(
  accountId: string,
  configurationSet: string,
  createdAt: string,
): Promise<{ outcome: 'created' | 'exists'; source: SesSource } | { outcome: 'taken' }> {
  const source = { configurationSet, createdAt };
  try {
    await dynamo.send(
      new PutCommand({
        TableName: TABLE(),
        Item: {
          ...itemKeys.sesSource(configurationSet),
          ...itemKeys.sesSourcesOf(accountId),
          gsi1sk: configurationSet,
          accountId,
          ...source,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { outcome: 'created', source };
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: TABLE(), Key: itemKeys.sesSource(configurationSet), ConsistentRead: true }),
  );
  if (Item?.accountId !== accountId) return { outcome: 'taken' };
  return { outcome: 'exists', source: { configurationSet, createdAt: Item.createdAt as string } };
}

export async function listConfigurationSets(
  accountId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<SesSource>> {
  const { gsi1pk } = itemKeys.sesSourcesOf(accountId);
  const page = await dynamo.send(
    new QueryCommand({
      TableName: TABLE(),
      IndexName: INDEX_NAME,
      KeyConditionExpression: 'gsi1pk = :account',
      ExpressionAttributeValues: { ':account': gsi1pk },
      Limit: limit + 1,
      ExclusiveStartKey: decodeCursor(cursor, {
        pk: (value) => value.startsWith('SESCONFIGSET#'),
        sk: (value) => value === 'SESCONFIGSET',
        gsi1pk: (value) => value === gsi1pk,
        gsi1sk: (value) => value.length > 0,
      }),
    }),
  );
  return pageOf(page.Items ?? [], limit, ['pk', 'sk', 'gsi1pk', 'gsi1sk'], (item) => ({
    configurationSet: item.configurationSet as string,
    createdAt: item.createdAt as string,
  }));
}

/** Removes the account's mapping; false when the set is not the account's (none, or another's). */
export async function unmapConfigurationSet(accountId: string, configurationSet: string): Promise<boolean> {
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: TABLE(),
        Key: itemKeys.sesSource(configurationSet),
        ConditionExpression: 'accountId = :account',
        ExpressionAttributeValues: { ':account': accountId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/** The account a configuration set is mapped to, if any. */
export async function accountOfConfigurationSet(configurationSet: string): Promise<string | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: TABLE(), Key: itemKeys.sesSource(configurationSet) }));
  return typeof Item?.accountId === 'string' ? Item.accountId : undefined;
}

/** Whether an account of this id exists (an SES message tag may name any). */
export async function accountExists(accountId: string): Promise<boolean> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: TABLE(), Key: itemKeys.account(accountId), ProjectionExpression: 'pk' }),
  );
  return Item !== undefined;
}
