import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { call } from '../support/twin-api.ts';
import { physicalId } from '../support/twin-resources.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';
import { sleep, until } from '../support/wait.ts';

/**
 * SES as a source (docs/ses.md), end to end: the AWS documentation's example SES events put on the
 * emulator's default bus with the AWS CLI and the operator credentials the twin prints, through the
 * stack's rule and the ses-source function, to the account's loop.
 */

const ALL_TYPES = ['sent', 'delivery', 'open', 'click', 'bounce', 'abuse', 'failure', 'unsubscribe'];
const EXAMPLES = [
  'send',
  'delivery',
  'open',
  'click',
  'bounce',
  'complaint',
  'reject',
  'rendering-failure',
  'subscription',
];
const workDir = mkdtempSync(path.join(tmpdir(), 'fl-ses-'));
let unique = 0;

type SesExample = { 'detail-type': string; resources: string[]; detail: Record<string, any> };

/** An example of examples/ses/, made this test's own: its message id, configuration set and tags, and times of now. */
function example(name: string, message: string, tags: Record<string, string[]>): SesExample {
  const event = JSON.parse(readFileSync(`examples/ses/${name}.json`, 'utf8')) as SesExample;
  const now = Date.now();
  const refresh = (value: any, depth: number): void => {
    if (!value || typeof value !== 'object' || depth > 4) return;
    for (const key of Object.keys(value)) {
      if (key === 'timestamp' && typeof value[key] === 'string')
        value[key] = new Date(now - (key === 'timestamp' && depth === 1 ? 60_000 : 0)).toISOString();
      else refresh(value[key], depth + 1);
    }
  };
  refresh(event.detail, 0);
  event.detail.mail.messageId = message;
  event.detail.mail.tags = { 'ses:source-ip': ['192.0.2.0'], ...tags };
  return event;
}

/** `aws events put-events --endpoint-url <emulator> --entries file://…`, as an operator runs it. */
async function putEvents(events: SesExample[]): Promise<{ FailedEntryCount: number }> {
  const { endpoint, region, credentials } = inject('twin');
  const file = path.join(workDir, `entries-${++unique}.json`);
  const entries = events.map((event) => ({
    Source: 'aws.ses',
    DetailType: event['detail-type'],
    Resources: event.resources,
    Detail: JSON.stringify(event.detail),
  }));
  writeFileSync(file, JSON.stringify(entries));
  const { stdout } = await promisify(execFile)(
    'aws',
    ['events', 'put-events', '--endpoint-url', endpoint, '--entries', `file://${file}`, '--output', 'json'],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_DEFAULT_REGION: region,
        AWS_SESSION_TOKEN: '',
      },
      maxBuffer: 10 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as { FailedEntryCount: number };
}

/** What the SES dead-letter queue holds for a message id (left visible for the other tests). */
async function keptFor(message: string): Promise<Record<string, any>[]> {
  const { endpoint, region, credentials } = inject('twin');
  const sqs = new SQSClient({ endpoint, region, credentials });
  const found = new Map<string, Record<string, any>>();
  for (let round = 0; round < 5; round++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: physicalId('SesSourceDeadLetterQueue'),
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
    for (const kept of Messages) if (kept.Body?.includes(message)) found.set(kept.MessageId!, JSON.parse(kept.Body));
  }
  return [...found.values()];
}

describe('SES events put on the emulator default bus', () => {
  let receiver: Loopback;
  let account: Awaited<ReturnType<typeof createAccount>>;
  const configurationSet = `twin-ses-${Date.now()}`;
  const bodies = (message: string) =>
    receiver
      .posts()
      .map((post) => JSON.parse(post.body) as Record<string, any>)
      .filter((body) => body.message === message);

  beforeAll(async () => {
    receiver = await startLoopback();
    account = await createAccount('SES sender');
    await createVerifiedLoop(account.apiKey, receiver, { path: '/ses', format: 'json', events: ALL_TYPES });
    const mapped = await call('POST', '/v1/sources/ses', { key: account.apiKey, body: { configurationSet } });
    expect(mapped.status).toBe(201);
    expect(mapped.body).toEqual({ configurationSet, createdAt: expect.any(String) });
  });
  afterAll(() => receiver.close());

  it("delivers the AWS documentation's examples to the account of their configuration set, mapped and enriched", async () => {
    const message = `ses-docs-${Date.now()}`;
    const tags = { 'ses:configuration-set': [configurationSet], campaign: ['nov'] };
    const [send, ...later] = EXAMPLES.map((name) => example(name, message, tags));
    expect(await putEvents([send!])).toMatchObject({ FailedEntryCount: 0 });
    await until('the sent event delivered', () => bodies(message).length === 1, 20_000);
    expect(await putEvents(later)).toMatchObject({ FailedEntryCount: 0 });
    // One event per recipient: the bounce names two.
    await until('every example delivered', () => bodies(message).length === 10, 30_000);

    const byType = (type: string) => bodies(message).filter((body) => body.type === type);
    const enriched = { message, tags: ['campaign:nov'] };
    expect(byType('sent')).toEqual([expect.objectContaining({ ...enriched, recipient: 'recipient@example.com' })]);
    expect(byType('delivery')).toEqual([expect.objectContaining({ ...enriched, recipient: 'recipient@example.com' })]);
    expect(byType('open')).toEqual([
      expect.objectContaining({
        ...enriched,
        recipient: 'recipient@example.com',
        ip: '192.0.2.1',
        useragent: expect.stringContaining('iPhone'),
      }),
    ]);
    expect(byType('click')).toEqual([
      expect.objectContaining({
        message,
        original: 'http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html',
        tags: ['campaign:nov', 'samplekey0:samplevalue0', 'samplekey1:samplevalue1'],
      }),
    ]);
    expect(
      byType('bounce')
        .map((body) => [body.recipient, body.code, body.extended, body.description])
        .sort(),
    ).toEqual([
      ['recipient2@example.com', '554', '5.0.0', 'smtp; 554 5.0.0 Service unavailable'],
      ['recipient@example.com', '550', '5.1.1', 'smtp; 550 5.1.1 user unknown'],
    ]);
    expect(byType('abuse')).toEqual([expect.objectContaining({ ...enriched, description: 'abuse' })]);
    expect(
      byType('failure')
        .map((body) => body.description)
        .sort(),
    ).toEqual(["Attribute 'attributeName' is not present in the rendering data.", 'Bad content']);
    expect(byType('unsubscribe')).toEqual([
      expect.objectContaining({ message, recipient: 'recipient@example.com', description: 'ContactListName' }),
    ]);
    for (const body of bodies(message)) expect(body.id).toMatch(/^ses-[0-9a-f]{40}$/);
  });

  it('delivers an SES event put twice once', async () => {
    const message = `ses-twice-${Date.now()}`;
    const open = example('open', message, { 'ses:configuration-set': [configurationSet] });
    await putEvents([open]);
    await until('the open delivered', () => bodies(message).length === 1, 20_000);
    await putEvents([open]);
    // A later event of the same message, put after the copy, is delivered; the copy is not.
    const click = example('click', message, { 'ses:configuration-set': [configurationSet] });
    await putEvents([click]);
    await until('the click delivered', () => bodies(message).some((body) => body.type === 'click'), 20_000);
    await sleep(3000);
    expect(bodies(message).filter((body) => body.type === 'open')).toHaveLength(1);
  });

  it('takes the account from the message tag feedback-loops-account, without a mapping', async () => {
    const message = `ses-tagged-${Date.now()}`;
    const send = example('send', message, {
      'ses:configuration-set': ['not-mapped-anywhere'],
      'feedback-loops-account': [account.accountId],
    });
    await putEvents([send]);
    await until('the tagged sent event delivered', () => bodies(message).length === 1, 20_000);
    expect(bodies(message)[0]).toMatchObject({ type: 'sent', recipient: 'recipient@example.com' });
    expect(bodies(message)[0]!.tags).toBeUndefined(); // the account tag is not one of the message's
  });

  it('keeps an event of no known account for the operator and delivers nothing', async () => {
    const message = `ses-nobody-${Date.now()}`;
    await putEvents([
      example('open', message, {
        'ses:configuration-set': [`unmapped-${Date.now()}`],
        'feedback-loops-account': ['acc_NOSUCH'],
      }),
    ]);
    await until('the event kept', async () => (await keptFor(message)).length === 1, 20_000);
    expect((await keptFor(message))[0]).toMatchObject({
      reason: 'no-account',
      messageId: message,
      event: { source: 'aws.ses', 'detail-type': 'Email Opened', detail: { mail: { messageId: message } } },
    });
    expect(bodies(message)).toHaveLength(0);
  });

  it.each([
    ['no destination', (event: SesExample) => delete event.detail.mail.destination],
    [
      '51 recipients',
      (event: SesExample) =>
        (event.detail.mail.destination = Array.from({ length: 51 }, (_, i) => `r${i}@example.com`)),
    ],
    ['an unknown eventType', (event: SesExample) => (event.detail.eventType = 'Teleport')],
    [
      'headers over EventBridge’s 256 KiB',
      (event: SesExample) => (event.detail.mail.commonHeaders.subject = 'x'.repeat(270_000)),
    ],
  ])('counts an SES event with %s as unreadable, kept once, never retried', async (_what, spoil) => {
    const message = `ses-odd-${Date.now()}-${++unique}`;
    const event = example('send', message, { 'ses:configuration-set': [configurationSet] });
    spoil(event);
    await putEvents([event]);
    await until('the event kept', async () => (await keptFor(message)).length === 1, 20_000);
    const [kept] = await keptFor(message);
    expect(kept).toMatchObject({ reason: 'unreadable', why: expect.any(String) });
    await sleep(3000); // a retry would keep it again
    expect(await keptFor(message)).toHaveLength(1);
    expect(bodies(message)).toHaveLength(0);
  });
});

describe('SES configuration sets belong to one account', () => {
  it('refuses a set another account has (409), hides it from that account (404) and lists it for its own', async () => {
    const owner = await createAccount('Owner');
    const other = await createAccount('Other');
    const configurationSet = `owned-${Date.now()}`;
    const body = { configurationSet };
    expect((await call('POST', '/v1/sources/ses', { key: owner.apiKey, body })).status).toBe(201);
    expect((await call('POST', '/v1/sources/ses', { key: owner.apiKey, body })).status).toBe(200);
    const taken = await call('POST', '/v1/sources/ses', { key: other.apiKey, body });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('configuration_set_taken');
    expect((await call('GET', '/v1/sources/ses', { key: other.apiKey })).body).toEqual({ configurationSets: [] });
    expect((await call('DELETE', `/v1/sources/ses/${configurationSet}`, { key: other.apiKey })).status).toBe(404);
    const listed = await call('GET', '/v1/sources/ses', { key: owner.apiKey });
    expect(listed.body.configurationSets).toEqual([{ configurationSet, createdAt: expect.any(String) }]);
    expect((await call('DELETE', `/v1/sources/ses/${configurationSet}`, { key: owner.apiKey })).status).toBe(204);
    expect((await call('POST', '/v1/sources/ses', { key: other.apiKey, body })).status).toBe(201);
    const bad = await call('POST', '/v1/sources/ses', { key: other.apiKey, body: { configurationSet: 'no spaces' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('configurationSet');
  });
});
