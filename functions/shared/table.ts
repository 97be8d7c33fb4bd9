import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamo } from './aws.ts';
import { requireEnv } from './config.ts';
import { badRequest } from './errors.ts';
import type { AnyEventType } from './events.ts';

/**
 * The single table's items. Keys are built here and nowhere else:
 *
 *   account        pk ACCOUNT#<accountId>   sk ACCOUNT              gsi1: ACCOUNTS / <accountId>
 *   API key        pk APIKEY#<sha256>       sk APIKEY               (what the authoriser looks up)
 *   key of account pk ACCOUNT#<accountId>   sk KEY#<keyId>          (to revoke a key by its id)
 *   loop           pk ACCOUNT#<accountId>   sk LOOP#<loopId>        gsi1 while awaiting verification:
 *                                                                    VERIFY / <deadline>#<loopId>
 */
export const itemKeys = {
  account: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT' }),
  apiKey: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' }),
  accountKey: (accountId: string, keyId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `KEY#${keyId}` }),
  loop: (accountId: string, loopId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `LOOP#${loopId}` }),
};
const ACCOUNTS_INDEX = { gsi1pk: 'ACCOUNTS' };
const PENDING_VERIFICATION = 'VERIFY';
export const INDEX_NAME = 'gsi1';

export interface AccountRecord {
  id: string;
  name: string;
  createdAt: string;
  loopCount: number;
}

export interface ApiKeyRecord {
  keyId: string;
  accountId: string;
  createdAt: string;
}

export type LoopStatus = 'unverified' | 'verified' | 'disabled';

export interface LoopSecret {
  value: string;
  /** Set on the previous secret during a rotation: it signs alongside until then. */
  expiresAt?: string;
}

export interface LoopVerification {
  file: string;
  content: string;
  /** The scheduled re-check gives up after this (7 days after creation or a URL change). */
  checkUntil: string;
  lastCheckedAt?: string;
  lastError?: string;
}

export interface LoopRecord {
  id: string;
  accountId: string;
  url: string;
  events: AnyEventType[];
  format: 'form' | 'json';
  description: string;
  enabled: boolean;
  status: LoopStatus;
  disabledReason?: string;
  secrets: LoopSecret[];
  verification: LoopVerification;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** A conditional write that lost: the item is not (or no longer) as the caller expected. */
export class ConditionFailed extends Error {}

/** Every function that uses the table has TABLE_NAME set by the stack (AppFunction.useTable). */
const TABLE = () => requireEnv('TABLE_NAME');

// Accounts and keys

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

export async function getAccount(accountId: string): Promise<AccountRecord | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: TABLE(), Key: itemKeys.account(accountId) }));
  return Item ? { id: Item.id, name: Item.name, createdAt: Item.createdAt, loopCount: Item.loopCount ?? 0 } : undefined;
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

// Loops

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
    if ((error as Error).name === 'ConditionalCheckFailedException')
      throw new ConditionFailed('the loop changed meanwhile');
    throw error;
  }
}

/** Deletes a loop; false when there was none. */
export async function deleteLoop(accountId: string, loopId: string): Promise<boolean> {
  try {
    await transact([
      {
        Delete: {
          TableName: TABLE(),
          Key: itemKeys.loop(accountId, loopId),
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
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
    if (error instanceof ConditionFailed) return false;
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

/** Every item a query matches, page after page. */
async function queryAll(
  query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(new QueryCommand({ ...query, TableName: TABLE(), ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
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

async function transact(
  items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
): Promise<void> {
  try {
    await dynamo.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if (error instanceof TransactionCanceledException || (error as Error).name === 'TransactionCanceledException') {
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed'))
        throw new ConditionFailed('a condition of the write failed');
    }
    throw error;
  }
}

// Cursors: the last key of a page, opaque to clients. A cursor is only accepted for the list it
// came from, so a client cannot page through another account's items by forging one.

/**
 * A page of at most `limit` items, read as `limit + 1`: the extra item only tells that more exist,
 * so a cursor is given exactly when there is a next page. The cursor is the last item's key.
 */
function pageOf<T>(
  items: Record<string, unknown>[],
  limit: number,
  keyNames: string[],
  convert: (item: Record<string, unknown>) => T,
): Page<T> {
  const shown = items.slice(0, limit);
  const last = shown.at(-1);
  if (items.length <= limit || !last) return { items: shown.map(convert) };
  const key = Object.fromEntries(keyNames.map((name) => [name, last[name]]));
  return { items: shown.map(convert), nextCursor: Buffer.from(JSON.stringify(key)).toString('base64url') };
}

/** A cursor's key must be exactly one of its list's keys: DynamoDB refuses (500) any other shape. */
function decodeCursor(
  cursor: string | undefined,
  expected: Record<string, (value: string) => boolean>,
): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const names = Object.keys(expected);
  const valid =
    key !== null &&
    typeof key === 'object' &&
    !Array.isArray(key) &&
    Object.keys(key).length === names.length &&
    names.every((name) => {
      const value = (key as Record<string, unknown>)[name];
      return typeof value === 'string' && value.length <= 200 && expected[name]!(value);
    });
  if (!valid) throw badRequest('invalid_cursor', 'The cursor is not one this list gave out; start again without it.');
  return key as Record<string, unknown>;
}
