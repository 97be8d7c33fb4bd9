import { readFileSync } from 'node:fs';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QueuedEvent } from '#shared/events/messages.ts';
import { NOW } from '../support/factories.ts';
import { functionEnvironment } from '../support/function-environment.ts';

/** The ses-source handler with its AWS calls mocked: where each outcome goes (the twin test runs it for real). */

const { EVENTS_QUEUE_URL, DEAD_LETTER_QUEUE_URL } = functionEnvironment('ses-source');
type Handler = (event: EventBridgeEvent<string, unknown>) => Promise<void>;
let handler: Handler;
let sqsMock: ReturnType<typeof mockClient>;
let dynamoMock: ReturnType<typeof mockClient>;

beforeAll(async () => {
  const { sqs } = await import('#shared/runtime/sqs.ts');
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { clock } = await import('#shared/runtime/clock.ts');
  vi.spyOn(clock, 'now').mockImplementation(() => new Date(NOW));
  sqsMock = mockClient(sqs);
  dynamoMock = mockClient(dynamo);
  ({ handler } = (await import('../../functions/ses-source/handler.ts')) as unknown as { handler: Handler });
});
afterAll(() => {
  sqsMock.restore();
  dynamoMock.restore();
  vi.restoreAllMocks();
});
beforeEach(() => {
  sqsMock.reset();
  dynamoMock.reset();
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  dynamoMock.on(GetCommand).resolves({});
});

let unique = 0;
/** The AWS example, within ingest's 30 days of NOW, of its own configuration set (the cache is per set). */
function sesEvent(name: string, setAccount?: string) {
  const event = JSON.parse(readFileSync(`examples/ses/${name}.json`, 'utf8')) as EventBridgeEvent<string, any>;
  const text = JSON.stringify(event).replace(/20\d\d-\d\d-\d\dT/g, '2026-11-20T');
  const fresh = JSON.parse(text) as EventBridgeEvent<string, any>;
  const set = `set-${++unique}`;
  fresh.detail.mail.tags['ses:configuration-set'] = [set];
  delete fresh.detail.mail.tags['feedback-loops-account'];
  if (setAccount)
    dynamoMock
      .on(GetCommand, { Key: { pk: `SESCONFIGSET#${set}`, sk: 'SESCONFIGSET' } })
      .resolves({ Item: { accountId: setAccount } });
  return fresh;
}
const sentTo = (url: string | undefined) =>
  sqsMock
    .commandCalls(SendMessageBatchCommand)
    .filter((call) => call.args[0].input.QueueUrl === url)
    .flatMap((call) => call.args[0].input.Entries as SendMessageBatchRequestEntry[])
    .map((entry) => JSON.parse(entry.MessageBody!) as Record<string, any>);

describe('ses-source handler', () => {
  it("queues one event per recipient for the set's account, its id an idempotency key", async () => {
    await handler(sesEvent('bounce', 'acc_A'));
    const queued = sentTo(EVENTS_QUEUE_URL) as QueuedEvent[];
    expect(queued.map((message) => [message.accountId, message.event.type, message.event.recipient])).toEqual([
      ['acc_A', 'bounce', 'recipient@example.com'],
      ['acc_A', 'bounce', 'recipient2@example.com'],
    ]);
    expect(queued.every((message) => message.idFromClient === true)).toBe(true);
    expect(sentTo(DEAD_LETTER_QUEUE_URL)).toEqual([]);
  });

  it('takes the tagged account when it exists, else the mapping, and looks up no tag that is not an account id', async () => {
    const account = 'acc_01JD0000000000000000000000';
    dynamoMock.on(GetCommand, { Key: { pk: `ACCOUNT#${account}`, sk: 'ACCOUNT' } }).resolves({ Item: { pk: 'x' } });
    const tagged = sesEvent('open', 'acc_MAPPED');
    tagged.detail.mail.tags['feedback-loops-account'] = [account];
    await handler(tagged);
    const odd = sesEvent('open', 'acc_MAPPED');
    odd.detail.mail.tags['feedback-loops-account'] = ['ACCOUNT#x'];
    await handler(odd);
    expect((sentTo(EVENTS_QUEUE_URL) as QueuedEvent[]).map((message) => message.accountId)).toEqual([
      account,
      'acc_MAPPED',
    ]);
    const keys = dynamoMock.commandCalls(GetCommand).map((call) => call.args[0].input.Key?.pk);
    expect(keys.filter((key) => String(key).startsWith('ACCOUNT#'))).toEqual([`ACCOUNT#${account}`]);
  });

  it('throws when the events queue fails, so that the invocation is retried', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('SQS is down'));
    await expect(handler(sesEvent('open', 'acc_A'))).rejects.toThrow(/Queueing 1 of 1 SES events failed/);
  });

  it('keeps an event of no known account on the dead-letter queue and returns', async () => {
    await handler(sesEvent('open'));
    expect(sentTo(EVENTS_QUEUE_URL)).toEqual([]);
    expect(sentTo(DEAD_LETTER_QUEUE_URL)).toEqual([
      expect.objectContaining({ reason: 'no-account', configurationSet: `set-${unique}`, event: expect.any(Object) }),
    ]);
  });

  it('keeps an unreadable event, and throws only when it cannot keep it', async () => {
    const odd = sesEvent('send', 'acc_A');
    odd.detail.eventType = 'Teleport';
    await handler(odd);
    expect(sentTo(DEAD_LETTER_QUEUE_URL)).toEqual([expect.objectContaining({ reason: 'unreadable' })]);
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('SQS is down'));
    await expect(handler(odd)).rejects.toThrow(/Keeping an SES event failed/);
  });

  it('sends nothing for a delivery delay', async () => {
    await handler(sesEvent('delivery-delay', 'acc_A'));
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
