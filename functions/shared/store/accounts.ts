import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AccountRecord, ApiKeyRecord } from '#shared/accounts/account.ts';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { type Page, decodeCursor, pageOf } from './cursors.ts';
import { ACCOUNTS_INDEX, INDEX_NAME, TABLE, itemKeys, transact } from './table.ts';

/** Accounts and their API keys (only a key's hash is stored). */

export async function createAccount(
  account: AccountRecord,
  key: { hash: string; record: ApiKeyRecord },
): Promise<void> {
  await dynamo.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: TABLE(),
            Item: { ...itemKeys.account(account.id), ...ACCOUNTS_INDEX, gsi1sk: account.id, ...account },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...keyPuts(key.hash, key.record),
      ],
    }),
  );
}

export async function listAccounts(limit: number, cursor: string | undefined): Promise<Page<AccountRecord>> {
  const page = await dynamo.send(
    new QueryCommand({
      TableName: TABLE(),
      IndexName: INDEX_NAME,
      KeyConditionExpression: 'gsi1pk = :accounts',
      ExpressionAttributeValues: { ':accounts': ACCOUNTS_INDEX.gsi1pk },
      Limit: limit + 1,
      ExclusiveStartKey: decodeCursor(cursor, {
        pk: (value) => value.startsWith('ACCOUNT#'),
        sk: (value) => value === 'ACCOUNT',
        gsi1pk: (value) => value === ACCOUNTS_INDEX.gsi1pk,
        gsi1sk: (value) => value.startsWith('acc_'),
      }),
    }),
  );
  return pageOf(page.Items ?? [], limit, ['pk', 'sk', 'gsi1pk', 'gsi1sk'], (item) => ({
    id: item.id as string,
    name: item.name as string,
    createdAt: item.createdAt as string,
    loopCount: (item.loopCount as number | undefined) ?? 0,
  }));
}

/** Adds a key to an existing account; ConditionFailed when the account does not exist. */
export async function addApiKey(hash: string, record: ApiKeyRecord): Promise<void> {
  await transact([
    {
      ConditionCheck: {
        TableName: TABLE(),
        Key: itemKeys.account(record.accountId),
        ConditionExpression: 'attribute_exists(pk)',
      },
    },
    ...keyPuts(hash, record),
  ]);
}

/** Deletes a key by its id; false when the account has no such key. */
export async function revokeApiKey(accountId: string, keyId: string): Promise<boolean> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: TABLE(), Key: itemKeys.accountKey(accountId, keyId) }),
  );
  if (!Item) return false;
  await dynamo.send(
    new TransactWriteCommand({
      TransactItems: [
        { Delete: { TableName: TABLE(), Key: itemKeys.accountKey(accountId, keyId) } },
        { Delete: { TableName: TABLE(), Key: itemKeys.apiKey(Item.hash) } },
      ],
    }),
  );
  return true;
}

export async function findApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: TABLE(), Key: itemKeys.apiKey(hash) }));
  return Item ? { keyId: Item.keyId, accountId: Item.accountId, createdAt: Item.createdAt } : undefined;
}

function keyPuts(hash: string, record: ApiKeyRecord) {
  return [
    {
      Put: {
        TableName: TABLE(),
        Item: { ...itemKeys.apiKey(hash), ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    {
      Put: {
        TableName: TABLE(),
        Item: { ...itemKeys.accountKey(record.accountId, record.keyId), hash, createdAt: record.createdAt },
      },
    },
  ];
}
