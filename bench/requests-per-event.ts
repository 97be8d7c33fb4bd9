/**
 * What an event costs in AWS requests: the real authorizer, ingest, fanout and deliver handlers run
 * in this process, with every AWS call answered by aws-sdk-client-mock (SQS queues in memory, the
 * table in memory) and counted, and deliveries POSTed to a loopback receiver answering 200.
 *
 * Capacity units are estimated from item sizes as DynamoDB bills them on demand: a write is
 * 1 WCU per 1 KB (rounded up, per item; a failed conditional write too), a read 0.5 RCU per 4 KB
 * eventually consistent and 1 RCU strongly consistent (per item for GetItem and BatchGetItem, a key
 * that finds nothing included; over the summed bytes for a Query).
 */
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { generateApiKey, hashApiKey } from '#shared/accounts/api-keys.ts';
import type { ApiEvent } from '#shared/http/api-handler.ts';
import type { AuthorizerContext } from '#shared/http/principal.ts';
import { itemKeys } from '#shared/store/table.ts';
import {
  ACCOUNT_ID,
  apiEvent,
  authorizerEvent,
  callers,
  lambdaContext,
  loopRecord,
  sqsEvent,
  sqsRecord,
} from '../test/support/factories.ts';
import { FakeTable, type TableRequest } from '../test/support/fake-table.ts';
import { type Loopback, startLoopback } from '../test/support/loopback.ts';
import { logPath } from './log-path.ts';
import { random } from './mix.ts';
import { benchStack } from './stack.ts';

// The functions' environments, queues and batch sizes as the template has them.
const STACK = await benchStack();
const ENVIRONMENTS = STACK.environments;
const TABLE_NAME = ENVIRONMENTS.fanout!.TABLE_NAME!;
const QUEUES = {
  events: ENVIRONMENTS.ingest!.EVENTS_QUEUE_URL!,
  deliveries: ENVIRONMENTS.fanout!.DELIVERIES_QUEUE_URL!,
  logs: ENVIRONMENTS.fanout!.LOG_QUEUE_URL!,
};
const EVENTS_PER_REQUEST = 100;
const FANOUT_BATCH = STACK.eventSource('fanout', 'EventsQueue').batchSize;
const DELIVER_BATCH = STACK.eventSource('deliver', 'DeliveriesQueue').batchSize;
const MESSAGES = 2000;
const MIX = { open: 0.3, click: 0.05 };

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type ApiHandler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEventV2,
  context: Context,
) => Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>>;

interface Handlers {
  authorizer: AuthorizerHandler;
  ingest: ApiHandler;
  fanout: SqsHandler;
  deliver: SqsHandler;
}

/**
 * A mailing as its events reach the API: each message's `sent` and, a little later, its `delivery`;
 * then the opens and clicks, in no particular order. Client ids on every event in the variant.
 */
function mailing(withClientIds: boolean): Record<string, unknown>[] {
  const next = random(42);
  const early: Record<string, unknown>[] = [];
  const late: Record<string, unknown>[] = [];
  const id = (type: string, i: number) => (withClientIds ? { id: `${type}-${i}` } : {});
  for (let i = 0; i < MESSAGES; i++) {
    const message = `msg-${i}`;
    early.push({
      ...id('sent', i),
      type: 'sent',
      message,
      recipient: `user${i}@example.com`,
      profile: `profile-${i}`,
      fields: { firstname: 'Jane', lastname: 'Doe', city: 'Amsterdam', plan: 'pro', age: 20 + (i % 50) },
      tags: ['newsletter', 'november'],
    });
    // The delivery report follows its sent a few messages later.
    early.splice(Math.max(0, early.length - Math.floor(next() * 20)), 0, {
      ...id('delivery', i),
      type: 'delivery',
      message,
    });
    if (next() < MIX.open) {
      late.push({
        ...id('open', i),
        type: 'open',
        message,
        ip: '198.51.100.7',
        useragent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15',
      });
    }
    if (next() < MIX.click) {
      late.push({
        ...id('click', i),
        type: 'click',
        message,
        ip: '198.51.100.7',
        original: `https://example.com/offer/${i}?utm_source=mail`,
      });
    }
  }
  for (let i = late.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [late[i], late[j]] = [late[j]!, late[i]!];
  }
  return [...early, ...late];
}

interface Usage {
  invocations: number;
  sqs: Map<string, number>;
  dynamo: Map<string, number>;
  rcu: number;
  wcu: number;
  /** Items written, by kind (the first part of their partition key: MSG, EVENTID, …). */
  written: Map<string, number>;
}

const emptyUsage = (): Usage => ({
  invocations: 0,
  sqs: new Map(),
  dynamo: new Map(),
  rcu: 0,
  wcu: 0,
  written: new Map(),
});
const add = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);
const total = (map: Map<string, number>) => [...map.values()].reduce((sum, n) => sum + n, 0);

function readUnits(request: TableRequest): number {
  const factor = request.consistent ? 1 : 0.5;
  if (request.command === 'Query') {
    return Math.max(1, Math.ceil(request.queryReads.reduce((sum, n) => sum + n, 0) / 4096)) * factor;
  }
  return request.itemReads.reduce((sum, size) => sum + Math.max(1, Math.ceil(size / 4096)) * factor, 0);
}

function writeUnits(request: TableRequest): number {
  return request.itemWrites.reduce((sum, size) => sum + Math.max(1, Math.ceil(size / 1024)), 0);
}

interface Run {
  events: number;
  byType: Map<string, number>;
  clientIdEvents: number;
  delivered: number;
  stages: Record<'ingest' | 'fanout' | 'deliver', Usage>;
}

async function simulate(handlers: Handlers, mocks: Mocks, withClientIds: boolean): Promise<Run> {
  const { table, sqs, secrets, receiver } = mocks;
  table.clear();
  sqs.reset();
  secrets.reset();
  table.install(mocks.dynamo);
  receiver.received.length = 0;
  receiver.answer({ status: 200 });

  const apiKey = generateApiKey();
  table.put(
    { ...itemKeys.apiKey(hashApiKey(apiKey)), keyId: 'key_bench', accountId: ACCOUNT_ID, createdAt: 'x' },
    (() => {
      const loop = loopRecord({ url: `${receiver.origin}/hooks/feedback.php`, format: 'form' });
      return { ...itemKeys.loop(loop.accountId, loop.id), ...loop };
    })(),
  );
  secrets.on(GetSecretValueCommand).resolves({ SecretString: generateApiKey() });

  const queues = new Map<string, string[]>(Object.values(QUEUES).map((url) => [url, []]));
  let stage: Usage = emptyUsage();
  sqs.on(SendMessageBatchCommand).callsFake((input) => {
    add(stage.sqs, `SendMessageBatch ${queueName(input.QueueUrl)}`);
    queues.get(input.QueueUrl)!.push(...input.Entries.map((entry: { MessageBody: string }) => entry.MessageBody));
    return { Successful: input.Entries.map((entry: { Id: string }) => ({ Id: entry.Id })), Failed: [] };
  });
  sqs.on(ChangeMessageVisibilityCommand).callsFake(() => {
    add(stage.sqs, 'ChangeMessageVisibility');
    return {};
  });

  const account = (usage: Usage, from: number) => {
    for (const request of table.requests.slice(from)) {
      add(usage.dynamo, request.command);
      usage.rcu += readUnits(request);
      usage.wcu += writeUnits(request);
      for (const key of request.writtenKeys) add(usage.written, key.split('#')[0]!);
    }
  };

  const stages = { ingest: emptyUsage(), fanout: emptyUsage(), deliver: emptyUsage() };
  const events = mailing(withClientIds);

  // ingest: the authoriser and the ingest function once per request of the mail system.
  stage = stages.ingest;
  let from = table.requests.length;
  for (let start = 0; start < events.length; start += EVENTS_PER_REQUEST) {
    const headers = { authorization: `Bearer ${apiKey}` };
    const { context } = await handlers.authorizer(authorizerEvent({ headers }), lambdaContext('authorizer'));
    const response = await handlers.ingest(
      apiEvent({
        method: 'POST',
        path: '/v1/events',
        headers: { 'content-type': 'application/json' },
        caller: context ?? callers.none(),
        body: JSON.stringify({ events: events.slice(start, start + EVENTS_PER_REQUEST) }),
      }),
      lambdaContext('ingest'),
    );
    if (response.statusCode !== 202) throw new Error(`ingest answered ${response.statusCode}: ${response.body}`);
    stage.invocations += 2;
  }
  account(stage, from);

  // fanout: the events queue in batches of 25.
  stage = stages.fanout;
  from = table.requests.length;
  const accepted = queues.get(QUEUES.events)!.splice(0);
  for (let start = 0; start < accepted.length; start += FANOUT_BATCH) {
    const batch = accepted.slice(start, start + FANOUT_BATCH).map((body) => sqsRecord(body));
    const { batchItemFailures } = await handlers.fanout(sqsEvent(batch), lambdaContext('fanout'));
    if (batchItemFailures.length) throw new Error(`fanout failed ${batchItemFailures.length} records`);
    stage.invocations++;
  }
  account(stage, from);

  // deliver: the deliveries queue in batches of 10.
  stage = stages.deliver;
  from = table.requests.length;
  const deliveries = queues.get(QUEUES.deliveries)!.splice(0);
  for (let start = 0; start < deliveries.length; start += DELIVER_BATCH) {
    const batch = deliveries.slice(start, start + DELIVER_BATCH).map((body) => sqsRecord(body));
    const { batchItemFailures } = await handlers.deliver(sqsEvent(batch), lambdaContext('deliver'));
    if (batchItemFailures.length) throw new Error(`deliver failed ${batchItemFailures.length} records`);
    stage.invocations++;
  }
  account(stage, from);

  const byType = new Map<string, number>();
  for (const event of events) add(byType, event.type as string);
  return {
    events: events.length,
    byType,
    clientIdEvents: withClientIds ? events.length : 0,
    delivered: receiver.received.length,
    stages,
  };
}

interface Mocks {
  table: FakeTable;
  dynamo: ReturnType<typeof mockClient>;
  sqs: ReturnType<typeof mockClient>;
  secrets: ReturnType<typeof mockClient>;
  receiver: Loopback;
}

const queueName = (url: string) => Object.entries(QUEUES).find(([, queueUrl]) => queueUrl === url)?.[0] ?? url;

const fmt = (n: number, digits = 3) => n.toFixed(digits);
const pad = (text: string, width: number) => text.padStart(width);
const verdict = (ok: boolean) => (ok ? 'meets it' : 'MISSES IT');

function printRun(title: string, run: Run): void {
  const mix = [...run.byType].map(([type, n]) => `${n} ${type}`).join(', ');
  console.log(`\n${title}: ${run.events} events (${mix}); ${run.delivered} delivered to one loop`);
  console.log(
    `  ${'stage'.padEnd(8)}${pad('Lambda inv.', 12)}${pad('SQS req.', 10)}${pad('DDB req.', 10)}${pad('RCU', 8)}${pad('WCU', 8)}   per event; DynamoDB requests in all`,
  );
  const sum = emptyUsage();
  for (const [name, usage] of Object.entries(run.stages)) {
    const per = (n: number) => fmt(n / run.events);
    console.log(
      `  ${name.padEnd(8)}${pad(per(usage.invocations), 12)}${pad(per(total(usage.sqs)), 10)}${pad(per(total(usage.dynamo)), 10)}${pad(per(usage.rcu), 8)}${pad(per(usage.wcu), 8)}   ${[...usage.dynamo].map(([command, n]) => `${command} ${n}`).join(', ') || '-'}`,
    );
    sum.invocations += usage.invocations;
    sum.rcu += usage.rcu;
    sum.wcu += usage.wcu;
    for (const [key, n] of usage.sqs) add(sum.sqs, key, n);
    for (const [key, n] of usage.dynamo) add(sum.dynamo, key, n);
    for (const [key, n] of usage.written) add(sum.written, key, n);
  }
  const per = (n: number) => fmt(n / run.events);
  console.log(
    `  ${'total'.padEnd(8)}${pad(per(sum.invocations), 12)}${pad(per(total(sum.sqs)), 10)}${pad(per(total(sum.dynamo)), 10)}${pad(per(sum.rcu), 8)}${pad(per(sum.wcu), 8)}`,
  );
  const sends = Object.entries(run.stages).flatMap(([name, usage]) =>
    [...usage.sqs]
      .filter(([request]) => request.startsWith('SendMessageBatch '))
      .map(([request, n]) => `${name} → ${request.slice('SendMessageBatch '.length)} ${per(n)}`),
  );
  console.log(`  SendMessageBatch per event, by queue: ${sends.join(', ')}`);
  console.log(
    '  (SQS req. are the functions’ own; each SQS-triggered invocation adds about one ReceiveMessage and one DeleteMessageBatch by its event source mapping)',
  );

  const sents = run.byType.get('sent') ?? 0;
  const contextWrites = sum.written.get('MSG') ?? 0;
  const claimWrites = sum.written.get('EVENTID') ?? 0;
  const otherWrites = total(sum.written) - contextWrites - claimWrites;
  const targets: [string, number, string, boolean][] = [
    ['DynamoDB item writes per sent (its context)', contextWrites / sents, '≤ 1', contextWrites <= sents],
    ['DynamoDB item writes per other event', otherWrites / (run.events - sents), '0', otherWrites === 0],
    ['DynamoDB read units per delivered event', sum.rcu / run.delivered, '≤ 1.5', sum.rcu / run.delivered <= 1.5],
  ];
  if (run.clientIdEvents) {
    targets.splice(2, 0, [
      'extra item writes per client-id event (its claim)',
      claimWrites / run.clientIdEvents,
      '≤ 1',
      claimWrites <= run.clientIdEvents,
    ]);
  }
  for (const [name, value, target, ok] of targets) {
    console.log(`  ${name.padEnd(52)}${pad(fmt(value), 8)}   target ${target.padEnd(6)} ${verdict(ok)}`);
  }
}

export async function requestsPerEvent(): Promise<void> {
  process.env.AWS_REGION ??= 'eu-west-1';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const aws = {
    ...(await import('#shared/runtime/dynamo.ts')),
    ...(await import('#shared/runtime/sqs.ts')),
    ...(await import('#shared/runtime/secrets.ts')),
  };
  const mocks: Mocks = {
    table: new FakeTable(TABLE_NAME),
    dynamo: mockClient(aws.dynamo as DynamoDBDocumentClient),
    sqs: mockClient(aws.sqs as SQSClient),
    secrets: mockClient(aws.secrets),
    receiver: await startLoopback(),
  };
  // Each handler loaded with its own function's environment (they read it when loaded); the
  // variables two of them share take the last one's value.
  const load = async <T>(name: string) => {
    Object.assign(process.env, ENVIRONMENTS[name]);
    return ((await import(`../functions/${name}/handler.ts`)) as unknown as { handler: T }).handler;
  };
  const handlers: Handlers = {
    authorizer: await load<AuthorizerHandler>('authorizer'),
    ingest: await load<ApiHandler>('ingest'),
    fanout: await load<SqsHandler>('fanout'),
    deliver: await load<SqsHandler>('deliver'),
  };
  try {
    console.log(
      `\nAWS requests per event (in-process handlers, requests of ${EVENTS_PER_REQUEST} events, fanout batches of ${FANOUT_BATCH}, deliver batches of ${DELIVER_BATCH}; capacity units estimated from item sizes)`,
    );
    printRun('without client ids', await simulate(handlers, mocks, false));
    printRun('with a client id on every event', await simulate(handlers, mocks, true));
    await logPath({ ...mocks, fanout: handlers.fanout, deliver: handlers.deliver, logQueueUrl: QUEUES.logs });
  } finally {
    mocks.dynamo.restore();
    mocks.sqs.restore();
    mocks.secrets.restore();
    await mocks.receiver.close();
  }
}
