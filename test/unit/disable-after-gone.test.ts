import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { itemKeys } from '#shared/store/table.ts';
import { NOW, loopRecord } from '../support/factories.ts';
import { FakeTable } from '../support/fake-table.ts';

const TABLE_NAME = 'feedback-loops-table';
const table = new FakeTable(TABLE_NAME);
let dynamoMock: ReturnType<typeof mockClient>;
let disableAfterGone: typeof import('#shared/store/loops.ts').disableAfterGone;

beforeAll(async () => {
  process.env.AWS_REGION ??= 'eu-west-1';
  process.env.TABLE_NAME = TABLE_NAME;
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  dynamoMock = mockClient(dynamo);
  ({ disableAfterGone } = await import('#shared/store/loops.ts'));
});

afterAll(() => dynamoMock.restore());

beforeEach(() => {
  dynamoMock.reset();
  table.clear();
  table.install(dynamoMock);
});

const store = (loop: LoopRecord) => table.put({ ...itemKeys.loop(loop.accountId, loop.id), ...loop });
const stored = (loop: LoopRecord) => table.get(itemKeys.loop(loop.accountId, loop.id))!;

describe('disableAfterGone: a 410 disables the loop as it is now (docs/api.md §5)', () => {
  it('disables the loop it read, saying when and why', async () => {
    const loop = loopRecord();
    store(loop);

    expect(await disableAfterGone(loop, 'HTTP 410', NOW)).toBe(true);
    expect(stored(loop)).toMatchObject({ status: 'disabled', enabled: true, updatedAt: NOW.toISOString() });
    expect(stored(loop).disabledReason).toContain(`HTTP 410 at ${NOW.toISOString()}`);
  });

  it('applies the 410 to a change made meanwhile, read again', async () => {
    const loop = loopRecord();
    const changed = { ...loop, description: 'changed meanwhile', updatedAt: '2026-11-21T09:59:00.000Z' };
    store(changed);

    expect(await disableAfterGone(loop, 'HTTP 410', NOW)).toBe(true);
    expect(stored(loop)).toMatchObject({ status: 'disabled', description: 'changed meanwhile' });
    expect(table.requestsOf('GetItem')).toHaveLength(1);
  });

  it.each([
    ['deleted meanwhile', undefined],
    ['re-pointed meanwhile (unverified again)', { status: 'unverified' as const }],
    ['disabled meanwhile', { status: 'disabled' as const, enabled: false }],
  ])('leaves a loop %s as it is', async (_case, change) => {
    const loop = loopRecord();
    if (change) store({ ...loop, ...change, updatedAt: '2026-11-21T09:59:00.000Z' });

    expect(await disableAfterGone(loop, 'HTTP 410', NOW)).toBe(false);
    if (change) expect(stored(loop)).toMatchObject(change);
    else expect(table.get(itemKeys.loop(loop.accountId, loop.id))).toBeUndefined();
  });
});
