import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FailureRecord } from '#shared/delivery/failure.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { itemKeys } from '#shared/store/table.ts';
import {
  NOW,
  lambdaContext,
  loopRecord,
  mailEvent,
  queuedDelivery,
  queuedEvent,
  sqsEvent,
  sqsRecord,
} from '../support/factories.ts';
import { FakeTable } from '../support/fake-table.ts';

const TABLE_NAME = 'feedback-loops-table';
const FANOUT_MAX_RECEIVES = 5;
const DELIVER_MAX_RECEIVES = 9;

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let handler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
const table = new FakeTable(TABLE_NAME);
const context = lambdaContext('dead-letters');

beforeAll(async () => {
  process.env.AWS_REGION ??= 'eu-west-1';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.TABLE_NAME = TABLE_NAME;
  process.env.FANOUT_MAX_RECEIVES = String(FANOUT_MAX_RECEIVES);
  process.env.DELIVER_MAX_RECEIVES = String(DELIVER_MAX_RECEIVES);
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { clock } = await import('#shared/runtime/clock.ts');
  vi.spyOn(clock, 'now').mockImplementation(() => new Date(NOW));
  dynamoMock = mockClient(dynamo);
  ({ handler } = (await import('../../functions/dead-letters/handler.ts')) as unknown as { handler: Handler });
});

afterAll(() => {
  dynamoMock.restore();
  vi.restoreAllMocks();
});

beforeEach(() => {
  dynamoMock.reset();
  table.clear();
  table.install(dynamoMock);
});

function storeLoops(...loops: LoopRecord[]): void {
  table.put(...loops.map((loop) => ({ ...itemKeys.loop(loop.accountId, loop.id), ...loop })));
}

/** The stored failures, with their deliveries read back from the JSON text they are stored as. */
const failures = () =>
  table
    .where('FAILURES#')
    .map((item) => ({ ...item, delivery: JSON.parse(item.delivery as string) }) as unknown as FailureRecord);

describe('dead-letters: nothing dead-lettered is lost', () => {
  it('turns a dead delivery into one failure of its loop, replayable as it was', async () => {
    const loop = loopRecord();
    storeLoops(loop);
    const delivery = queuedDelivery(loop, mailEvent({ type: 'click' }));

    expect(await handler(sqsEvent([sqsRecord(delivery)]), context)).toEqual({ batchItemFailures: [] });

    expect(failures()).toHaveLength(1);
    expect(failures()[0]).toMatchObject({
      accountId: loop.accountId,
      loopId: loop.id,
      eventId: delivery.event.id,
      type: 'click',
      failedAt: NOW.toISOString(),
      attempts: DELIVER_MAX_RECEIVES,
      lastError: expect.stringContaining('delivery'),
      delivery,
    });
    expect(table.get(itemKeys.failure(loop.accountId, loop.id, delivery.event.id))).toBeDefined();
  });

  it('turns a dead event into one failure per loop that receives its type', async () => {
    const receivers = [loopRecord({ events: ['open'] }), loopRecord()];
    storeLoops(
      ...receivers,
      loopRecord({ events: ['click'] }),
      loopRecord({ status: 'unverified' }),
      loopRecord({ enabled: false }),
    );
    const message = queuedEvent(mailEvent({ type: 'open' }));

    expect(await handler(sqsEvent([sqsRecord(message)]), context)).toEqual({ batchItemFailures: [] });

    expect(
      failures()
        .map((failure) => failure.loopId)
        .toSorted(),
    ).toEqual(receivers.map((loop) => loop.id).toSorted());
    for (const failure of failures()) {
      expect(failure).toMatchObject({ eventId: message.event.id, type: 'open', attempts: 0 });
      expect(failure.lastError).toContain(String(FANOUT_MAX_RECEIVES));
      expect(failure.delivery).toEqual({ accountId: message.accountId, loopId: failure.loopId, event: message.event });
    }
  });

  it('keeps a dead event for a loop that a 410 disabled, for its replay once it is back', async () => {
    const gone = loopRecord({ status: 'disabled', disabledReason: '410 Gone at 2026-11-21T09:00:00.000Z' });
    storeLoops(gone, loopRecord({ status: 'disabled', enabled: false }), loopRecord({ events: ['click'] }));
    const message = queuedEvent(mailEvent({ type: 'open' }));

    expect(await handler(sqsEvent([sqsRecord(message)]), context)).toEqual({ batchItemFailures: [] });

    expect(failures().map((failure) => failure.loopId)).toEqual([gone.id]);
    expect(failures()[0]!.delivery).toEqual({ accountId: message.accountId, loopId: gone.id, event: message.event });
  });

  it('returns a message that is not JSON, and one that is neither a delivery nor an event, to the queue', async () => {
    const notJson = sqsRecord('this is not JSON');
    const unknown = sqsRecord({ hello: 'world' });
    const delivery = sqsRecord(queuedDelivery(loopRecord()));

    const response = await handler(sqsEvent([notJson, unknown, delivery]), context);

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).toSorted()).toEqual(
      [notJson.messageId, unknown.messageId].toSorted(),
    );
    expect(failures()).toHaveLength(1);
  });

  it('returns the record when its failure cannot be written', async () => {
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    dynamoMock.on(PutCommand).rejects(new Error('InternalServerError'));
    const record = sqsRecord(queuedDelivery(loopRecord()));

    expect(await handler(sqsEvent([record]), context)).toEqual({
      batchItemFailures: [{ itemIdentifier: record.messageId }],
    });
  });
});
