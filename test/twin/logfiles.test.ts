import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { physicalId } from '../support/twin-resources.ts';
import { createAccount, seedAccount } from '../support/twin-seed.ts';
import { sleep } from '../support/wait.ts';

/**
 * Log files as an account meets them: every accepted event, enriched, in the day's file of its
 * type, downloadable in three formats through a presigned URL, read here with real CSV and XML
 * parsers. The twin flushes the log every 10 s (`logFlushSeconds` of the global setup).
 */

const today = () => new Date().toISOString().slice(0, 10);

interface FileView {
  name: string;
  type: string;
  date: string;
  records: number;
  size: number;
  complete: boolean;
}

async function filesOf(apiKey: string, date: string): Promise<FileView[]> {
  const answer = await call('GET', `/v1/logfiles?date=${date}`, { key: apiKey });
  expect(answer.status).toBe(200);
  return answer.body.files;
}

/** Waits until the day's files hold at least these records per type. */
async function waitForFiles(apiKey: string, date: string, records: Record<string, number>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = await filesOf(apiKey, date);
    const count = (type: string) => files.find((file) => file.type === type)?.records ?? 0;
    if (Object.entries(records).every(([type, wanted]) => count(type) >= wanted)) return files;
    if (Date.now() > deadline) throw new Error(`log files not there in time: ${JSON.stringify(files)}`);
    await sleep(500);
  }
}

async function download(apiKey: string, name: string, format: string): Promise<string> {
  const answer = await call('GET', `/v1/logfiles/${name}?format=${format}&redirect=false`, { key: apiKey });
  expect(answer.status).toBe(200);
  expect(Date.parse(answer.body.expiresAt)).toBeGreaterThan(Date.now());
  const response = await fetch(answer.body.url);
  expect(response.status).toBe(200);
  return response.text();
}

const xmlRecords = (xml: string): any[] => {
  const parsed = new XMLParser({
    parseTagValue: false,
    ignoreAttributes: false,
    isArray: (name) => ['record', 'field', 'tag'].includes(name),
  }).parse(xml);
  return parsed.records?.record ?? [];
};

describe('the log files of a day', () => {
  let receiver: Loopback;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  const message = `log-${Date.now()}`;
  const awkward = 'Zoë "the <best>" & co; 😀, ok';
  let ids: string[];

  beforeAll(async () => {
    // The receiver takes opens and refuses clicks, so the loop-errors file fills too.
    receiver = await startLoopback({
      answer: answerPosts((request) => (new URLSearchParams(request.body).get('type') === 'click' ? 500 : 200)),
    });
    account = await seedAccount(receiver, { path: '/hook', events: ['open', 'click'] });
    const answer = await call('POST', '/v1/events', {
      key: account.apiKey,
      body: {
        events: [
          {
            type: 'sent',
            message,
            recipient: 'zoë@example.com',
            profile: 'p-1',
            fields: { name: awkward, score: 7, vip: true },
            tags: ['a;b', 'c<d>&'],
          },
          { type: 'open', message, ip: '203.0.113.7' },
          { type: 'click', message, original: 'https://example.com/?a=1&b=2' },
          // No loop takes bounces: they are logged all the same.
          { type: 'bounce', message, code: '550', description: awkward },
        ],
      },
    });
    expect(answer.status).toBe(202);
    ids = answer.body.ids;
  });
  afterAll(() => receiver.close());

  it('lists today with a file per type, counted, including the loop errors', async () => {
    const files = await waitForFiles(account.apiKey, today(), {
      sent: 1,
      opens: 1,
      clicks: 1,
      bounces: 1,
      'loop-errors': 1,
    });
    expect(files.map((file) => file.name).sort()).toEqual(
      ['bounces', 'clicks', 'loop-errors', 'opens', 'sent'].map((type) => `${type}.${today()}`),
    );
    for (const file of files) {
      expect(file).toMatchObject({ date: today(), complete: false });
      expect(file.size).toBeGreaterThan(0);
    }
    const dates = await call('GET', '/v1/logfiles', { key: account.apiKey });
    expect(dates.status).toBe(200);
    expect(dates.body.dates).toEqual([today()]);
  });

  it('gives the records enriched like the webhook body, in JSON Lines, CSV and XML', async () => {
    await waitForFiles(account.apiKey, today(), { opens: 1 });
    const name = `opens.${today()}`;
    const [json] = (await download(account.apiKey, name, 'json'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(json).toMatchObject({
      id: ids[1],
      type: 'open',
      message,
      ip: '203.0.113.7',
      recipient: 'zoë@example.com',
      profile: 'p-1',
      fields: { name: awkward, score: 7, vip: true },
      tags: ['a;b', 'c<d>&'],
    });
    expect(json.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    const rows: any[] = parseCsv(await download(account.apiKey, name, 'csv'), { columns: true, bom: true });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: ids[1], type: 'open', recipient: 'zoë@example.com', ip: '203.0.113.7' });
    expect(JSON.parse(rows[0].fields)).toEqual({ name: awkward, score: 7, vip: true });
    expect(rows[0].tags).toBe('a;b;c<d>&');

    const [record] = xmlRecords(await download(account.apiKey, name, 'xml'));
    expect(record).toMatchObject({ id: ids[1], type: 'open', recipient: 'zoë@example.com' });
    expect(record.tags.tag).toEqual(['a;b', 'c<d>&']);
    const fields = Object.fromEntries(record.fields.field.map((field: any) => [field['@_name'], field['#text']]));
    expect(fields).toEqual({ name: awkward, score: '7', vip: 'true' });
  });

  it('logs an event no loop takes, and every failed attempt with its status', async () => {
    await waitForFiles(account.apiKey, today(), { bounces: 1, 'loop-errors': 2 });
    const bounces = (await download(account.apiKey, `bounces.${today()}`, 'json'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(bounces).toEqual([
      expect.objectContaining({ id: ids[3], code: '550', description: awkward, recipient: 'zoë@example.com' }),
    ]);
    // The records of a file are in the order the log writer got them, not in attempt order: wait
    // for the first attempt's record, wherever it lands.
    const deadline = Date.now() + 60_000;
    let errors: any[];
    for (;;) {
      errors = parseCsv(await download(account.apiKey, `loop-errors.${today()}`, 'csv'), { columns: true, bom: true });
      if (errors.some((error) => error.attempt === '1') || Date.now() > deadline) break;
      await sleep(500);
    }
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const error of errors) {
      expect(error).toMatchObject({ eventId: ids[2], type: 'click', loopId: account.loop.id });
      expect(error.url).toBe(account.loop.url);
    }
    const first = errors.find((error) => error.attempt === '1');
    expect(first).toMatchObject({
      eventId: ids[2],
      type: 'click',
      loopId: account.loop.id,
      status: '500',
      attempt: '1',
    });
  });

  it("builds today's file once per version and format: downloading it again reuses that snapshot", async () => {
    // Its own file, deliveries, so that the other tests' files keep what they expect.
    const send = async (n: number) => {
      const answer = await call('POST', '/v1/events', {
        key: account.apiKey,
        body: { type: 'delivery', message: `${message}-d${n}` },
      });
      expect(answer.status).toBe(202);
      await waitForFiles(account.apiKey, today(), { deliveries: n });
    };
    await send(1);
    const name = `deliveries.${today()}`;
    const { endpoint, region, credentials } = inject('twin');
    const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
    const snapshots = async () => {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: physicalId('StorageLogsBucket'),
          Prefix: `snapshots/${account.accountId}/`,
        }),
      );
      return (page.Contents ?? []).map((object) => object.Key!).filter((key) => key.includes(`/${name}.`));
    };
    const round = async () => {
      const bodies: string[] = [];
      for (const format of ['json', 'csv', 'xml', 'json', 'csv', 'xml'])
        bodies.push(await download(account.apiKey, name, format));
      return bodies;
    };
    const first = await round();
    const built = await snapshots();
    expect(built.map((key) => key.split('.').at(-1)).sort()).toEqual(['csv', 'jsonl', 'xml']);
    const second = await round();
    expect(await snapshots()).toEqual(built);
    expect(second).toEqual(first);
    expect(first.slice(3)).toEqual(first.slice(0, 3));

    // A new record makes a new version: built once more, with it.
    await send(2);
    const after = await download(account.apiKey, name, 'json');
    expect(after.trim().split('\n')).toHaveLength(2);
    expect((await snapshots()).filter((key) => !built.includes(key))).toHaveLength(1);
  }, 60_000);

  it('redirects to the presigned URL by default', async () => {
    await waitForFiles(account.apiKey, today(), { sent: 1 });
    const { apiUrl } = inject('twin');
    const response = await fetch(`${apiUrl}/v1/logfiles/sent.${today()}?format=csv`, {
      headers: { authorization: `Bearer ${account.apiKey}` },
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    const file = await fetch(response.headers.get('location')!);
    expect(file.status).toBe(200);
    expect(parseCsv(await file.text(), { columns: true, bom: true })).toEqual([
      expect.objectContaining({ id: ids[0], type: 'sent', recipient: 'zoë@example.com' }),
    ]);
  });

  it('shows another account none of it', async () => {
    const other = await createAccount('Other');
    expect((await call('GET', '/v1/logfiles', { key: other.apiKey })).body).toEqual({ dates: [] });
    expect(await filesOf(other.apiKey, today())).toEqual([]);
    const answer = await call('GET', `/v1/logfiles/opens.${today()}?redirect=false`, { key: other.apiKey });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
  });

  it.each([
    ['/v1/logfiles?date=2026-13-01', 400],
    ['/v1/logfiles?date=yesterday', 400],
    ['/v1/logfiles?day=2026-11-01', 400],
    [`/v1/logfiles/opens.${today()}?format=pdf`, 400],
    [`/v1/logfiles/opens.${today()}?redirect=maybe`, 400],
    [`/v1/logfiles/opens.${today()}?format=json&extra=1`, 400],
    ['/v1/logfiles/opens.2026-02-30', 404],
    ['/v1/logfiles/nonsense', 404],
    [`/v1/logfiles/open.${today()}`, 404],
  ])('answers %s with %i in the error shape', async (path, status) => {
    const answer = await call('GET', path, { key: account.apiKey });
    expect(answer.status).toBe(status);
    expect(answer.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });
});

describe('a closed day', () => {
  it('is compacted once: each event id once, in every format, complete', async () => {
    const account = await createAccount('Compact');
    const { endpoint, region, credentials, controlUrl } = inject('twin');
    const date = '2026-01-15';
    const record = (id: string, extra = {}) => ({
      id,
      type: 'click',
      timestamp: '2026-01-15 10:00:00',
      time: 1768471200,
      message: 'm',
      ...extra,
    });
    // Two chunks as the log writer flushes them, the second repeating a record (a redelivered message).
    const chunks = [
      [record('evt-1'), record('evt-2', { tags: ['x'] })],
      [record('evt-2', { tags: ['x'] }), record('evt-3')],
    ];
    const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
    const bucket = physicalId('StorageLogsBucket');
    for (const [index, chunk] of chunks.entries()) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `logs/${account.accountId}/${date}/clicks/chunks/20260115T100${index}00000Z-${index}.jsonl`,
          Body: chunk.map((entry) => JSON.stringify(entry)).join('\n') + '\n',
        }),
      );
    }
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials }));
    await dynamo.send(
      new PutCommand({
        TableName: physicalId('StorageTable'),
        Item: {
          pk: `LOGS#${account.accountId}`,
          sk: `FILE#${date}#clicks`,
          gsi1pk: 'LOGS_OPEN',
          gsi1sk: `${date}#${account.accountId}#clicks`,
          accountId: account.accountId,
          date,
          prefix: 'clicks',
          records: 4,
          size: 400,
          complete: false,
          version: 2,
          expiresAt: Math.floor(Date.now() / 1000) + 86_400,
        },
      }),
    );
    expect(await filesOf(account.apiKey, date)).toEqual([expect.objectContaining({ records: 4, complete: false })]);

    const { schedules } = (await (await fetch(`${controlUrl}/schedules`)).json()) as { schedules: string[] };
    const compaction = schedules.find((rule) => rule.startsWith('LogCompactionSchedule'))!;
    expect((await fetch(`${controlUrl}/schedules/${compaction}`, { method: 'POST' })).status).toBe(200);

    const [file] = await filesOf(account.apiKey, date);
    expect(file).toMatchObject({ name: `clicks.${date}`, records: 3, complete: true });
    const json = (await download(account.apiKey, `clicks.${date}`, 'json'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(json.map((entry) => entry.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    const csv = parseCsv(await download(account.apiKey, `clicks.${date}`, 'csv'), { columns: true, bom: true });
    expect(csv.map((row: any) => row.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(xmlRecords(await download(account.apiKey, `clicks.${date}`, 'xml')).map((entry) => entry.id)).toEqual([
      'evt-1',
      'evt-2',
      'evt-3',
    ]);
    expect((await call('GET', '/v1/logfiles', { key: account.apiKey })).body.dates).toEqual([date]);
  });
});
