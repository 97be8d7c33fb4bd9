import { ChangeMessageVisibilityCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryLater, sqsBatchHandler } from '#shared/runtime/sqs-batch.ts';
import { itemKeys } from '#shared/store/table.ts';
import { lambdaContext, loopRecord, mailEvent, queuedDelivery, sqsEvent, sqsRecord } from '../support/factories.ts';
import { FakeTable } from '../support/fake-table.ts';
import { functionEnvironment } from '../support/function-environment.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

/**
 * What an operator pays for in CloudWatch Logs (issue 9): at INFO an invocation writes one summary
 * line with its counts, not a line per event; the per-event lines are there at DEBUG.
 */
// Deliver's environment, its log level left to each test (AWS_LAMBDA_LOG_LEVEL).
const TABLE_NAME = functionEnvironment('deliver', {
  POWERTOOLS_LOG_LEVEL: undefined,
  RETRY_SCHEDULE: '10,60',
}).TABLE_NAME!;
type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type Line = { level: string; message: string } & Record<string, unknown>;

let deliverHandler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
let sqsMock: ReturnType<typeof mockClient>;
let receiver: Loopback;
const table = new FakeTable(TABLE_NAME);
let lines: Line[];

beforeAll(async () => {
  receiver = await startLoopback();
  // Powertools writes each line with one write, DEBUG and INFO to stdout, WARN and ERROR to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.startsWith('{"level"')) return (void lines.push(JSON.parse(text) as Line), true);
      return write(chunk, ...(rest as []));
    });
  }
});

afterAll(async () => {
  delete process.env.AWS_LAMBDA_LOG_LEVEL;
  vi.restoreAllMocks();
  dynamoMock?.restore();
  sqsMock?.restore();
  await receiver.close();
});

beforeEach(() => {
  table.clear();
  // The busy receiver answers 503, the others 200.
  receiver.answer((request) => ({ status: request.path.startsWith('/busy') ? 503 : 200 }));
  lines = [];
});

/**
 * The deliver function as Lambda starts it with this `logLevel`: Lambda hands the level over as
 * AWS_LAMBDA_LOG_LEVEL, which the logger reads when it is created.
 */
async function startDeliver(level: 'INFO' | 'DEBUG'): Promise<void> {
  process.env.AWS_LAMBDA_LOG_LEVEL = level;
  dynamoMock?.restore();
  sqsMock?.restore();
  vi.resetModules();
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { sqs } = await import('#shared/runtime/sqs.ts');
  dynamoMock = mockClient(dynamo);
  sqsMock = mockClient(sqs);
  table.install(dynamoMock);
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  ({ handler: deliverHandler } = (await import('../../functions/deliver/handler.ts')) as unknown as {
    handler: Handler;
  });
}

function deliveries() {
  const loop = (path: string) => {
    const stored = loopRecord({ url: `${receiver.origin}${path}` });
    table.put({ ...itemKeys.loop(stored.accountId, stored.id), ...stored });
    return stored;
  };
  const ok = loop('/ok');
  const busy = loop('/busy');
  const gone = loopRecord();
  return sqsEvent([
    sqsRecord(queuedDelivery(ok, mailEvent())),
    sqsRecord(queuedDelivery(ok, mailEvent())),
    sqsRecord(queuedDelivery(busy, mailEvent())),
    sqsRecord(queuedDelivery(gone, mailEvent())),
  ]);
}

describe('log lines', () => {
  it('deliver writes one summary line a batch, with the counts of each outcome and status', async () => {
    await startDeliver('INFO');
    const answer = await deliverHandler(deliveries(), lambdaContext('deliver'));
    expect(answer.batchItemFailures).toHaveLength(1);

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'Deliveries done',
        deliveries: 4,
        delivered: 2,
        failed: 1,
        retried: 1,
        dropped: 1,
        statuses: { 200: 2, 503: 1 },
      }),
    ]);
  });

  it('deliver writes a line per delivery at DEBUG, for a look at one batch', async () => {
    await startDeliver('DEBUG');
    await deliverHandler(deliveries(), lambdaContext('deliver'));
    const messages = lines.map((line) => `${line.level} ${line.message}`);
    expect(messages.filter((message) => message === 'DEBUG Delivered')).toHaveLength(2);
    expect(messages).toContain('DEBUG Delivery attempt failed');
    expect(messages).toContain('DEBUG Record failed; it returns to the queue');
    expect(messages.filter((message) => message.startsWith('INFO'))).toEqual(['INFO Deliveries done']);
  });

  it('a batch failing for a reason nobody planned gives one WARN line, not one per record', async () => {
    const handler = sqsBatchHandler(async (record) => {
      if (record.body.includes('later')) throw new RetryLater('the receiver was busy');
      throw new Error('DynamoDB is unavailable');
    });
    const event = sqsEvent([{ body: 'a' }, { body: 'b' }, { body: 'c' }, { body: 'later' }]);
    const answer = await handler(event, lambdaContext('fanout'));
    expect(answer.batchItemFailures).toHaveLength(4);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'Records failed; they return to the queue',
        records: 3,
        errors: [{ error: 'DynamoDB is unavailable', records: 3 }],
      }),
    ]);
  });
});
