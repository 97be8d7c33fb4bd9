import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { startLoopback } from '../support/loopback.ts';
import { physicalId } from '../support/twin-resources.ts';
import { seedAccount } from '../support/twin-seed.ts';

/**
 * What lands in a dead-letter queue because a function kept failing on it (a crash, a bug) must not
 * sit where nobody looks: the account finds it under its loop's failures. The messages are put in
 * the dead-letter queues directly, as SQS's redrive would after the last failed receive.
 */

async function failuresOf(apiKey: string, loopId: string, eventId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await call('GET', `/v1/loops/${loopId}/failures`, { key: apiKey });
    expect(answer.status).toBe(200);
    const found = answer.body.failures.filter((failure: { eventId: string }) => failure.eventId === eventId);
    if (found.length || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function emulatorSqs() {
  const { endpoint, region, credentials } = inject('twin');
  return new SQSClient({ endpoint, region, credentials });
}

it('records a dead-lettered delivery under its loop, where a replay delivers it', async () => {
  const receiver = await startLoopback();
  const account = await seedAccount(receiver, { path: '/hook' });
  const id = `crashed-${Date.now()}`;
  const event = { id, type: 'click', message: id, timestamp: new Date().toISOString() };
  await emulatorSqs().send(
    new SendMessageCommand({
      QueueUrl: physicalId('DeliveriesQueueDeadLetterQueue'),
      MessageBody: JSON.stringify({ accountId: account.accountId, loopId: account.loop.id, event }),
    }),
  );

  const [failure] = await failuresOf(account.apiKey, account.loop.id, id);
  expect(failure).toMatchObject({ eventId: id, type: 'click', lastError: expect.stringMatching(/failed/) });

  const replay = await call('POST', `/v1/loops/${account.loop.id}/failures/replay`, {
    key: account.apiKey,
    body: { eventIds: [id] },
  });
  expect(replay.status).toBe(202);
  expect(replay.body).toEqual({ replayed: 1 });
  const [post] = await receiver.waitFor((request) => request.headers['webhook-id'] === id);
  expect(new URLSearchParams(post!.body).get('message')).toBe(id);
  await receiver.close();
});

it('records a dead-lettered event as a failure of each loop that takes it', async () => {
  const receiver = await startLoopback();
  const account = await seedAccount(receiver, { path: '/hook', events: ['open'] });
  const id = `unfanned-${Date.now()}`;
  const event = { id, type: 'open', message: id, timestamp: new Date().toISOString() };
  await emulatorSqs().send(
    new SendMessageCommand({
      QueueUrl: physicalId('EventsQueueDeadLetterQueue'),
      MessageBody: JSON.stringify({ accountId: account.accountId, receivedAt: event.timestamp, event }),
    }),
  );
  const [failure] = await failuresOf(account.apiKey, account.loop.id, id);
  expect(failure).toMatchObject({ eventId: id, type: 'open', lastError: expect.stringMatching(/fanned out/) });
  await receiver.close();
});
