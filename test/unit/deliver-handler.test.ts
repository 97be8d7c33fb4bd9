import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FailureRecord } from '#shared/delivery/failure.ts';
import type { QueuedDelivery } from '#shared/events/messages.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { itemKeys } from '#shared/store/table.ts';
import {
  lambdaContext,
  loopRecord,
  mailEvent,
  queuedDelivery,
  secretFor,
  sqsEvent,
  sqsRecord,
} from '../support/factories.ts';
import { FakeTable } from '../support/fake-table.ts';
import { functionEnvironment } from '../support/function-environment.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

const TABLE_NAME = 'feedback-loops-table';
const DELIVERIES_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/deliveries';
const SCHEDULE = [10, 60, 300];
const LAST_ATTEMPT = SCHEDULE.length + 1;
const HOUR_MS = 60 * 60 * 1000;

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let handler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
let sqsMock: ReturnType<typeof mockClient>;
let receiver: Loopback;
const table = new FakeTable(TABLE_NAME);
const context = lambdaContext('deliver');

beforeAll(async () => {
  // Synthesized as for the twin, so receivers on loopback are open.
  functionEnvironment('deliver', {
    TABLE_NAME,
    DELIVERIES_QUEUE_URL,
    DELIVERY_TIMEOUT_SECONDS: '2',
    RETRY_SCHEDULE: SCHEDULE.join(','),
  });
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { sqs } = await import('#shared/runtime/sqs.ts');
  dynamoMock = mockClient(dynamo);
  sqsMock = mockClient(sqs);
  receiver = await startLoopback();
  ({ handler } = (await import('../../functions/deliver/handler.ts')) as unknown as { handler: Handler });
});

afterAll(async () => {
  dynamoMock.restore();
  sqsMock.restore();
  await receiver.close();
});

beforeEach(() => {
  dynamoMock.reset();
  sqsMock.reset();
  table.clear();
  table.install(dynamoMock);
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: input.Entries!.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  receiver.received.length = 0;
  receiver.answer({ status: 200 });
});

/** A verified loop pointing at the loopback receiver, stored in the table. */
function storedLoop(overrides: Partial<LoopRecord> = {}): LoopRecord {
  const loop = loopRecord({ url: `${receiver.origin}/hooks/script.php`, ...overrides });
  table.put({ ...itemKeys.loop(loop.accountId, loop.id), ...loop });
  return loop;
}

function storedLoopNow(loop: LoopRecord): LoopRecord {
  const item = table.get(itemKeys.loop(loop.accountId, loop.id));
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...stored } = item ?? {};
  return stored as unknown as LoopRecord;
}

/** The stored failure, with its delivery read back from the JSON text it is stored as. */
function failureOf(loop: LoopRecord, eventId: string): FailureRecord | undefined {
  const item = table.get(itemKeys.failure(loop.accountId, loop.id, eventId));
  return item && ({ ...item, delivery: JSON.parse(item.delivery as string) } as unknown as FailureRecord);
}

const deliver = (...records: SQSRecord[]) => handler(sqsEvent(records), context);

const visibilityChanges = () => sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);

const headersOf = (request: { headers: http.IncomingHttpHeaders }) => request.headers as Record<string, string>;

describe('deliver: the outcome of a POST (docs/api.md §5)', () => {
  it('posts the signed event once on a 2xx and is done', async () => {
    const loop = storedLoop();
    const event = mailEvent({ type: 'click', original: 'https://example.com/a', tags: ['news'] });
    const record = sqsRecord(queuedDelivery(loop, event));

    expect(await deliver(record)).toEqual({ batchItemFailures: [] });

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks/script.php');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/^FeedbackLoops\/\d+\.\d+\.\d+/);
    expect(request!.headers['webhook-id']).toBe(event.id);
    expect(JSON.parse(request!.body)).toMatchObject({
      id: event.id,
      type: 'click',
      message: event.message,
      original: 'https://example.com/a',
      tags: ['news'],
    });
    expect(new Webhook(loop.secrets[0]!.value).verify(request!.body, headersOf(request!))).toBeDefined();
    expect(visibilityChanges()).toHaveLength(0);
    expect(table.requestsOf('PutItem')).toHaveLength(0);
  });

  it('counts any 2xx as delivered', async () => {
    const loop = storedLoop();
    receiver.answer({ status: 204 });
    expect(await deliver(sqsRecord(queuedDelivery(loop)))).toEqual({ batchItemFailures: [] });
    expect(visibilityChanges()).toHaveLength(0);
  });

  it.each([
    [1, SCHEDULE[0]!],
    [2, SCHEDULE[1]!],
    [3, SCHEDULE[2]!],
  ])(
    'after failed attempt %i returns the record and hides it for the schedule’s delay (%i s ±10 %%)',
    async (attempt, planned) => {
      const loop = storedLoop();
      receiver.answer({ status: 500, body: 'oops' });
      const record = sqsRecord(queuedDelivery(loop), { receiveCount: attempt });

      expect(await deliver(record)).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });

      const changes = visibilityChanges();
      expect(changes).toHaveLength(1);
      expect(changes[0]!.QueueUrl).toBe(DELIVERIES_QUEUE_URL);
      expect(changes[0]!.ReceiptHandle).toBe(record.receiptHandle);
      expect(changes[0]!.VisibilityTimeout).toBeGreaterThanOrEqual(Math.floor(planned * 0.9));
      expect(changes[0]!.VisibilityTimeout).toBeLessThanOrEqual(Math.ceil(planned * 1.1));
      expect(failureOf(loop, JSON.parse(record.body).event.id)).toBeUndefined();
    },
  );

  it.each([
    ['120', 120],
    ['0', 0],
    ['86400', 12 * 60 * 60],
  ])('honours Retry-After: %s (up to 12 hours)', async (header, seconds) => {
    const loop = storedLoop();
    receiver.answer({ status: 503, headers: { 'retry-after': header } });
    const record = sqsRecord(queuedDelivery(loop));

    expect(await deliver(record)).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(visibilityChanges().map((change) => change.VisibilityTimeout)).toEqual([seconds]);
  });

  it('records a failure when the last attempt fails, and lets the message go', async () => {
    const loop = storedLoop();
    const delivery = queuedDelivery(loop);
    receiver.answer({ status: 500 });
    const record = sqsRecord(delivery, { receiveCount: LAST_ATTEMPT });

    expect(await deliver(record)).toEqual({ batchItemFailures: [] });

    expect(visibilityChanges()).toHaveLength(0);
    expect(failureOf(loop, delivery.event.id)).toMatchObject({
      eventId: delivery.event.id,
      type: delivery.event.type,
      attempts: LAST_ATTEMPT,
      lastStatus: 500,
      lastError: 'HTTP 500',
      delivery,
    });
  });

  it('records a failure without a status when the receiver cannot be reached on the last attempt', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const loop = storedLoop({ url: `http://127.0.0.1:${port}/hook` });
    const delivery = queuedDelivery(loop);

    expect(await deliver(sqsRecord(delivery, { receiveCount: LAST_ATTEMPT }))).toEqual({ batchItemFailures: [] });

    const failure = failureOf(loop, delivery.event.id)!;
    expect(failure.attempts).toBe(LAST_ATTEMPT);
    expect(failure.lastError).toMatch(/^connection: /);
    expect(failure).not.toHaveProperty('lastStatus');
  });
});

describe('deliver: 410 Gone disables the loop (docs/api.md §5)', () => {
  it('saves the loop disabled with a reason, records the delivery as a failure, and lets the message go', async () => {
    const loop = storedLoop();
    const delivery = queuedDelivery(loop);
    receiver.answer({ status: 410 });

    expect(await deliver(sqsRecord(delivery))).toEqual({ batchItemFailures: [] });

    const saved = storedLoopNow(loop);
    expect(saved.status).toBe('disabled');
    expect(saved.disabledReason).toContain('410');
    expect(saved.enabled).toBe(true);
    expect(failureOf(loop, delivery.event.id)).toMatchObject({ attempts: 1, lastStatus: 410, lastError: 'HTTP 410' });
    expect(visibilityChanges()).toHaveLength(0);
  });

  it('records what is still queued for a loop a 410 disabled as failures, without posting', async () => {
    const loop = storedLoop({ status: 'disabled', disabledReason: 'HTTP 410 at …: the receiver says it is gone.' });
    const delivery = queuedDelivery(loop);

    expect(await deliver(sqsRecord(delivery, { receiveCount: 2 }))).toEqual({ batchItemFailures: [] });

    expect(receiver.received).toHaveLength(0);
    const failure = failureOf(loop, delivery.event.id)!;
    expect(failure.delivery).toEqual(delivery);
    expect(failure.lastError).toContain('disabled');
    expect(failure).not.toHaveProperty('lastStatus');
  });
});

describe('deliver: the loop as it is now', () => {
  it.each([
    ['deleted', undefined],
    ['disabled by its account', { enabled: false }],
    ['unsubscribed from the type', { events: ['click' as const] }],
    ['unverified (its URL changed)', { status: 'unverified' as const }],
  ])('drops a delivery to a loop that was %s, without posting', async (_case, change) => {
    const loop = loopRecord({ url: `${receiver.origin}/hooks/script.php` });
    if (change) table.put({ ...itemKeys.loop(loop.accountId, loop.id), ...loop, ...change });
    const delivery = queuedDelivery(loop, mailEvent({ type: 'open' }));

    expect(await deliver(sqsRecord(delivery))).toEqual({ batchItemFailures: [] });

    expect(receiver.received).toHaveLength(0);
    expect(table.requestsOf('PutItem')).toHaveLength(0);
    expect(visibilityChanges()).toHaveLength(0);
  });

  it('posts to the URL the loop has now, not the one it had when the event was queued', async () => {
    const loop = storedLoop();
    table.put({ ...itemKeys.loop(loop.accountId, loop.id), ...loop, url: `${receiver.origin}/new/place.php` });

    await deliver(sqsRecord(queuedDelivery(loop)));
    expect(receiver.received.map((request) => request.path)).toEqual(['/new/place.php']);
  });

  it('reads the loops of a batch with one consistent BatchGetItem', async () => {
    const first = storedLoop();
    const second = storedLoop({ format: 'form' });
    const records = [queuedDelivery(first), queuedDelivery(second), queuedDelivery(first)].map((delivery) =>
      sqsRecord(delivery),
    );

    expect(await deliver(...records)).toEqual({ batchItemFailures: [] });

    const reads = table.requestsOf('BatchGetItem');
    expect(reads).toHaveLength(1);
    expect(reads[0]!.consistent).toBe(true);
    expect(reads[0]!.itemReads).toHaveLength(2);
    expect(table.requestsOf('GetItem')).toHaveLength(0);
    expect(table.requestsOf('Query')).toHaveLength(0);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.map((request) => request.headers['content-type']).toSorted()).toEqual([
      'application/json',
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
  });
});

describe('deliver: replays', () => {
  it('removes the failure once its replay is delivered', async () => {
    const loop = storedLoop();
    const delivery = queuedDelivery(loop);
    receiver.answer({ status: 500 });
    await deliver(sqsRecord(delivery, { receiveCount: LAST_ATTEMPT }));
    const failure = failureOf(loop, delivery.event.id)!;
    expect(failure).toBeDefined();

    receiver.answer({ status: 200 });
    const replay = { ...delivery, replayOf: { failedAt: failure.failedAt, attempts: failure.attempts } };
    expect(await deliver(sqsRecord(replay))).toEqual({ batchItemFailures: [] });

    expect(failureOf(loop, delivery.event.id)).toBeUndefined();
    const deletes = table.requestsOf('DeleteItem');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.conditionFailed).toBe(false);
  });

  it('keeps a newer failure of the same event when an older replay is delivered', async () => {
    const loop = storedLoop();
    const delivery = queuedDelivery(loop);
    const newer = { failedAt: '2026-11-22T00:00:00.000Z', attempts: 9, lastError: 'HTTP 500' };
    table.put({
      ...itemKeys.failure(loop.accountId, loop.id, delivery.event.id),
      accountId: loop.accountId,
      loopId: loop.id,
      eventId: delivery.event.id,
      type: delivery.event.type,
      delivery: JSON.stringify(delivery),
      ...newer,
    });

    const replay = { ...delivery, replayOf: { failedAt: '2026-11-20T00:00:00.000Z', attempts: 4 } };
    expect(await deliver(sqsRecord(replay))).toEqual({ batchItemFailures: [] });
    expect(failureOf(loop, delivery.event.id)).toMatchObject(newer);
  });

  it('counts the attempts before the replay when the replay fails too', async () => {
    const loop = storedLoop();
    const delivery: QueuedDelivery = {
      ...queuedDelivery(loop),
      replayOf: { failedAt: '2026-11-20T00:00:00.000Z', attempts: LAST_ATTEMPT },
    };
    receiver.answer({ status: 502 });

    await deliver(sqsRecord(delivery, { receiveCount: LAST_ATTEMPT }));
    const failure = failureOf(loop, delivery.event.id)!;
    expect(failure.attempts).toBe(2 * LAST_ATTEMPT);
    expect(failure.lastStatus).toBe(502);
    // A replay of this failure sends the same webhook-id and body again.
    expect(failure.delivery).toEqual({ accountId: delivery.accountId, loopId: loop.id, event: delivery.event });
  });
});

describe('deliver: a secret rotated between attempts (docs/api.md §3, §5)', () => {
  const oldSecret = secretFor('the old secret');
  const newSecret = secretFor('the new secret');

  /** The receiver's check: does this secret verify the request? */
  function verifies(secret: string, request: { body: string; headers: http.IncomingHttpHeaders }): boolean {
    try {
      new Webhook(secret).verify(request.body, headersOf(request));
      return true;
    } catch {
      return false;
    }
  }

  async function retryAfterRotation(previousExpiresAt: Date) {
    const loop = storedLoop({ secrets: [{ value: oldSecret }] });
    const delivery = queuedDelivery(loop);
    receiver.answer({ status: 500 });
    await deliver(sqsRecord(delivery, { receiveCount: 1 }));

    table.put({
      ...itemKeys.loop(loop.accountId, loop.id),
      ...loop,
      secrets: [{ value: newSecret }, { value: oldSecret, expiresAt: previousExpiresAt.toISOString() }],
      updatedAt: new Date().toISOString(),
    });
    receiver.answer({ status: 200 });
    await deliver(sqsRecord(delivery, { receiveCount: 2 }));

    expect(receiver.received).toHaveLength(2);
    const [first, retry] = receiver.received as [(typeof receiver.received)[0], (typeof receiver.received)[0]];
    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(retry.body).toBe(first.body);
    expect(verifies(oldSecret, first)).toBe(true);
    expect(verifies(newSecret, first)).toBe(false);
    return retry;
  }

  it('signs the retry with both secrets while the previous one is inside its 24 hours', async () => {
    const retry = await retryAfterRotation(new Date(Date.now() + 23 * HOUR_MS));
    expect(String(retry.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(newSecret, retry)).toBe(true);
    expect(verifies(oldSecret, retry)).toBe(true);
  });

  it('signs the retry with the new secret only once the previous one expired', async () => {
    const retry = await retryAfterRotation(new Date(Date.now() - HOUR_MS));
    expect(String(retry.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(newSecret, retry)).toBe(true);
    expect(verifies(oldSecret, retry)).toBe(false);
  });
});
