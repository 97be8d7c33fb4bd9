import http from 'node:http';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsCall, FaultProxy, FaultSpecError, parseFaultSpec } from '../../local/faults/faults.ts';

/**
 * The twin's fault proxy, with the real SDK v3 clients in front and a stand-in emulator behind: a
 * fault must read to the SDK as the same fault from AWS (the retryable ones retried), and the
 * calls it lets through must reach the emulator untouched.
 */

let upstream: http.Server;
let proxy: FaultProxy;
const seen: AwsCall[] = [];
const reached: string[] = [];

beforeAll(async () => {
  upstream = http.createServer((request, response) => {
    reached.push(`${request.method} ${request.url} ${request.headers['x-amz-target'] ?? ''}`);
    request.resume();
    request.on('end', () => {
      const json = request.headers['x-amz-target'] !== undefined;
      response.writeHead(200, { 'content-type': json ? 'application/x-amz-json-1.0' : 'application/octet-stream' });
      response.end(json ? '{}' : 'object body');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const caller = {
    spec: { credentials: { accessKeyId: 'AKIAFUNCTION' } },
    sawCall: (call: AwsCall) => seen.push(call),
  };
  proxy = new FaultProxy(
    `http://127.0.0.1:${(upstream.address() as { port: number }).port}`,
    new Map([['fn', caller]]),
  );
  await proxy.start();
});
afterAll(async () => {
  await proxy.stop();
  await new Promise((resolve) => upstream.close(resolve));
});

const credentials = { accessKeyId: 'AKIAFUNCTION', secretAccessKey: 'secret' };
const clients = () => ({
  sqs: new SQSClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials }),
  dynamo: new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials }),
  s3: new S3Client({ endpoint: proxy.endpoint, region: 'us-east-1', credentials, forcePathStyle: true }),
});
const sendBatch = new SendMessageBatchCommand({
  QueueUrl: 'http://127.0.0.1/123456789012/q',
  Entries: [{ Id: '0', MessageBody: 'x' }],
});
const getItem = new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } });

describe('the fault spec', () => {
  it('reads service:Action=rate pairs and refuses anything else with what to write', () => {
    expect(parseFaultSpec('sqs:SendMessageBatch=0.2, dynamodb:*=0.05')).toEqual([
      { service: 'sqs', action: 'SendMessageBatch', rate: 0.2 },
      { service: 'dynamodb', action: '*', rate: 0.05 },
    ]);
    for (const bad of ['sqs=0.2', 'sqs:Send=1.5', 'sqs:Send=', 'sqs:Send-It=0.1'])
      expect(() => parseFaultSpec(bad), bad).toThrow(FaultSpecError);
  });
});

describe('the proxy', () => {
  it('passes calls through untouched when no fault is set, and names each call by service, action and key', async () => {
    proxy.configure({ rules: [] });
    const { sqs, dynamo, s3 } = clients();
    await sqs.send(sendBatch);
    await dynamo.send(getItem);
    const object = await s3.send(new GetObjectCommand({ Bucket: 'logs', Key: 'logs/a.csv' }));
    expect(await object.Body!.transformToString()).toBe('object body');
    expect(seen.slice(-3)).toEqual([
      { service: 'sqs', action: 'SendMessageBatch', accessKeyId: 'AKIAFUNCTION' },
      { service: 'dynamodb', action: 'GetItem', accessKeyId: 'AKIAFUNCTION' },
      { service: 's3', action: 'GetObject', accessKeyId: 'AKIAFUNCTION' },
    ]);
  });

  it.each([
    ['sqs', 'throttle', 400, /Throttling|RequestThrottled/],
    ['sqs', 'error', 500, /InternalError/],
    ['dynamodb', 'throttle', 400, /ProvisionedThroughputExceededException/],
    ['dynamodb', 'error', 500, /InternalServerError/],
    ['s3', 'throttle', 503, /SlowDown/],
    ['s3', 'error', 500, /InternalError/],
  ] as const)(
    'fails %s calls with a %s the SDK retries (%i), as AWS',
    async (service, kind, status, name) => {
      proxy.configure({ rules: parseFaultSpec(`${service}:*=1`), seed: 7, kind });
      const { sqs, dynamo, s3 } = clients();
      const before = reached.length;
      const client = service === 'sqs' ? sqs : service === 'dynamodb' ? dynamo : s3;
      const call =
        service === 'sqs'
          ? sqs.send(sendBatch)
          : service === 'dynamodb'
            ? dynamo.send(getItem)
            : s3.send(new GetObjectCommand({ Bucket: 'logs', Key: 'a' }));
      const error = (await call.then(
        () => undefined,
        (caught: unknown) => caught,
      )) as { name: string; $metadata: { httpStatusCode: number; attempts: number } };
      expect(error.name).toMatch(name);
      expect(error.$metadata.httpStatusCode).toBe(status);
      // The SDK makes all its attempts at a retryable error, one at any other.
      expect(error.$metadata.attempts).toBe(await client.config.maxAttempts());
      expect(error.$metadata.attempts).toBeGreaterThan(1);
      expect(reached.length).toBe(before);
    },
    30_000,
  );

  it('fails only the named action, at its rate, in the same order for the same seed', async () => {
    const { sqs } = clients();
    const outcomes = async () => {
      proxy.configure({ rules: parseFaultSpec('dynamodb:GetItem=0.5'), seed: 42, kind: 'error' });
      const results: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        const client = new DynamoDBClient({
          endpoint: proxy.endpoint,
          region: 'us-east-1',
          credentials,
          maxAttempts: 1,
        });
        results.push(
          await client.send(getItem).then(
            () => true,
            () => false,
          ),
        );
      }
      return results;
    };
    const first = await outcomes();
    expect(first.filter((ok) => !ok).length).toBeGreaterThan(5);
    expect(first.filter((ok) => ok).length).toBeGreaterThan(5);
    expect(await outcomes()).toEqual(first);
    // Other services pass.
    await expect(sqs.send(sendBatch)).resolves.toBeDefined();
  }, 30_000);

  it('holds a call it times out until the caller gives up', async () => {
    proxy.configure({ rules: parseFaultSpec('sqs:SendMessageBatch=1'), seed: 1, kind: 'timeout' });
    const sqs = new SQSClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const error = await sqs.send(sendBatch, { abortSignal: AbortSignal.timeout(300) }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toMatch(/Abort/);
  });
});
