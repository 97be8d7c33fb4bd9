/**
 * The project's DynamoDB table, in memory, behind aws-sdk-client-mock: the DocumentClient commands
 * the functions use (Get, Put, Delete, Update, BatchGet, BatchWrite, Query, TransactWrite) act on a map
 * of items, and the condition and update expressions the functions write are evaluated, so that a lost
 * claim or a loop changed meanwhile fails as DynamoDB would fail it. An expression it does not know
 * fails the test loudly (the expressions: `fake-table-expressions.ts`). A transaction checks all its
 * conditions before it writes anything.
 *
 * A Query answers every match at once (Limit and paging are not modelled).
 *
 * Every request is also recorded with the sizes of what it read and wrote, for tests that count
 * requests and for the bench, which estimates capacity units from them.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
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
import { conditionFailed, holds, keyCondition, updated } from './fake-table-expressions.ts';

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
