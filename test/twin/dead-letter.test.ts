import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect, inject, it } from 'vitest';
import { physicalId } from './resources.ts';
import { call } from './api.ts';
import { startReceiver } from './receiver.ts';
import { seedAccount } from './seed.ts';

it('dead-letters a delivery once the retry schedule is exhausted', async () => {
  const { endpoint, region, credentials } = inject('twin');
  const receiver = await startReceiver(() => 500);
  const account = await seedAccount(receiver, { path: '/hook' });
  const id = `dead-${Date.now()}`;
  expect(
    (await call('POST', '/v1/events', { key: account.apiKey, body: { id, type: 'click', message: id } })).status,
  ).toBe(202);

  // The first attempt and one per delay of the twin's test schedule (1,1,1), then no more.
  await receiver.waitFor(() => true, 4);
  const sqs = new SQSClient({ endpoint, region, credentials });
  const dlqUrl = physicalId('DeliveriesQueueDeadLetterQueue');
  const deadline = Date.now() + 20_000;
  let found: unknown;
  while (!found && Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    found = (Messages ?? []).map((message) => JSON.parse(message.Body!)).find((delivery) => delivery.event.id === id);
  }
  expect(found).toMatchObject({ accountId: account.accountId, loopId: account.loop.id, event: { id, type: 'click' } });
  expect(receiver.posts()).toHaveLength(4);
  await receiver.close();
});
