import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { itemBytes, readRecording } from '../../bench/recording.ts';

// The cost meter's reading of moto's request recording (bench/recording.ts): what each request is
// billed as. A wrong reading here would misprice every figure of `npm run bench`.

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function recording(entries: object[], joiner = '\n'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'recording-test-'));
  dirs.push(dir);
  const file = path.join(dir, 'moto_recording');
  writeFileSync(
    file,
    entries.map((entry) => JSON.stringify(entry).replace(/^\{"headers":/, '{"headers": ')).join(joiner),
  );
  return file;
}

const signed = (service: string, target?: string) => ({
  Authorization: `AWS4-HMAC-SHA256 Credential=AKIDFANOUT/20261129/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
  ...(target ? { 'X-Amz-Target': target } : {}),
});
const jsonRequest = (service: string, target: string, body: object) => ({
  headers: signed(service, target),
  method: 'POST',
  url: 'http://127.0.0.1:5000/',
  body: Buffer.from(JSON.stringify(body)).toString('base64'),
  body_encoded: true,
});

describe('the cost meter reading a request recording', () => {
  it('bills an SQS request per started 64 KB of payload and names its queue and caller', () => {
    const queue = 'https://sqs.us-east-1.amazonaws.com/123456789012/deliveries';
    const small = jsonRequest('sqs', 'AmazonSQS.SendMessageBatch', {
      QueueUrl: queue,
      Entries: [{ Id: '1', MessageBody: 'x' }],
    });
    const large = jsonRequest('sqs', 'AmazonSQS.SendMessageBatch', {
      QueueUrl: queue,
      Entries: [{ Id: '1', MessageBody: 'x'.repeat(100 * 1024) }],
    });
    const [first, second] = readRecording(recording([small, large]));
    expect(first).toMatchObject({
      service: 'sqs',
      action: 'SendMessageBatch',
      accessKeyId: 'AKIDFANOUT',
      target: queue,
      unit: 'chunk',
      units: 1,
    });
    expect(second).toMatchObject({ unit: 'chunk', units: 2 });
  });

  it('reads entries that moto wrote run together, and leaves out its own API', () => {
    const get = jsonRequest('dynamodb', 'DynamoDB_20120810.GetItem', { TableName: 't', Key: {}, ConsistentRead: true });
    const own = {
      headers: {},
      method: 'GET',
      url: 'http://127.0.0.1:5000/moto-api/data.json',
      body: '',
      body_encoded: false,
    };
    const requests = readRecording(recording([get, get, own], ''));
    expect(requests.map((request) => `${request.action} ${request.units} ${request.unit}`)).toEqual([
      'GetItem 1 RRU',
      'GetItem 1 RRU',
    ]);
  });

  it('bills DynamoDB writes per started KB of each item and reads per key, half for eventually consistent', () => {
    const item = (bytes: number) => ({ pk: { S: 'MSG#a#b' }, sk: { S: 'CONTEXT' }, context: { S: 'x'.repeat(bytes) } });
    const write = jsonRequest('dynamodb', 'DynamoDB_20120810.BatchWriteItem', {
      RequestItems: { t: [{ PutRequest: { Item: item(500) } }, { PutRequest: { Item: item(1100) } }] },
    });
    const read = jsonRequest('dynamodb', 'DynamoDB_20120810.BatchGetItem', {
      RequestItems: { t: { Keys: [{}, {}, {}] } },
    });
    const [written, readUnits] = readRecording(recording([write, read]));
    expect(written).toMatchObject({ unit: 'WRU', units: 3 });
    expect(readUnits).toMatchObject({ unit: 'RRU', units: 1.5 });
  });

  it('counts an item as its attribute names and values', () => {
    expect(itemBytes({ ab: { S: 'xyz' }, n: { N: '12345' }, flag: { BOOL: true } })).toBe(2 + 3 + 1 + 4 + 4 + 1);
  });

  it('sorts S3 requests into the PUT and GET classes, DELETE free', () => {
    const s3 = (method: string, url: string) => ({ headers: signed('s3'), method, url, body: '', body_encoded: false });
    const requests = readRecording(
      recording([
        s3('PUT', 'http://127.0.0.1:5000/logs/acc/opens/2026-11-29/chunk.jsonl'),
        s3('GET', 'http://127.0.0.1:5000/logs/acc/opens/2026-11-29/chunk.jsonl'),
        s3('GET', 'http://127.0.0.1:5000/logs?list-type=2&prefix=acc'),
        s3('DELETE', 'http://127.0.0.1:5000/logs/acc/old.jsonl'),
      ]),
    );
    expect(requests.map((request) => `${request.action} ${request.unit}`)).toEqual([
      'PutObject PUT-class',
      'GetObject GET-class',
      'ListObjectsV2 PUT-class',
      'DeleteObject free',
    ]);
  });
});
