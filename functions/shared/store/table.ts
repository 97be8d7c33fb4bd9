import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DeleteCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/**
 * The single table's items. Keys are built here and nowhere else:
 *
 *   account        pk ACCOUNT#<accountId>   sk ACCOUNT              gsi1: ACCOUNTS / <accountId>
 *   API key        pk APIKEY#<sha256>       sk APIKEY               (what the authoriser looks up)
 *   key of account pk ACCOUNT#<accountId>   sk KEY#<keyId>          (to revoke a key by its id)
 *   tracking keys  pk ACCOUNT#<accountId>   sk TRACKING             (the keys that sign and verify tracking URLs)
 *   loop           pk ACCOUNT#<accountId>   sk LOOP#<loopId>        gsi1 while awaiting verification:
 *                                                                    VERIFY / <deadline>#<loopId>
 *   message context pk MSG#<accountId>#<message>  sk CONTEXT        (left by a sent event; expires)
 *   client event id pk EVENTID#<accountId>#<id>   sk EVENTID        (idempotency claim; expires after 7 days)
 *   failure        pk FAILURES#<accountId>#<loopId>  sk EVENT#<eventId>   gsi1: same pk / <failedAt>#<eventId>
 *                                                                    (newest first; expires after 14 days)
 *   log file       pk LOGS#<accountId>      sk FILE#<date>#<prefix>  gsi1 until compacted: LOGS_OPEN / <date>#<accountId>#<prefix>
 *                                                                    (the index of the log files; expires with them)
 *   rate counter   pk RATE#<accountId>#<subject>  sk RATE        (requests in a window; subject ACCOUNT or a loop id; expires)
 *   SES source     pk SESCONFIGSET#<name>   sk SESCONFIGSET          gsi1: SESCONFIGSETS#<accountId> / <name>
 *                                                                    (an SES configuration set and its one account)
 *
 * Contexts and claims are one partition each, so a busy account spreads over the table instead of
 * heating one partition. `expiresAt` (Unix seconds) lets DynamoDB's TTL delete items; reads also
 * treat an item past it as gone, since TTL deletes lazily.
 */
export const itemKeys = {
  account: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT' }),
  apiKey: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' }),
  accountKey: (accountId: string, keyId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `KEY#${keyId}` }),
  trackingKeys: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'TRACKING' }),
  loop: (accountId: string, loopId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `LOOP#${loopId}` }),
  messageContext: (accountId: string, message: string) => ({ pk: `MSG#${accountId}#${message}`, sk: 'CONTEXT' }),
  eventId: (accountId: string, id: string) => ({ pk: `EVENTID#${accountId}#${id}`, sk: 'EVENTID' }),
  logFiles: (accountId: string) => `LOGS#${accountId}`,
  logFile: (accountId: string, date: string, prefix: string) => ({
    pk: `LOGS#${accountId}`,
    sk: `FILE#${date}#${prefix}`,
  }),
  rateCounter: (accountId: string, subject: string) => ({ pk: `RATE#${accountId}#${subject}`, sk: 'RATE' }),
  failures: (accountId: string, loopId: string) => failuresPk(accountId, loopId),
  sesSource: (configurationSet: string) => ({ pk: `SESCONFIGSET#${configurationSet}`, sk: 'SESCONFIGSET' }),
  sesSourcesOf: (accountId: string) => ({ gsi1pk: `SESCONFIGSETS#${accountId}` }),
  failure: (accountId: string, loopId: string, eventId: string) => ({
    pk: failuresPk(accountId, loopId),
    sk: `EVENT#${eventId}`,
  }),
};

function failuresPk(accountId: string, loopId: string): string {
  return `FAILURES#${accountId}#${loopId}`;
}

/** Unix seconds `days` after `now`: the value of a TTL attribute. */
export function expiresAfterDays(now: Date, days: number): number {
  return Math.floor(now.getTime() / 1000) + days * 24 * 60 * 60;
}

/** Whether a read item is past its TTL (DynamoDB deletes expired items only eventually). */
export function expired(item: Record<string, unknown>, now: Date): boolean {
  return typeof item.expiresAt === 'number' && item.expiresAt * 1000 <= now.getTime();
}
export const ACCOUNTS_INDEX = { gsi1pk: 'ACCOUNTS' };
export const PENDING_VERIFICATION = 'VERIFY';
export const INDEX_NAME = 'gsi1';

/** A conditional write that lost: the item is not (or no longer) as the caller expected. */
export class ConditionFailed extends Error {
  /** In a transaction: the positions of the items whose condition failed. */
  readonly failedItems: number[];

  constructor(message: string, failedItems: number[] = []) {
    super(message);
    this.failedItems = failedItems;
  }
}

/**
 * Whether a single-item write failed its ConditionExpression (DynamoDB's
 * ConditionalCheckFailedException, told by its name).
 * A transaction's failed conditions come as a ConditionFailed from `transact`.
 */
export function isConditionalCheckFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** A conditional update or delete: true when it was made, false when its condition did not hold. */
export async function conditionally(command: UpdateCommand | DeleteCommand): Promise<boolean> {
  try {
    await dynamo.send(command as UpdateCommand);
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/** Every function that uses the table has TABLE_NAME set by the stack (AppFunction.useTable). */
export const TABLE = () => requireEnv(ENV.TABLE_NAME);

type Key = { pk: string; sk: string };

/**
 * The items of these keys, read in as few BatchGetItem calls as DynamoDB allows (100 keys each),
 * retrying what it leaves unprocessed. Missing items are simply absent from the answer.
 */
export async function batchGet(
  keys: Key[],
  options: { consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const unique = [...new Map(keys.map((key) => [`${key.pk}\u0000${key.sk}`, key])).values()];
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < unique.length; start += 100) {
    let pending: Record<string, unknown>[] | undefined = unique.slice(start, start + 100);
    for (let round = 0; pending?.length; round++) {
      if (round > 0) await backoff(round);
      const answer: BatchGetCommandOutput = await dynamo.send(
        new BatchGetCommand({
          RequestItems: { [TABLE()]: { Keys: pending, ConsistentRead: options.consistent ?? false } },
        }),
      );
      items.push(...(answer.Responses?.[TABLE()] ?? []));
      pending = answer.UnprocessedKeys?.[TABLE()]?.Keys;
      if (round > 8 && pending?.length) throw new Error(`${pending.length} keys stayed unprocessed`);
    }
  }
  return items;
}

/** Puts these items in as few BatchWriteItem calls as DynamoDB allows (25 each), retrying what it leaves. */
export async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  for (let start = 0; start < items.length; start += 25) {
    let pending = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; pending.length; round++) {
      if (round > 0) await backoff(round);
      const answer: BatchWriteCommandOutput = await dynamo.send(
        new BatchWriteCommand({ RequestItems: { [TABLE()]: pending } }),
      );
      pending = (answer.UnprocessedItems?.[TABLE()] ?? []) as typeof pending;
      if (round > 8 && pending.length) throw new Error(`${pending.length} writes stayed unprocessed`);
    }
  }
}

function backoff(round: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round * Math.random())));
}

/** Every item a query matches, page after page. */
export async function queryAll(
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

export async function transact(
  items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
): Promise<void> {
  try {
    await dynamo.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if (error instanceof TransactionCanceledException || (error as Error).name === 'TransactionCanceledException') {
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      const failed = reasons.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
      if (failed.length) throw new ConditionFailed('a condition of the write failed', failed);
    }
    throw error;
  }
}
