/**
 * What the fake table understands of DynamoDB's expressions: the condition, update and key
 * condition expressions the project writes, each with what it means. One it does not know fails the
 * test loudly.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Item } from './fake-table.ts';

export function conditionFailed(old?: Item): ConditionalCheckFailedException {
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

export function updated(
  input: { Key?: Item; UpdateExpression?: string; ExpressionAttributeValues?: Item },
  existing?: Item,
) {
  const update = UPDATES[input.UpdateExpression!];
  if (!update) throw new Error(`FakeTable: the update ${JSON.stringify(input.UpdateExpression)} is not known here`);
  return update(structuredClone(existing ?? { ...input.Key }), input.ExpressionAttributeValues ?? {});
}

export function holds(expression: string | undefined, existing: Item | undefined, values: Item | undefined): boolean {
  if (expression === undefined) return true;
  const condition = CONDITIONS[expression];
  if (!condition) throw new Error(`FakeTable: the condition ${JSON.stringify(expression)} is not known here`);
  return condition(existing, values ?? {});
}

/** `a = :a AND begins_with(b, :b)` and the like, over the table or the index. */
export function keyCondition(expression: string, values: Item): (item: Item) => boolean {
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
