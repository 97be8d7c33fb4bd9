/**
 * The project's DynamoDB table, in memory, behind aws-sdk-client-mock: the DocumentClient commands
 * the functions use (Get, Put, Delete, Update, BatchGet, BatchWrite, Query, TransactWrite) act on a map
 * of items, and the condition and update expressions the functions write are evaluated, so that a lost
 * claim or a loop changed meanwhile fails as DynamoDB would fail it. An expression it does not know
 * fails the test loudly. A transaction checks all its conditions before it writes anything.
 *
 * A Query answers every match at once (Limit and paging are not modelled).
 *
 * Every request is also recorded with the sizes of what it read and wrote, for tests that count
 * requests and for the bench, which estimates capacity units from them.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DeleteCommandInput,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { mockClient } from 'aws-sdk-client-mock';

export type Item = Record<string, unknown>;

export interface TableRequest {
  command:
    | 'GetItem'
    | 'PutItem'
    | 'DeleteItem'
    | 'UpdateItem'
    | 'BatchGetItem'
    | 'BatchWriteItem'
    | 'Query'
    | 'TransactWriteItems';
  consistent: boolean;
  /** Per key read (GetItem, BatchGetItem): the size of the item found, 0 when there was none. */
  itemReads: number[];
  /** Query: the sizes of the items it returned (read units are counted over their sum). */
  queryReads: number[];
  /** Per item written or deleted: the larger of its size before and after. */
  itemWrites: number[];
  /** The written items' partition keys (to tell what was written). */
  writtenKeys: string[];
  /** A conditional write whose condition failed (it still costs its write). */
  conditionFailed: boolean;
}

const keyOf = (item: { pk?: unknown; sk?: unknown }) => `${String(item.pk)}\u0000${String(item.sk)}`;

/** DynamoDB's item size: attribute names and values in UTF-8, numbers about one byte per two digits. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueSize(value), 0);
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').length / 2) + 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, entry) => sum + 1 + valueSize(entry), 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value as Item).reduce(
        (sum, [name, entry]) => sum + 1 + Buffer.byteLength(name) + valueSize(entry),
        0,
      )
    );
  }
  return Buffer.byteLength(String(value));
}

function conditionFailed(old?: Item): ConditionalCheckFailedException {
  const error = new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  // ReturnValuesOnConditionCheckFailure: ALL_OLD, in DynamoDB's JSON (the DocumentClient leaves an error's item so).
  if (old) Object.assign(error, { Item: Object.fromEntries(Object.entries(old).map(([k, v]) => [k, marshal(v)])) });
  return error;
}

function marshal(value: unknown): Record<string, unknown> {
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (value === null || value === undefined) return { NULL: true };
  if (Array.isArray(value)) return { L: value.map(marshal) };
  return { M: Object.fromEntries(Object.entries(value as Item).map(([k, v]) => [k, marshal(v)])) };
}

const num = (value: unknown) => value as number;

/** The condition expressions the project writes, and what each means. */
const CONDITIONS: Record<string, (existing: Item | undefined, values: Item) => boolean> = {
  'attribute_not_exists(pk)': (existing) => !existing,
  'attribute_exists(pk)': (existing) => !!existing,
  'updatedAt = :previous': (existing, values) => existing?.updatedAt === values[':previous'],
  'failedAt = :failedAt': (existing, values) => existing?.failedAt === values[':failedAt'],
  'attribute_not_exists(pk) OR claimedBy = :me OR expiresAt <= :now': (existing, values) =>
    !existing || existing.claimedBy === values[':me'] || (existing.expiresAt as number) <= (values[':now'] as number),
  'attribute_exists(pk) AND (attribute_not_exists(loopCount) OR loopCount < :max)': (existing, values) =>
    !!existing && (existing.loopCount === undefined || num(existing.loopCount) < num(values[':max'])),
  'loopCount > :zero': (existing, values) =>
    existing?.loopCount !== undefined && num(existing.loopCount) > num(values[':zero']),
  'windowStart > :cutoff AND hits < :max': (existing, values) =>
    existing !== undefined &&
    num(existing.windowStart) > num(values[':cutoff']) &&
    num(existing.hits) < num(values[':max']),
  'attribute_not_exists(pk) OR windowStart <= :cutoff': (existing, values) =>
    !existing || num(existing.windowStart) <= num(values[':cutoff']),
};

/**
 * The update expressions the project writes: the item after them. One that reads an attribute the
 * item lacks throws, as DynamoDB refuses it (ValidationException).
 */
const UPDATES: Record<string, (item: Item, values: Item) => Item> = {
  'SET loopCount = if_not_exists(loopCount, :zero) + :one': (item, values) => ({
    ...item,
    loopCount: num(item.loopCount ?? values[':zero']) + num(values[':one']),
  }),
  'SET loopCount = loopCount - :one': (item, values) => ({
    ...item,
    loopCount: num(present(item, 'loopCount')) - num(values[':one']),
  }),
  'SET hits = hits + :one': (item, values) => ({ ...item, hits: num(present(item, 'hits')) + num(values[':one']) }),
  'SET windowStart = :now, hits = :one, expiresAt = :expires': (item, values) => ({
    ...item,
    windowStart: values[':now'],
    hits: values[':one'],
    expiresAt: values[':expires'],
  }),
};

function present(item: Item, name: string): unknown {
  if (item[name] === undefined)
    throw new Error('ValidationException: The provided expression refers to an attribute that does not exist');
  return item[name];
}

function updated(input: { Key?: Item; UpdateExpression?: string; ExpressionAttributeValues?: Item }, existing?: Item) {
  const update = UPDATES[input.UpdateExpression!];
  if (!update) throw new Error(`FakeTable: the update ${JSON.stringify(input.UpdateExpression)} is not known here`);
  return update(structuredClone(existing ?? { ...input.Key }), input.ExpressionAttributeValues ?? {});
}

function holds(expression: string | undefined, existing: Item | undefined, values: Item | undefined): boolean {
  if (expression === undefined) return true;
  const condition = CONDITIONS[expression];
  if (!condition) throw new Error(`FakeTable: the condition ${JSON.stringify(expression)} is not known here`);
  return condition(existing, values ?? {});
}

/** `a = :a AND begins_with(b, :b)` and the like, over the table or the index. */
function keyCondition(expression: string, values: Item): (item: Item) => boolean {
  const tests = expression.split(/\s+AND\s+/i).map((clause): ((item: Item) => boolean) => {
    let match = /^(\w+)\s*(=|>|<|>=|<=)\s*(:\w+)$/.exec(clause.trim());
    if (match) {
      const [, name, op, placeholder] = match as unknown as [string, string, string, string];
      const wanted = values[placeholder] as string | number;
      return (item) => {
        const value = item[name] as string | number | undefined;
        if (value === undefined) return false;
        if (op === '=') return value === wanted;
        if (op === '>') return value > wanted;
        if (op === '<') return value < wanted;
        if (op === '>=') return value >= wanted;
        return value <= wanted;
      };
    }
    match = /^begins_with\((\w+),\s*(:\w+)\)$/.exec(clause.trim());
    if (match) {
      const [, name, placeholder] = match as unknown as [string, string, string];
      return (item) =>
        typeof item[name] === 'string' && (item[name] as string).startsWith(values[placeholder] as string);
    }
    throw new Error(`FakeTable: the key condition ${JSON.stringify(clause)} is not known here`);
  });
  return (item) => tests.every((test) => test(item));
}

export class FakeTable {
  readonly items = new Map<string, Item>();
  readonly requests: TableRequest[] = [];

  constructor(readonly name: string) {}

  put(...items: Item[]): void {
    for (const item of items) this.items.set(keyOf(item), structuredClone(item));
  }

  get(key: { pk: string; sk: string }): Item | undefined {
    const item = this.items.get(keyOf(key));
    return item && structuredClone(item);
  }

  /** The items whose partition key starts with `prefix`. */
  where(prefix: string): Item[] {
    return [...this.items.values()]
      .filter((item) => String(item.pk).startsWith(prefix))
      .map((item) => structuredClone(item));
  }

  /** The requests of one kind made since the table was installed or last cleared. */
  requestsOf(command: TableRequest['command']): TableRequest[] {
    return this.requests.filter((request) => request.command === command);
  }

  clear(): void {
    this.items.clear();
    this.requests.length = 0;
  }

  /** Answers the DocumentClient's commands from this table (after `mock.reset()`, install again). */
  install(stub: ReturnType<typeof mockClient>): void {
    stub.on(GetCommand).callsFake((input: GetCommandInput) => this.getItem(input));
    stub.on(PutCommand).callsFake((input: PutCommandInput) => this.putItem(input));
    stub.on(DeleteCommand).callsFake((input: DeleteCommandInput) => this.deleteItem(input));
    stub.on(UpdateCommand).callsFake((input: UpdateCommandInput) => this.updateItem(input));
    stub.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => this.transactWrite(input));
    stub.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => this.batchGet(input));
    stub.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => this.batchWrite(input));
    stub.on(QueryCommand).callsFake((input: QueryCommandInput) => this.query(input));
  }

  private checkTable(name: string | undefined): void {
    if (name !== this.name) throw new Error(`FakeTable: no table ${name}`);
  }

  private record(request: Partial<TableRequest> & Pick<TableRequest, 'command'>): void {
    this.requests.push({
      consistent: false,
      itemReads: [],
      queryReads: [],
      itemWrites: [],
      writtenKeys: [],
      conditionFailed: false,
      ...request,
    });
  }

  private getItem(input: GetCommandInput) {
    this.checkTable(input.TableName);
    const item = this.items.get(keyOf(input.Key!));
    this.record({ command: 'GetItem', consistent: !!input.ConsistentRead, itemReads: [item ? itemSize(item) : 0] });
    return item ? { Item: structuredClone(item) } : {};
  }

  private putItem(input: PutCommandInput) {
    this.checkTable(input.TableName);
    const item = structuredClone(input.Item!) as Item;
    const existing = this.items.get(keyOf(item));
    const size = Math.max(itemSize(item), existing ? itemSize(existing) : 0);
    const ok = holds(input.ConditionExpression, existing, input.ExpressionAttributeValues as Item);
    this.record({ command: 'PutItem', itemWrites: [size], writtenKeys: [String(item.pk)], conditionFailed: !ok });
    if (!ok) throw conditionFailed();
    this.items.set(keyOf(item), item);
    return {};
  }

  private deleteItem(input: DeleteCommandInput) {
    this.checkTable(input.TableName);
    const existing = this.items.get(keyOf(input.Key!));
    const ok = holds(input.ConditionExpression, existing, input.ExpressionAttributeValues as Item);
    this.record({
      command: 'DeleteItem',
      itemWrites: [existing ? itemSize(existing) : 0],
      writtenKeys: [String(input.Key!.pk)],
      conditionFailed: !ok,
    });
    if (!ok) throw conditionFailed();
    this.items.delete(keyOf(input.Key!));
    return {};
  }

  private updateItem(input: UpdateCommandInput) {
    this.checkTable(input.TableName);
    const existing = this.items.get(keyOf(input.Key!));
    const ok = holds(input.ConditionExpression, existing, input.ExpressionAttributeValues as Item);
    const item = ok ? updated(input as Parameters<typeof updated>[0], existing) : undefined;
    this.record({
      command: 'UpdateItem',
      itemWrites: [Math.max(item ? itemSize(item) : 0, existing ? itemSize(existing) : 0)],
      writtenKeys: [String(input.Key!.pk)],
      conditionFailed: !ok,
    });
    if (!item) throw conditionFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? existing : undefined);
    this.items.set(keyOf(item), item);
    return {};
  }

  /** All conditions first; any failure cancels the whole transaction, naming which item failed. */
  private transactWrite(input: TransactWriteCommandInput) {
    const writes = (input.TransactItems ?? []).map((entry) => {
      const [kind, op] = Object.entries(entry)[0] as [string, Item & { TableName: string; Key?: Item; Item?: Item }];
      this.checkTable(op.TableName);
      const key = keyOf(op.Key ?? op.Item!);
      const existing = this.items.get(key);
      const ok = holds(op.ConditionExpression as string | undefined, existing, op.ExpressionAttributeValues as Item);
      return { kind, op, key, existing, ok };
    });
    this.record({
      command: 'TransactWriteItems',
      itemWrites: writes.map(({ existing }) => 2 * (existing ? itemSize(existing) : 0)),
      writtenKeys: writes.map(({ op }) => String((op.Key ?? op.Item!).pk)),
      conditionFailed: writes.some(({ ok }) => !ok),
    });
    if (writes.some(({ ok }) => !ok)) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: writes.map(({ ok }) => ({ Code: ok ? 'None' : 'ConditionalCheckFailed' })),
      });
    }
    const results = writes.map(({ kind, op, existing }) =>
      kind === 'Update' ? updated(op as Parameters<typeof updated>[0], existing) : op.Item,
    );
    writes.forEach(({ kind, key }, index) => {
      if (kind === 'Delete') this.items.delete(key);
      else if (kind !== 'ConditionCheck') this.items.set(key, structuredClone(results[index]!));
    });
    return {};
  }

  private batchGet(input: BatchGetCommandInput) {
    const tables = Object.keys(input.RequestItems ?? {});
    if (tables.length !== 1) throw new Error('FakeTable: BatchGetItem of one table only');
    this.checkTable(tables[0]);
    const { Keys = [], ConsistentRead } = input.RequestItems![this.name]!;
    if (Keys.length > 100) throw new Error('ValidationException: BatchGetItem takes at most 100 keys');
    const found = Keys.map((key) => this.items.get(keyOf(key)));
    this.record({
      command: 'BatchGetItem',
      consistent: !!ConsistentRead,
      itemReads: found.map((item) => (item ? itemSize(item) : 0)),
    });
    return {
      Responses: { [this.name]: found.filter((item) => item !== undefined).map((item) => structuredClone(item)) },
      UnprocessedKeys: {},
    };
  }

  private batchWrite(input: BatchWriteCommandInput) {
    const tables = Object.keys(input.RequestItems ?? {});
    if (tables.length !== 1) throw new Error('FakeTable: BatchWriteItem of one table only');
    this.checkTable(tables[0]);
    const writes = input.RequestItems![this.name]!;
    if (writes.length > 25) throw new Error('ValidationException: BatchWriteItem takes at most 25 requests');
    const sizes: number[] = [];
    const keys: string[] = [];
    for (const write of writes) {
      if (write.PutRequest) {
        const item = structuredClone(write.PutRequest.Item!) as Item;
        const existing = this.items.get(keyOf(item));
        sizes.push(Math.max(itemSize(item), existing ? itemSize(existing) : 0));
        keys.push(String(item.pk));
        this.items.set(keyOf(item), item);
      } else if (write.DeleteRequest) {
        const existing = this.items.get(keyOf(write.DeleteRequest.Key!));
        sizes.push(existing ? itemSize(existing) : 0);
        keys.push(String(write.DeleteRequest.Key!.pk));
        this.items.delete(keyOf(write.DeleteRequest.Key!));
      }
    }
    this.record({ command: 'BatchWriteItem', itemWrites: sizes, writtenKeys: keys });
    return { UnprocessedItems: {} };
  }

  private query(input: QueryCommandInput) {
    this.checkTable(input.TableName);
    const matches = keyCondition(input.KeyConditionExpression!, (input.ExpressionAttributeValues ?? {}) as Item);
    const sortKey = input.IndexName ? 'gsi1sk' : 'sk';
    const items = [...this.items.values()]
      .filter((item) => (input.IndexName ? item.gsi1pk !== undefined : true))
      .filter(matches)
      .sort((a, b) => String(a[sortKey]).localeCompare(String(b[sortKey])));
    if (input.ScanIndexForward === false) items.reverse();
    this.record({ command: 'Query', consistent: !!input.ConsistentRead, queryReads: items.map(itemSize) });
    return { Items: items.map((item) => structuredClone(item)), Count: items.length };
  }
}
