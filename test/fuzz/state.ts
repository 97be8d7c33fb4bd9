import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Fixture } from './fixture.ts';
import type { RawClient, TwinAccess } from './http.ts';

/**
 * What a refused request must not change, seen two ways: through the API (the accounts list, each
 * side's loop list and each loop) and in the table (each side's partition: the account, its keys,
 * its loops with their secrets; and each key's hash item the authoriser reads).
 */
export type Snapshot = Record<string, unknown>;

export class StateReader {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(
    private readonly client: RawClient,
    private readonly fixture: Fixture,
    twin: TwinAccess,
  ) {
    this.db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: twin.endpoint, region: twin.region, credentials: twin.credentials }),
    );
    const tables = Object.keys(twin.resources).filter((id) => /Table[0-9A-F]{8}$/.test(id));
    if (tables.length !== 1)
      throw new Error(`expected one table among the twin's resources, found ${tables.join(', ')}`);
    this.table = twin.resources[tables[0]!]!;
  }

  async snapshot(): Promise<Snapshot> {
    const { fixture } = this;
    const [accounts, A, B] = await Promise.all([
      this.pages('/v1/accounts', fixture.keys.admin!, 'accounts'),
      this.side('A'),
      this.side('B'),
    ]);
    return { accounts, A, B };
  }

  private async side(side: 'A' | 'B') {
    const key = this.fixture.keys[side]!;
    const loops = await this.pages('/v1/loops', key, 'loops');
    const each = await Promise.all(
      loops.map((loop) => this.client.json('GET', `/v1/loops/${(loop as { id: string }).id}`, key)),
    );
    const partition = await this.partition(this.fixture.ids[`${side}.accountId`]!);
    const hashes = partition.filter((item) => String(item.sk).startsWith('KEY#')).map((item) => item.hash as string);
    const keyItems = hashes.length
      ? ((
          await this.db.send(
            new BatchGetCommand({
              RequestItems: {
                [this.table]: {
                  Keys: hashes.map((hash) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' })),
                  ConsistentRead: true,
                },
              },
            }),
          )
        ).Responses?.[this.table] ?? [])
      : [];
    keyItems.sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
    return { loops: loops.map(steady), each: each.map(steady), partition: partition.map(steady), keyItems };
  }

  private async partition(accountId: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `ACCOUNT#${accountId}` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async pages(path: string, key: string, list: string): Promise<unknown[]> {
    const all: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.json('GET', `${path}?limit=200${cursor ? `&cursor=${cursor}` : ''}`, key);
      all.push(...page[list]);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }
}

/**
 * A loop without what the scheduled re-check changes on its own: an unverified loop's last check,
 * its error and the `updatedAt` that goes with them.
 */
function steady(value: unknown): unknown {
  const loop = value as { status?: string; updatedAt?: string; verification?: Record<string, unknown> };
  if (loop?.status !== 'unverified' || !loop.verification) return value;
  const { lastCheckedAt: _checked, lastError: _error, ...verification } = loop.verification;
  const { updatedAt: _updated, ...rest } = loop;
  return { ...rest, verification };
}

/** The differences between two snapshots, as `path: before → after` lines (at most `max`). */
export function differences(before: unknown, after: unknown, max = 10, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (value: unknown) => value !== null && typeof value === 'object';
  if (!isObject(before) || !isObject(after) || Array.isArray(before) !== Array.isArray(after)) {
    return [`${path || '(root)'}: ${JSON.stringify(before)?.slice(0, 200)} → ${JSON.stringify(after)?.slice(0, 200)}`];
  }
  const lines: string[] = [];
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    lines.push(
      ...differences(
        a[name],
        b[name],
        max - lines.length,
        Array.isArray(before) ? `${path}[${name}]` : `${path}.${name}`,
      ),
    );
    if (lines.length >= max) break;
  }
  return lines;
}
