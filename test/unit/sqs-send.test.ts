import { SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sqs } from '#shared/runtime/sqs.ts';
import { SQS_LIMITS } from '#shared/runtime/sqs-limits.ts';
import { RefusedBySqs, bySourceMessage, sendBatches } from '#shared/runtime/sqs-send.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';
const sqsMock = mockClient(sqs);
afterAll(() => sqsMock.restore());
beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

const calls = () =>
  sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input as SendMessageBatchCommandInput);
const messages = (count: number, bytes = 10) =>
  Array.from({ length: count }, (_, index) => ({ body: String(index).padEnd(bytes, 'x'), source: `m${index}` }));

describe('sendBatches', () => {
  it('sends ten entries to a call, in order, each with its index as its Id', async () => {
    expect(await sendBatches(QUEUE_URL, messages(25))).toEqual([]);
    expect(calls().map((input) => input.Entries!.length)).toEqual([10, 10, 5]);
    expect(calls().every((input) => input.QueueUrl === QUEUE_URL)).toBe(true);
    expect(calls().flatMap((input) => input.Entries!.map((entry) => entry.Id))).toEqual(
      Array.from({ length: 25 }, (_, index) => String(index)),
    );
  });

  it('starts a new call before the entries would pass 256 KiB', async () => {
    await sendBatches(QUEUE_URL, messages(3, 100 * 1024));
    expect(calls().map((input) => input.Entries!.length)).toEqual([2, 1]);
    for (const input of calls()) {
      const bytes = input.Entries!.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody!), 0);
      expect(bytes).toBeLessThanOrEqual(SQS_LIMITS.batchBytes);
    }
  });

  it('answers the refused messages with why, and those of a failed call', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '3', Code: 'InternalError', SenderFault: false }] })
      .rejectsOnce(new Error('socket hang up'));
    const sent = messages(12);
    const notSent = await sendBatches(QUEUE_URL, sent);
    expect(notSent.map(({ message }) => message.source).sort()).toEqual(['m10', 'm11', 'm3']);
    const refused = notSent.find(({ message }) => message.source === 'm3')!.reason;
    expect(refused).toBeInstanceOf(RefusedBySqs);
    expect((refused as RefusedBySqs).code).toBe('InternalError');
  });

  it('with resendOnce, sends only what failed once more', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] })
      .resolves({ Failed: [] });
    expect(await sendBatches(QUEUE_URL, messages(3), { resendOnce: true })).toEqual([]);
    expect(calls().map((input) => input.Entries!.map((entry) => entry.Id))).toEqual([['0', '1', '2'], ['1']]);
  });

  it('with resendOnce, answers what failed twice', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('down'));
    expect(await sendBatches(QUEUE_URL, messages(2), { resendOnce: true })).toHaveLength(2);
    expect(calls()).toHaveLength(2);
  });

  it('keeps at most parallelCalls calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return { Failed: [] };
    });
    await sendBatches(QUEUE_URL, messages(60), { parallelCalls: 2 });
    expect(calls()).toHaveLength(6);
    expect(most).toBe(2);
  });

  it('once the signal aborts, answers what was not sent and sends nothing again', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(() => new Promise(() => {}));
    const notSent = await sendBatches(QUEUE_URL, messages(2), {
      resendOnce: true,
      abortSignal: AbortSignal.timeout(1),
    });
    expect(notSent).toHaveLength(2);
    expect(calls()).toHaveLength(1);
  });
});

describe('bySourceMessage', () => {
  it('maps each message not sent to every source it carries', () => {
    const failed = bySourceMessage(
      [
        { message: { body: 'a', sources: ['r1', 'r2'] }, reason: 'x' },
        { message: { body: 'b', sources: ['r3'] }, reason: 'y' },
      ],
      (message) => message.sources,
    );
    expect(failed).toEqual(
      new Map([
        ['r1', 'x'],
        ['r2', 'x'],
        ['r3', 'y'],
      ]),
    );
  });
});
