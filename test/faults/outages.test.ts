import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { sleep, until } from '../support/wait.ts';
import {
  type Mode,
  Tally,
  control,
  failuresOf,
  loggedIds,
  printTable,
  seedLoop,
  startFaultyReceiver,
  tallies,
} from './harness.ts';

/**
 * Whatever breaks, an accepted event ends delivered or listed where its account can replay it
 * (docs/api.md §5): receivers that refuse, fail or hang; function processes killed in the middle of a
 * batch; AWS calls failing; messages nobody can read; many clients at once. The scenarios run side
 * by side (each with its own account, loop and receiver); the crashes go first (they pause pollers,
 * so that the batch that dies is theirs), the minute of failing AWS calls last (it also fails the
 * API calls the others set up with). The twin runs retrySchedule=2,2,2 and deliveryTimeoutSeconds=2.
 */

const SCHEDULE_SECONDS = 6;
/** The queues' visibility timeouts (6 × the consumer's timeout + its batching window). */
const DELIVER_VISIBILITY_S = 6 * 12;
const FANOUT_VISIBILITY_S = 6 * 30 + 1;
/** The log writer's: 6 × 60 s + its 5 s batching window (logFlushSeconds=10 less 5). */
const LOG_WRITER_VISIBILITY_S = 6 * 60 + 5;

function queueUrl(name: string): string {
  const { resources } = inject('twin');
  const id = Object.keys(resources).find((key) => new RegExp(`^${name}[0-9A-F]{8}$`).test(key));
  if (!id) throw new Error(`no queue ${name}`);
  return resources[id]!;
}
const sqs = () => {
  const { endpoint, region, credentials } = inject('twin');
  return new SQSClient({ endpoint, region, credentials });
};
async function messagesIn(name: string, attribute: 'ApproximateNumberOfMessages' | 'All' = 'All'): Promise<number> {
  const { Attributes = {} } = await sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl(name),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const visible = Number(Attributes.ApproximateNumberOfMessages);
  return attribute === 'All' ? visible + Number(Attributes.ApproximateNumberOfMessagesNotVisible) : visible;
}

async function scenario(name: string) {
  const receiver = await startFaultyReceiver();
  const tally = new Tally(name, receiver);
  tallies.push(tally);
  return { receiver, tally, ...(await seedLoop(receiver, name.replace(/\W+/g, '-'))) };
}

/** Sets the crash, and only once it is set resumes the poller whose batch it kills; waits until it happened. */
async function crashWhenResumed(fn: string, at: string, resume: string): Promise<void> {
  await control('POST', `/functions/${fn}/crash`, { at, armed: true });
  await control('POST', resume);
  await until(`${fn} killed at ${at}`, async () => !(await control('GET', `/functions/${fn}/crash`)).armed, 60_000);
}

/** A function's process killed mid-batch: its poller is paused while the batch gathers, so the batch that dies is this one. */
async function crashMidBatch(fn: string, at: string, queue: string, events: number, name: string) {
  const setup = await scenario(name);
  const poller = fn === 'FanoutFunction' ? 'FanoutFunction' : 'DeliverFunction';
  await control('POST', `/pollers/${poller}/pause`);
  for (let sent = 0; sent < events; sent += 10) await setup.tally.send(setup.apiKey, 10, `${name}-${sent}`);
  await until(
    `${events} messages waiting in ${queue}`,
    async () => (await messagesIn(queue, 'ApproximateNumberOfMessages')) >= events,
    30_000,
  );
  await crashWhenResumed(fn, at, `/pollers/${poller}/resume`);
  return { ...setup, crashedAt: Date.now() };
}

// The crashes set up one after the other, before anything else is sent.
const deliverCrash = crashMidBatch(
  'DeliverFunction',
  'dynamodb:BatchGetItem',
  'DeliveriesQueue',
  10,
  'deliver killed mid-batch',
);
const fanoutCrash = deliverCrash.then(() =>
  crashMidBatch('FanoutFunction', 'dynamodb:Query', 'EventsQueue', 20, 'fanout killed mid-batch'),
);
/**
 * The log writer killed after its chunk object is written and before the file's index is: the
 * records of its batch reach the log files after the visibility timeout, each once.
 */
const logWriterCrash = fanoutCrash.then(async () => {
  const name = 'log writer killed mid-flush';
  const setup = await scenario(name);
  // The log writer also consumes its dead-letter queue: its poller is named by its queue.
  const poller = `/pollers/${queueUrl('LogQueue').split('/').pop()}`;
  await control('POST', `${poller}/pause`);
  await setup.tally.send(setup.apiKey, 10, name.replace(/\W+/g, '-'));
  await setup.tally.allDelivered(Date.now(), 60_000);
  await until(
    'log records waiting',
    async () => (await messagesIn('LogQueue', 'ApproximateNumberOfMessages')) > 0,
    30_000,
  );
  await crashWhenResumed('LogWriterFunction', 's3:PutObject', `${poller}/resume`);
  return { ...setup, crashedAt: Date.now() };
});
const crashesSetUp = logWriterCrash.then(
  () => undefined,
  () => undefined,
);

/**
 * The outages and the poison go next, side by side; the load after them (its thousands of deliveries
 * would queue ahead of theirs); the minute of failing AWS calls once the load is sent (it would
 * fail their setup and the load's "no 5xx").
 */
const OUTAGES = 7;
const outagesRun: Promise<unknown>[] = [];
const gate = <T>(work: Promise<T>) => {
  outagesRun.push(work.catch(() => undefined));
  return work;
};
const outagesDone = async () => {
  while (outagesRun.length < OUTAGES) await sleep(100);
  await Promise.all(outagesRun);
};
let loadSent: () => void = () => {};
const loadSending = new Promise<void>((resolve) => (loadSent = resolve));

async function outage(mode: Exclude<Mode, 'ok'>, longer: boolean) {
  await crashesSetUp;
  const name = `receiver ${mode === 'refuse' ? 'refuses' : mode === 'error' ? 'answers 500' : 'hangs'} ${longer ? '> schedule' : '< schedule'}`;
  const { receiver, tally, apiKey, loopId } = await scenario(name);
  await receiver.setMode(mode);
  const outageBegan = Date.now();
  for (let request = 0; request < 2; request++) await tally.send(apiKey, 5, `${name}-${request}`);
  if (!longer) {
    // 4 s from the outage's start, however long the sends took: less than the schedule's 6 s.
    await sleep(Math.max(0, outageBegan + 4000 - Date.now()));
    await receiver.setMode('ok');
    await tally.allDelivered(Date.now(), 120_000);
    expect(await failuresOf(apiKey, loopId)).toEqual([]);
    return;
  }
  // Every attempt fails, until each accepted event is listed under the loop's failures.
  let listed: { eventId: string }[] = [];
  await until(
    `${name}: all listed under failures`,
    async () => (listed = await failuresOf(apiKey, loopId)).length >= tally.accepted.size,
    180_000,
  );
  tally.failures = listed.length;
  expect(new Set(listed.map((failure) => failure.eventId))).toEqual(tally.accepted);
  expect(receiver.delivered.size).toBe(0);
  await receiver.setMode('ok');
  const recovering = Date.now();
  const replay = await call('POST', `/v1/loops/${loopId}/failures/replay`, { key: apiKey });
  expect(replay.status).toBe(202);
  await tally.allDelivered(recovering, 120_000);
  await until(
    `${name}: failures cleared by the replay`,
    async () => (await failuresOf(apiKey, loopId)).length === 0,
    30_000,
  );
}

describe.concurrent('nothing accepted is lost', () => {
  afterAll(async () => {
    printTable();
    await Promise.all(tallies.map((tally) => tally.receiver.close()));
  });

  it(`delivers a batch whose deliver process was killed after ${DELIVER_VISIBILITY_S} s visibility`, async () => {
    const { tally, crashedAt } = await deliverCrash;
    expect(tally.receiver.delivered.size).toBe(0); // it died before posting
    await tally.allDelivered(crashedAt, (DELIVER_VISIBILITY_S + 120) * 1000);
  });

  it(`delivers a batch whose fanout process was killed after ${FANOUT_VISIBILITY_S} s visibility`, async () => {
    const { tally, crashedAt } = await fanoutCrash;
    expect(tally.receiver.delivered.size).toBe(0); // it died before queueing a delivery
    await tally.allDelivered(crashedAt, (FANOUT_VISIBILITY_S + 120) * 1000);
  });

  it(`writes the log records of a batch whose log writer was killed after ${LOG_WRITER_VISIBILITY_S} s visibility`, async () => {
    const { tally, apiKey, crashedAt } = await logWriterCrash;
    const logged = async () => [...(await loggedIds(apiKey, 'opens')), ...(await loggedIds(apiKey, 'clicks'))];
    let ids: string[] = [];
    await until(
      'every accepted event in the log files',
      async () => (ids = await logged()).length >= tally.accepted.size,
      (LOG_WRITER_VISIBILITY_S + 120) * 1000,
    );
    tally.recoveredMs = Date.now() - crashedAt;
    expect(ids.toSorted()).toEqual([...tally.accepted].toSorted());
  });

  for (const mode of ['refuse', 'error', 'hang'] as const) {
    it(`delivers everything after a receiver that ${mode}s for less than the schedule (${SCHEDULE_SECONDS} s)`, () =>
      gate(outage(mode, false)));
    it(`lists everything under failures after a receiver that ${mode}s past the schedule; one replay delivers it`, () =>
      gate(outage(mode, true)));
  }

  it('moves messages nobody can read to the dead-letter queues without holding up the others', () =>
    gate(
      (async () => {
        await crashesSetUp;
        const { tally, apiKey } = await scenario('poison messages');
        const dead = {
          events: await messagesIn('EventsQueueDeadLetterQueue'),
          deliveries: await messagesIn('DeliveriesQueueDeadLetterQueue'),
        };
        const poison = [
          '{not json',
          'null',
          '"text"',
          '{"accountId":"acc_x"}',
          '{"accountId":"a","receivedAt":"x","event":{"id":5}}',
        ];
        for (const body of poison)
          await sqs().send(new SendMessageCommand({ QueueUrl: queueUrl('EventsQueue'), MessageBody: body }));
        for (const body of poison.slice(0, 2))
          await sqs().send(new SendMessageCommand({ QueueUrl: queueUrl('DeliveriesQueue'), MessageBody: body }));
        const sent = Date.now();
        await tally.send(apiKey, 10, 'poison-neighbours');
        // Well inside the visibility timeout a failed batch would wait out.
        await tally.allDelivered(sent, (FANOUT_VISIBILITY_S - 30) * 1000);
        await until(
          'poison in the dead-letter queues',
          async () =>
            (await messagesIn('EventsQueueDeadLetterQueue')) >= dead.events + poison.length &&
            (await messagesIn('DeliveriesQueueDeadLetterQueue')) >= dead.deliveries + 2,
          30_000,
        );
        tally.failures = poison.length + 2;
      })(),
    ));

  it('20 clients × 10 requests of 10 events: never a 500, all delivered (a 503 is sent again, as it says)', async () => {
    await crashesSetUp;
    const { tally, apiKey } = await scenario('20 clients x 10 x 10 events');
    await outagesDone();
    const started = Date.now();
    try {
      await Promise.all(
        Array.from({ length: 20 }, async (_, client) => {
          for (let request = 0; request < 10; request++) {
            // A 503 says when to send the same events again; their ids make that safe (docs/api.md §2, §4).
            for (let tries = 0; tries < 5; tries++) {
              const answer = await tally.send(apiKey, 10, `load-${client}-${request}`, true);
              if (answer.status !== 503) break;
              expect(answer.body.error.code).toBe('service_unavailable');
              await sleep(Number(answer.headers.get('retry-after')) * 1000);
            }
          }
        }),
      );
    } finally {
      loadSent();
    }
    // Never a 500; a 503 only when the emulator is too slow to queue within ingest's time (a loaded machine).
    expect([...tally.statuses.keys()].filter((status) => status !== 202 && status !== 503)).toEqual([]);
    expect(tally.accepted.size).toBe(2000);
    await tally.allDelivered(started, 600_000);
  });

  it('SQS and DynamoDB failing 20 % of calls for a minute: 202 or 503 (never 500), all of the 202s delivered', async () => {
    await crashesSetUp;
    const { tally, apiKey } = await scenario('SQS+DynamoDB 20% for 60 s');
    await loadSending;
    const before = await messagesIn('EventsQueueDeadLetterQueue');

    // What ingest could not queue is a 503 in the API's error shape, safe to send again.
    await control('POST', '/pollers/FanoutFunction/pause');
    await control('POST', '/faults', { spec: 'sqs:SendMessageBatch=1', seed: 1, kind: 'throttle' });
    const refused = await call('POST', '/v1/events', { key: apiKey, body: { type: 'open', message: 'refused' } });
    await control('DELETE', '/faults');
    await control('POST', '/pollers/FanoutFunction/resume');
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('service_unavailable');
    expect(refused.headers.get('retry-after')).toBe('5');

    await control('POST', '/faults', { spec: 'sqs:*=0.2,dynamodb:*=0.2', seed: 20, kind: 'mixed' });
    const ends = Date.now() + 60_000;
    await Promise.all(
      Array.from({ length: 2 }, async (_, client) => {
        for (let request = 0; Date.now() < ends; request++) {
          const answer = await tally.send(apiKey, 5, `chaos-${client}-${request}`);
          if (answer.status !== 202) expect(answer.body.error.code).toBe('service_unavailable');
          await sleep(1000);
        }
      }),
    );
    const { injected } = await control('GET', '/faults');
    await control('DELETE', '/faults');
    console.log(`faults injected in the minute: ${JSON.stringify(injected)}`);
    expect([...tally.statuses.keys()].filter((status) => status !== 202 && status !== 503)).toEqual([]);
    await tally.allDelivered(Date.now(), (FANOUT_VISIBILITY_S + 240) * 1000);
    // A batch fanout failed on came back, rather than going to the dead-letter queue.
    expect(await messagesIn('EventsQueueDeadLetterQueue')).toBe(before);
  });
});
