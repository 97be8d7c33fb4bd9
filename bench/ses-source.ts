/**
 * What an SES event costs before it reaches the events queue: the real ses-source handler runs in this
 * process on 10,000 SES events (the AWS documentation's examples in a realistic mix, over 20
 * configuration sets), every AWS call answered by aws-sdk-client-mock and counted. One warm instance:
 * the account lookups are cached for a minute, so at steady load they round to nothing; the worst case
 * (every lookup missed, a cold instance per event) is printed beside it. EventBridge charges nothing for
 * the events AWS services put on the default bus, and invokes a Lambda target once per event.
 */
import { readFileSync } from 'node:fs';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { functionFolder } from '../test/support/function-environment.ts';
import { random } from './mix.ts';
import { PRICES } from './prices.ts';
import { benchStack } from './stack.ts';

const SES_EVENTS = 10_000;
const CONFIGURATION_SETS = 20;
/**
 * Billed duration: in this process SQS answers at once; on Lambda the SendMessageBatch round trip
 * (about 10–20 ms in region) is most of an invocation, so it is priced at this, or more if measured.
 */
const BILLED_MS_AT_LEAST = 20;
/** Of each 100 SES events: what a mailing's events look like (a bounce names two recipients here). */
const MIX: [string, number][] = [
  ['send', 30],
  ['delivery', 29],
  ['open', 25],
  ['click', 8],
  ['bounce', 5],
  ['complaint', 1],
  ['delivery-delay', 2],
];

type SesExample = EventBridgeEvent<string, { mail: { messageId: string; tags: Record<string, string[]> } }>;

export interface SesSourceCost {
  invocations: number;
  sqsRequests: number;
  dynamoReads: number;
  meanMs: number;
  dollarsPerMillion: number;
  dollarsPerMillionUncached: number;
}

export async function sesSourceCost(): Promise<SesSourceCost> {
  const stack = await benchStack();
  Object.assign(process.env, stack.environments['ses-source']);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const fnResource = Object.entries(stack.template.Resources).find(
    ([id, resource]) => resource.Type === 'AWS::Lambda::Function' && functionFolder(id) === 'ses-source',
  )?.[1];
  const memoryGb = ((fnResource?.Properties?.MemorySize as number | undefined) ?? 256) / 1024;
  const { sqs } = await import('#shared/runtime/sqs.ts');
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const sqsMock = mockClient(sqs);
  const dynamoMock = mockClient(dynamo);
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: entry.Id, MD5OfMessageBody: '' })),
    Failed: [],
  }));
  dynamoMock.on(GetCommand).resolves({ Item: { accountId: 'acc_BENCH' } });
  const { handler } = (await import('../functions/ses-source/handler.ts')) as unknown as {
    handler: (event: EventBridgeEvent<string, unknown>) => Promise<void>;
  };

  const examples = new Map(
    MIX.map(([name]) => [name, JSON.parse(readFileSync(`examples/ses/${name}.json`, 'utf8')) as SesExample]),
  );
  const next = random(21);
  const today = new Date().toISOString().slice(0, 10);
  const events = Array.from({ length: SES_EVENTS }, (_, i) => {
    let pick = next() * 100;
    const [name] = MIX.find(([, share]) => (pick -= share) < 0) ?? MIX[0]!;
    const text = JSON.stringify(examples.get(name)).replace(/20\d\d-\d\d-\d\dT\d\d/g, `${today}T00`);
    const event = JSON.parse(text) as SesExample;
    event.detail.mail.messageId = `bench-${i}`;
    event.detail.mail.tags = { 'ses:configuration-set': [`set-${i % CONFIGURATION_SETS}`], campaign: ['nov'] };
    return event;
  });

  const started = performance.now();
  for (const event of events) await handler(event);
  const meanMs = (performance.now() - started) / SES_EVENTS;
  const sqsRequests = sqsMock.commandCalls(SendMessageBatchCommand).length;
  const dynamoReads = dynamoMock.commandCalls(GetCommand).length;
  sqsMock.restore();
  dynamoMock.restore();

  const perMillion = 1e6 / SES_EVENTS;
  const lambda =
    SES_EVENTS *
    (PRICES.lambda.perRequest + PRICES.lambda.armGbSecond * memoryGb * (Math.max(meanMs, BILLED_MS_AT_LEAST) / 1000));
  const sqsCost = sqsRequests * PRICES.sqs.perRequest;
  // An eventually consistent GetItem of an item under 4 KB: 0.5 read units.
  const readCost = (reads: number) => reads * 0.5 * PRICES.dynamodb.perReadUnit;
  const dollarsPerMillion = (lambda + sqsCost + readCost(dynamoReads)) * perMillion;
  const dollarsPerMillionUncached = (lambda + sqsCost + readCost(SES_EVENTS)) * perMillion;
  console.log(
    [
      `SES source, ${SES_EVENTS} SES events over ${CONFIGURATION_SETS} configuration sets (one warm instance):`,
      `  Lambda invocations  ${(SES_EVENTS * perMillion).toLocaleString('en')} per million (EventBridge invokes once per event)`,
      `  SQS SendMessageBatch ${(sqsRequests * perMillion).toLocaleString('en')} per million SES events`,
      `  DynamoDB GetItem    ${(dynamoReads * perMillion).toLocaleString('en')} per million (cached a minute; worst case 1,000,000)`,
      `  handler time        ${meanMs.toFixed(3)} ms an event in this process (priced as ${Math.max(meanMs, BILLED_MS_AT_LEAST).toFixed(0)} ms at ${(memoryGb * 1024).toFixed(0)} MB)`,
      `  $ per million SES events before the events queue: ${dollarsPerMillion.toFixed(2)} (every lookup missed: ${dollarsPerMillionUncached.toFixed(2)})`,
    ].join('\n'),
  );
  return {
    invocations: SES_EVENTS * perMillion,
    sqsRequests: sqsRequests * perMillion,
    dynamoReads: dynamoReads * perMillion,
    meanMs,
    dollarsPerMillion,
    dollarsPerMillionUncached,
  };
}
