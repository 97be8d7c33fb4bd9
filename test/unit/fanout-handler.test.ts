import {
  SendMessageBatchCommand,
  SendMessageCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { BatchGetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QueuedDelivery, QueuedEvent } from '#shared/events/messages.ts';
import type { MailEvent } from '#shared/events/mail-event.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { itemKeys } from '#shared/store/table.ts';
import {
  ACCOUNT_ID,
  NOW,
  lambdaContext,
  loopRecord,
  mailEvent,
  queuedEvent,
  sentEvent,
  sqsEvent,
  sqsRecord,
} from '../support/factories.ts';
import { FakeTable } from '../support/fake-table.ts';
import { functionEnvironment } from '../support/function-environment.ts';

const TABLE_NAME = 'feedback-loops-table';
const DELIVERIES_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/deliveries';
const LOG_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/logs';
const DEAD_LETTER_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq';
const TTL_DAYS = 90;
const SQS_MAX_BATCH_BYTES = 256 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;
const OTHER_ACCOUNT = 'acc_01JDTEST0000000000000000BB';

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let handler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
let sqsMock: ReturnType<typeof mockClient>;
let now = NOW;
const table = new FakeTable(TABLE_NAME);
const context = lambdaContext('fanout');

beforeAll(async () => {
  functionEnvironment('fanout', {
    TABLE_NAME,
    DELIVERIES_QUEUE_URL,
    MESSAGE_CONTEXT_TTL_DAYS: String(TTL_DAYS),
    LOG_QUEUE_URL,
    DEAD_LETTER_QUEUE_URL,
  });
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { sqs } = await import('#shared/runtime/sqs.ts');
  const { clock } = await import('#shared/runtime/clock.ts');
  vi.spyOn(clock, 'now').mockImplementation(() => new Date(now));
  dynamoMock = mockClient(dynamo);
  sqsMock = mockClient(sqs);
  ({ handler } = (await import('../../functions/fanout/handler.ts')) as unknown as { handler: Handler });
});

afterAll(() => {
  dynamoMock.restore();
  sqsMock.restore();
  vi.restoreAllMocks();
});

beforeEach(() => {
  now = NOW;
  dynamoMock.reset();
  sqsMock.reset();
  table.clear();
  table.install(dynamoMock);
  sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => sqsAccepts(input));
});

/** What SQS answers a SendMessageBatch that it takes whole; it refuses one over its limits, as SQS does. */
function sqsAccepts(
  input: SendMessageBatchCommandInput,
  refuse: (entry: SendMessageBatchRequestEntry) => boolean = () => false,
) {
  const entries = input.Entries ?? [];
  if (entries.length === 0 || entries.length > 10) {
    throw Object.assign(new Error('1 to 10 entries per batch'), { name: 'TooManyEntriesInBatchRequest' });
  }
  const bytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);
  if (bytes > SQS_MAX_BATCH_BYTES) {
    throw Object.assign(new Error(`batch of ${bytes} bytes`), { name: 'BatchRequestTooLong' });
  }
  return {
    Successful: entries
      .filter((entry) => !refuse(entry))
      .map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: entries.filter(refuse).map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false })),
  };
}

function storeLoops(...loops: LoopRecord[]): void {
  table.put(...loops.map((loop) => ({ ...itemKeys.loop(loop.accountId, loop.id), ...loop })));
}

/** Runs one fanout invocation over these events (or records) as one batch. */
async function fanout(...batch: (QueuedEvent | SQSRecord)[]): Promise<SQSBatchResponse> {
  const records = batch.map((entry) => ('messageId' in entry ? entry : sqsRecord(entry)));
  return handler(sqsEvent(records), context);
}

/** The SendMessageBatch calls to the deliveries queue. */
function sendCalls(): SendMessageBatchRequestEntry[][] {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .filter((call) => call.args[0].input.QueueUrl === DELIVERIES_QUEUE_URL)
    .map((call) => call.args[0].input.Entries ?? []);
}

/** Every delivery queued since the last reset. */
function queued(): QueuedDelivery[] {
  return sendCalls()
    .flat()
    .map((entry) => JSON.parse(entry.MessageBody!) as QueuedDelivery);
}

/** The event as the (one) loop receives it. */
function delivered(eventId: string): MailEvent {
  const found = queued().filter((delivery) => delivery.event.id === eventId);
  expect(found).toHaveLength(1);
  return found[0]!.event;
}

/** Forget the calls so far (the table's items stay). */
function resetHistory(): void {
  sqsMock.resetHistory();
  table.requests.length = 0;
}

describe('fanout: enrichment from the message context (docs/api.md §4)', () => {
  beforeEach(() => storeLoops(loopRecord()));

  it("fills a later open with the recipient, profile, fields and tags of the message's sent", async () => {
    const sent = sentEvent({ message: 'm-1' });
    await fanout(queuedEvent(sent));
    expect(delivered(sent.id)).toEqual(sent);
    resetHistory();

    const open = mailEvent({ type: 'open', message: 'm-1', ip: '198.51.100.7' });
    expect(await fanout(queuedEvent(open))).toEqual({ batchItemFailures: [] });

    expect(delivered(open.id)).toEqual({
      ...open,
      recipient: 'jane@example.com',
      profile: 'profile-1',
      fields: { firstname: 'Jane', plan: 'pro' },
      tags: ['news', 'nov'],
    });
  });

  it("keeps the event's own values, and of fields its own keys, adding the context's others", async () => {
    await fanout(queuedEvent(sentEvent({ message: 'm-1' })));
    resetHistory();

    const click = mailEvent({
      type: 'click',
      message: 'm-1',
      recipient: 'other@example.com',
      tags: ['own'],
      fields: { plan: 'free', visits: 3 },
      original: 'https://example.com/a',
    });
    await fanout(queuedEvent(click));

    expect(delivered(click.id)).toEqual({
      ...click,
      recipient: 'other@example.com',
      profile: 'profile-1',
      tags: ['own'],
      fields: { plan: 'free', visits: 3, firstname: 'Jane' },
    });
  });

  it('sends an event of a message without a context as it came', async () => {
    const open = mailEvent({ type: 'open', message: 'never-sent' });
    await fanout(queuedEvent(open));
    expect(delivered(open.id)).toEqual(open);
  });

  it('enriches an open from a sent of the same batch; writes each sent context once, in one BatchWriteItem', async () => {
    const sent1 = sentEvent({ message: 'm-1' });
    const sent2 = sentEvent({ message: 'm-2', recipient: 'joe@example.com' });
    const open1 = mailEvent({ type: 'open', message: 'm-1' });
    const open3 = mailEvent({ type: 'open', message: 'm-3' });
    // The open comes first in the batch: order within a batch does not matter.
    await fanout(queuedEvent(open1), queuedEvent(sent1), queuedEvent(sent2), queuedEvent(open3));

    expect(delivered(open1.id).recipient).toBe('jane@example.com');
    expect(delivered(open1.id).fields).toEqual({ firstname: 'Jane', plan: 'pro' });
    const writes = table.requestsOf('BatchWriteItem');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.writtenKeys.toSorted()).toEqual(
      [itemKeys.messageContext(ACCOUNT_ID, 'm-1').pk, itemKeys.messageContext(ACCOUNT_ID, 'm-2').pk].toSorted(),
    );
    expect(table.requestsOf('PutItem')).toHaveLength(0);
    // Only the message whose context is not in the batch is read.
    const reads = dynamoMock.commandCalls(BatchGetCommand);
    expect(reads).toHaveLength(1);
    expect(reads[0]!.args[0].input.RequestItems![TABLE_NAME]!.Keys).toEqual([
      itemKeys.messageContext(ACCOUNT_ID, 'm-3'),
    ]);
  });

  it("reads the other messages' contexts with one BatchGetItem for the whole batch", async () => {
    const sents = Array.from({ length: 25 }, (_, i) => sentEvent({ message: `m-${i}`, profile: `p-${i}` }));
    await fanout(...sents.map((sent) => queuedEvent(sent)));
    resetHistory();

    const later = sents.map((sent, i) => mailEvent({ type: i % 2 ? 'open' : 'delivery', message: sent.message }));
    await fanout(...later.map((event) => queuedEvent(event)));

    expect(table.requestsOf('BatchGetItem')).toHaveLength(1);
    expect(table.requestsOf('BatchGetItem')[0]!.itemReads).toHaveLength(25);
    expect(table.requestsOf('GetItem')).toHaveLength(0);
    expect(later.map((event) => delivered(event.id).profile)).toEqual(sents.map((sent) => sent.profile));
  });

  it(`ignores a context past its expiry (${TTL_DAYS} days), even while the item is still there`, async () => {
    await fanout(queuedEvent(sentEvent({ message: 'm-1' })));

    now = new Date(NOW.getTime() + (TTL_DAYS - 1) * DAY_MS);
    const before = mailEvent({ type: 'open', message: 'm-1' });
    await fanout(queuedEvent(before));
    expect(delivered(before.id).recipient).toBe('jane@example.com');

    now = new Date(NOW.getTime() + TTL_DAYS * DAY_MS + 1000);
    const after = mailEvent({ type: 'open', message: 'm-1' });
    await fanout(queuedEvent(after));
    expect(table.get(itemKeys.messageContext(ACCOUNT_ID, 'm-1'))).toBeDefined();
    expect(delivered(after.id)).toEqual(after);
  });

  it("merges fields up to 100, the event's own first, then the context's in their order", async () => {
    const contextFields = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`c${i}`, `context-${i}`]));
    await fanout(queuedEvent(sentEvent({ message: 'm-1', fields: contextFields })));
    // 40 fields of its own and 20 of the context's names with its own values: 60 own.
    const ownFields = {
      ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`o${i}`, i])),
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, 'own'])),
    };
    const open = mailEvent({ type: 'open', message: 'm-1', fields: ownFields });
    await fanout(queuedEvent(open));

    const fields = delivered(open.id).fields!;
    expect(Object.keys(fields)).toHaveLength(100);
    expect(fields).toMatchObject(ownFields);
    // The remaining 40 places go to the context's next fields: c20 … c59.
    for (let i = 20; i < 60; i++) expect(fields[`c${i}`]).toBe(`context-${i}`);
    for (let i = 60; i < 80; i++) expect(fields).not.toHaveProperty(`c${i}`);
  });

  it('stores a context of a kilobyte or more deflated, in one write unit, and enriches from it and from text', async () => {
    const profile = Object.fromEntries(
      ['firstname', 'lastname', 'city', 'street', 'interests', 'company', 'title', 'notes'].map((name, i) => [
        name,
        `${name} value ${i} `.repeat(8),
      ]),
    );
    await fanout(queuedEvent(sentEvent({ message: 'm-1', fields: profile })));
    const stored = table.get(itemKeys.messageContext(ACCOUNT_ID, 'm-1'))!;
    expect(stored.context).toBeUndefined();
    expect(JSON.stringify(profile).length).toBeGreaterThan(1024);
    expect((stored.contextDeflated as Uint8Array).byteLength).toBeLessThan(1024 - 200);

    // A context stored as text (before deflating) reads the same.
    table.put({
      ...itemKeys.messageContext(ACCOUNT_ID, 'm-2'),
      accountId: ACCOUNT_ID,
      message: 'm-2',
      context: JSON.stringify({ recipient: 'old@example.com', fields: { plan: 'old' } }),
    });
    const open1 = mailEvent({ type: 'open', message: 'm-1' });
    const open2 = mailEvent({ type: 'open', message: 'm-2' });
    await fanout(queuedEvent(open1), queuedEvent(open2));
    expect(delivered(open1.id).fields).toEqual(profile);
    expect(delivered(open2.id)).toMatchObject({ recipient: 'old@example.com', fields: { plan: 'old' } });
  });

  /** An open whose enrichment would take about 360 KiB: its own 180 KiB of fields and as much of the context's. */
  async function oversizedOpen(): Promise<MailEvent> {
    // A control character is one byte as sent but six in JSON (\u0001): 30 such fields take 180 KiB.
    const big = (prefix: string) =>
      Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`${prefix}${i}`, '\u0001'.repeat(1000)]));
    await fanout(queuedEvent(sentEvent({ message: 'm-1', fields: big('c') })));
    resetHistory();
    return mailEvent({ type: 'open', message: 'm-1', fields: big('o') });
  }

  it('leaves the context fields out when the enriched delivery would exceed 256 KiB', async () => {
    const open = await oversizedOpen();
    await fanout(queuedEvent(open));

    const entries = sendCalls().flat();
    expect(entries).toHaveLength(1);
    expect(Buffer.byteLength(entries[0]!.MessageBody!)).toBeLessThanOrEqual(256 * 1024);
    // Less context, not none: recipient, profile and tags still come from the sent.
    expect(delivered(open.id)).toEqual({
      ...open,
      recipient: 'jane@example.com',
      profile: 'profile-1',
      tags: ['news', 'nov'],
    });
  });

  it('does not fail the record of an event whose enriched log record would exceed 256 KiB', async () => {
    const open = await oversizedOpen();
    expect(await fanout(queuedEvent(open))).toEqual({ batchItemFailures: [] });
  });
});

describe('fanout: which loops get a delivery (docs/api.md §5)', () => {
  it("reads each account's loops once per batch", async () => {
    storeLoops(loopRecord(), loopRecord({ accountId: OTHER_ACCOUNT }));
    const events = Array.from({ length: 10 }, (_, i) =>
      queuedEvent(mailEvent(), { accountId: i % 2 ? ACCOUNT_ID : OTHER_ACCOUNT }),
    );
    await fanout(...events);

    const queries = table.requestsOf('Query');
    expect(queries).toHaveLength(2);
    expect(queued()).toHaveLength(10);
    // Each event went to its own account's loop only.
    for (const delivery of queued()) {
      const loop = table.where(`ACCOUNT#${delivery.accountId}`)[0]!;
      expect(delivery.loopId).toBe(loop.id);
    }
  });

  it('queues deliveries only for loops that are verified, enabled and subscribed to the type', async () => {
    const receiving = loopRecord({ events: ['open', 'click'] });
    storeLoops(
      receiving,
      loopRecord({ status: 'unverified' }),
      loopRecord({ enabled: false }),
      loopRecord({ status: 'disabled', disabledReason: 'HTTP 410', enabled: false }),
      loopRecord({ events: ['click'] }),
      loopRecord({ accountId: OTHER_ACCOUNT }),
    );
    const open = mailEvent({ type: 'open' });
    await fanout(queuedEvent(open));

    expect(queued()).toEqual([{ accountId: ACCOUNT_ID, loopId: receiving.id, event: open }]);
  });

  it('queues the deliveries of a loop that a 410 disabled too, for deliver to keep as failures', async () => {
    const gone = loopRecord({ status: 'disabled', disabledReason: 'HTTP 410', events: ['open'] });
    storeLoops(gone, loopRecord({ status: 'disabled', disabledReason: 'HTTP 410', events: ['click'] }));
    const open = mailEvent({ type: 'open' });
    await fanout(queuedEvent(open));

    expect(queued()).toEqual([{ accountId: ACCOUNT_ID, loopId: gone.id, event: open }]);
  });

  it('queues nothing and fails nothing for an account without loops', async () => {
    expect(await fanout(queuedEvent(mailEvent()))).toEqual({ batchItemFailures: [] });
    expect(sendCalls()).toHaveLength(0);
  });

  it("queues the whole batch's deliveries ten to a SendMessageBatch, each (event, loop) once", async () => {
    const loops = [loopRecord(), loopRecord()];
    storeLoops(...loops);
    const events = Array.from({ length: 25 }, () => mailEvent());
    expect(await fanout(...events.map((event) => queuedEvent(event)))).toEqual({ batchItemFailures: [] });

    const calls = sendCalls();
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 10, 10, 10]);
    const pairs = queued().map((delivery) => `${delivery.event.id} ${delivery.loopId}`);
    expect(new Set(pairs).size).toBe(50);
    expect(pairs.toSorted()).toEqual(
      events.flatMap((event) => loops.map((loop) => `${event.id} ${loop.id}`)).toSorted(),
    );
  });

  it('fails only the record of the event whose delivery SQS refused', async () => {
    storeLoops(loopRecord());
    const records = Array.from({ length: 5 }, () => sqsRecord(queuedEvent()));
    const refused = JSON.parse(records[2]!.body) as QueuedEvent;
    sqsMock
      .on(SendMessageBatchCommand)
      .callsFake((input: SendMessageBatchCommandInput) =>
        sqsAccepts(
          input,
          (entry) =>
            input.QueueUrl === DELIVERIES_QUEUE_URL &&
            (JSON.parse(entry.MessageBody!) as QueuedDelivery).event.id === refused.event.id,
        ),
      );

    expect(await fanout(...records)).toEqual({ batchItemFailures: [{ itemIdentifier: records[2]!.messageId }] });
  });

  it('returns the whole batch when the loops cannot be read', async () => {
    storeLoops(loopRecord());
    dynamoMock.on(QueryCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    const records = [sqsRecord(queuedEvent()), sqsRecord(queuedEvent())];

    const response = await fanout(...records);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).toSorted()).toEqual(
      records.map((record) => record.messageId).toSorted(),
    );
    expect(sendCalls()).toHaveLength(0);
  });

  it('moves a message it cannot read (not JSON, or not an event) to the dead-letter queue and fans out the rest', async () => {
    storeLoops(loopRecord());
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dead' });
    const event = mailEvent();
    const poison = [
      '{not json',
      'null',
      '"text"',
      '{"accountId":"acc"}',
      '{"accountId":"a","receivedAt":"x","event":{"id":5}}',
    ];
    const response = await fanout(...poison.map((body) => sqsRecord(body)), sqsRecord(queuedEvent(event)));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(queued().map((delivery) => delivery.event.id)).toEqual([event.id]);
    const moved = sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(moved.map((input) => input.QueueUrl)).toEqual(poison.map(() => DEAD_LETTER_QUEUE_URL));
    expect(moved.map((input) => input.MessageBody).toSorted()).toEqual(poison.toSorted());
  });

  it('returns a message it cannot read to its queue when the dead-letter queue cannot take it', async () => {
    storeLoops(loopRecord());
    sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const poison = sqsRecord('{not json');
    const event = mailEvent();

    expect(await fanout(poison, sqsRecord(queuedEvent(event)))).toEqual({
      batchItemFailures: [{ itemIdentifier: poison.messageId }],
    });
    expect(queued().map((delivery) => delivery.event.id)).toEqual([event.id]);
  });
});

describe('fanout: client ids are idempotency keys (docs/api.md §4)', () => {
  beforeEach(() => storeLoops(loopRecord()));

  const withClientId = (id: string) => queuedEvent(mailEvent({ id }), { idFromClient: true });
  const claims = () => table.requestsOf('PutItem').filter((request) => request.writtenKeys[0]!.startsWith('EVENTID#'));

  it('claims each client id with one conditional write and delivers the event', async () => {
    await fanout(withClientId('client-1'), withClientId('client-2'), queuedEvent(mailEvent()));

    expect(claims()).toHaveLength(2);
    for (const call of dynamoMock.commandCalls(PutCommand)) {
      expect(call.args[0].input.ConditionExpression).toContain('attribute_not_exists(pk)');
    }
    expect(queued().map((delivery) => delivery.event.id)).toEqual(expect.arrayContaining(['client-1', 'client-2']));
    expect(queued()).toHaveLength(3);
  });

  it('does not deliver an id a second time (the claim is lost), and does not fail the record', async () => {
    await fanout(sqsRecord(withClientId('client-1')));
    resetHistory();

    const again = sqsRecord(withClientId('client-1'));
    const other = queuedEvent(mailEvent());
    expect(await fanout(again, other)).toEqual({ batchItemFailures: [] });

    expect(claims()).toHaveLength(1);
    expect(claims()[0]!.conditionFailed).toBe(true);
    expect(queued().map((delivery) => delivery.event.id)).toEqual([other.event.id]);
  });

  it('delivers again when SQS hands back the message that holds the claim', async () => {
    const record = sqsRecord(withClientId('client-1'));
    await fanout(record);
    await fanout({ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } });

    expect(queued().map((delivery) => delivery.event.id)).toEqual(['client-1', 'client-1']);
  });

  it('claims nothing for events without a client id', async () => {
    await fanout(queuedEvent(mailEvent()), queuedEvent(sentEvent()));
    expect(claims()).toHaveLength(0);
    expect(queued()).toHaveLength(2);
  });

  it('fails only the record whose claim could not be written', async () => {
    dynamoMock.on(PutCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const claimed = sqsRecord(withClientId('client-1'));
    const plain = queuedEvent(mailEvent());

    expect(await fanout(claimed, plain)).toEqual({ batchItemFailures: [{ itemIdentifier: claimed.messageId }] });
    expect(queued().map((delivery) => delivery.event.id)).toEqual([plain.event.id]);
  });
});
