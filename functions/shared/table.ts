import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './aws.ts';
import type { AnyEventType } from './events.ts';

/**
 * The single table's items. Keys are built here and nowhere else:
 *   API key      pk APIKEY#<sha256>        sk APIKEY
 *   loop         pk ACCOUNT#<accountId>    sk LOOP#<loopId>
 */
export const itemKeys = {
  apiKey: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' }),
  loop: (accountId: string, loopId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `LOOP#${loopId}` }),
};

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
  createdAt: string;
  updatedAt: string;
}

export async function findApiKey(tableName: string, hash: string): Promise<ApiKeyRecord | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: itemKeys.apiKey(hash) }));
  return Item ? { keyId: Item.keyId, accountId: Item.accountId, createdAt: Item.createdAt } : undefined;
}

export async function putApiKey(tableName: string, hash: string, record: ApiKeyRecord): Promise<void> {
  await dynamo.send(new PutCommand({ TableName: tableName, Item: { ...itemKeys.apiKey(hash), ...record } }));
}

export async function getLoop(tableName: string, accountId: string, loopId: string): Promise<LoopRecord | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: itemKeys.loop(accountId, loopId) }));
  return Item ? toLoop(Item) : undefined;
}

export async function putLoop(tableName: string, loop: LoopRecord): Promise<void> {
  await dynamo.send(new PutCommand({ TableName: tableName, Item: { ...itemKeys.loop(loop.accountId, loop.id), ...loop } }));
}

export async function listLoops(tableName: string, accountId: string): Promise<LoopRecord[]> {
  const loops: LoopRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :loop)',
        ExpressionAttributeValues: { ':pk': `ACCOUNT#${accountId}`, ':loop': 'LOOP#' },
        ExclusiveStartKey: startKey,
      }),
    );
    loops.push(...(page.Items ?? []).map(toLoop));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return loops;
}

function toLoop(item: Record<string, unknown>): LoopRecord {
  const { pk: _pk, sk: _sk, ...loop } = item;
  return loop as unknown as LoopRecord;
}
