import http from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { createAccount, createVerifiedLoop, seedAccount } from '../support/twin-seed.ts';

/**
 * `POST /v1/loops/{loopId}/test` as an account uses it: one signed `test` event, sent while it
 * waits, and an answer saying what the receiver did.
 */

const EVENT_ID = /^evt_[0-9A-HJKMNP-TV-Z]{26}$/;
const EXAMPLE_FIELDS = {
  recipient: expect.stringMatching(/^[^@\s]+@[^@\s]+\.[a-z]+$/),
  profile: expect.any(String),
  tags: expect.arrayContaining([expect.any(String)]),
  ip: expect.stringMatching(/^[\d.]+$|:/),
  useragent: expect.any(String),
  referer: expect.stringMatching(/^https?:\/\//),
  original: expect.stringMatching(/^https?:\/\//),
  code: expect.any(String),
  extended: expect.any(String),
  description: expect.any(String),
};

const headersOf = (request: { headers: http.IncomingHttpHeaders }) => ({
  'webhook-id': String(request.headers['webhook-id']),
  'webhook-timestamp': String(request.headers['webhook-timestamp']),
  'webhook-signature': String(request.headers['webhook-signature']),
});

const test = (apiKey: string, loopId: string) => call('POST', `/v1/loops/${loopId}/test`, { key: apiKey });

describe('testing a loop', () => {
  let receiver: Loopback;
  let status = 200;

  beforeAll(async () => {
    receiver = await startLoopback({ answer: answerPosts(() => status) });
  });
  afterAll(() => receiver.close());

  it('POSTs one signed test event with an example of every field, in json format, and says it was delivered', async () => {
    status = 200;
    const account = await seedAccount(receiver, { path: '/json/hook', format: 'json', events: ['bounce'] });
    const before = receiver.posts().length;
    const startedAt = Date.now();
    const answer = await test(account.apiKey, account.loop.id);

    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ delivered: true, status: 200, durationMs: expect.any(Number) });
    expect(Number.isInteger(answer.body.durationMs)).toBe(true);
    expect(answer.body.durationMs).toBeGreaterThanOrEqual(0);
    expect(answer.body.durationMs).toBeLessThan(Date.now() - startedAt + 1);

    // Synchronous: the receiver has it by the time the answer comes.
    const posts = receiver.posts().slice(before);
    expect(posts).toHaveLength(1);
    const [post] = posts;
    expect(post!.path).toBe('/json/hook');
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.headers['user-agent']).toMatch(/^FeedbackLoops\//);
    expect(post!.headers['webhook-id']).toMatch(EVENT_ID);
    expect(String(post!.headers['webhook-signature']).split(' ')).toHaveLength(1);

    const payload = new Webhook(account.loop.secret).verify(post!.body, headersOf(post!)) as Record<string, any>;
    expect(payload).toMatchObject({
      id: post!.headers['webhook-id'],
      type: 'test',
      message: 'test',
      ...EXAMPLE_FIELDS,
    });
    // fields with a string, a number and a boolean, their types kept in JSON.
    const values = Object.values(payload.fields as Record<string, unknown>);
    expect(values.map((value) => typeof value).sort()).toEqual(['boolean', 'number', 'string']);
    // The current time, in both forms.
    expect(Math.abs(payload.time - Date.now() / 1000)).toBeLessThan(60);
    expect(payload.timestamp).toBe(new Date(payload.time * 1000).toISOString().slice(0, 19).replace('T', ' '));
    expect(Object.keys(payload)).toEqual([
      'id',
      'type',
      'timestamp',
      'time',
      'message',
      'recipient',
      'profile',
      'fields',
      'tags',
      'ip',
      'useragent',
      'referer',
      'original',
      'code',
      'extended',
      'description',
    ]);
  });

  it('signs a form-encoded test with the loop’s secret, a new event id each time', async () => {
    status = 200;
    const account = await seedAccount(receiver, { path: '/form/hook.php' });
    const first = await test(account.apiKey, account.loop.id);
    const second = await test(account.apiKey, account.loop.id);
    expect(first.body.delivered).toBe(true);
    expect(second.body.delivered).toBe(true);
    const posts = receiver.posts().filter((post) => post.path === '/form/hook.php');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.headers['webhook-id']).not.toBe(posts[1]!.headers['webhook-id']);
    for (const post of posts) {
      expect(post.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const id = String(post.headers['webhook-id']);
      expect(id).toMatch(EVENT_ID);
      const timestamp = new Date(Number(post.headers['webhook-timestamp']) * 1000);
      expect(post.headers['webhook-signature']).toBe(new Webhook(account.loop.secret).sign(id, timestamp, post.body));
      const form = new URLSearchParams(post.body);
      expect(form.get('id')).toBe(id);
      expect(form.get('type')).toBe('test');
      expect(form.get('message')).toBe('test');
      for (const name of Object.keys(EXAMPLE_FIELDS).filter((name) => name !== 'tags'))
        expect(form.get(name), name).toEqual(expect.any(String));
      expect(form.getAll('tags[]').length).toBeGreaterThan(0);
      const fields = [...form.keys()].filter((name) => /^fields\[[^\]]+\]$/.test(name));
      expect(fields.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('signs with both secrets during a rotation', async () => {
    status = 200;
    const account = await seedAccount(receiver, { path: '/rotated/hook', format: 'json' });
    const rotated = await call('POST', `/v1/loops/${account.loop.id}/secret/rotate`, { key: account.apiKey });
    expect(rotated.status).toBe(200);
    expect((await test(account.apiKey, account.loop.id)).body.delivered).toBe(true);
    const [post] = receiver.posts().filter((request) => request.path === '/rotated/hook');
    expect(String(post!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [account.loop.secret, rotated.body.secret])
      expect(new Webhook(secret).verify(post!.body, headersOf(post!))).toMatchObject({ type: 'test' });
  });

  it('says a receiver answering 500 did not take it, with its status', async () => {
    const account = await seedAccount(receiver, { path: '/failing/hook' });
    status = 500;
    const answer = await test(account.apiKey, account.loop.id);
    status = 200;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ delivered: false, status: 500, error: 'HTTP 500', durationMs: expect.any(Number) });
    expect(receiver.posts().filter((post) => post.path === '/failing/hook')).toHaveLength(1);
    // A test is not a delivery: it is not retried, and leaves no failure behind.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(receiver.posts().filter((post) => post.path === '/failing/hook')).toHaveLength(1);
    const failures = await call('GET', `/v1/loops/${account.loop.id}/failures`, { key: account.apiKey });
    expect(failures.body).toEqual({ failures: [] });
  });

  it('does not disable the loop when the receiver answers 410 to a test (a manual check)', async () => {
    const account = await seedAccount(receiver, { path: '/gone/hook' });
    status = 410;
    const answer = await test(account.apiKey, account.loop.id);
    status = 200;
    expect(answer.body).toEqual({ delivered: false, status: 410, error: 'HTTP 410', durationMs: expect.any(Number) });
    const loop = await call('GET', `/v1/loops/${account.loop.id}`, { key: account.apiKey });
    expect(loop.body.status).toBe('verified');
    expect(loop.body.disabledReason).toBeUndefined();
  });

  it('says a receiver that is down could not be reached: an error, no status', async () => {
    const down = await startLoopback();
    const account = await seedAccount(down, { path: '/down/hook' });
    await down.close();
    const answer = await test(account.apiKey, account.loop.id);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ delivered: false, error: expect.any(String), durationMs: expect.any(Number) });
    expect(answer.body.error).toMatch(/^connection: .*ECONNREFUSED/);
  });

  it('gives up after the deployment’s test timeout on a receiver that does not answer', async () => {
    // The twin runs with deliveryTimeoutSeconds=2, so the test waits 2 s (TEST_TIMEOUT_SECONDS).
    const hanging = await startLoopback();
    const account = await seedAccount(hanging, { path: '/slow/hook' });
    const server = http.createServer((request) => request.resume()); // reads, never answers
    await hanging.close();
    const port = Number(new URL(hanging.origin).port);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    try {
      const startedAt = Date.now();
      const answer = await test(account.apiKey, account.loop.id);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        delivered: false,
        error: expect.stringMatching(/^timeout: /),
        durationMs: expect.any(Number),
      });
      expect(answer.body.durationMs).toBeGreaterThanOrEqual(1900);
      expect(answer.body.durationMs).toBeLessThan(5000);
      expect(Date.now() - startedAt).toBeLessThan(10_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses to test an unverified loop (409 loop_not_verified) and sends nothing', async () => {
    const { apiKey } = await createAccount('Unverified Tests');
    const created = await call('POST', '/v1/loops', {
      key: apiKey,
      body: { url: `${receiver.origin}/unverified/hook`, events: ['open'] },
    });
    expect(created.status).toBe(201);
    const answer = await test(apiKey, created.body.id);
    expect(answer.status).toBe(409);
    expect(answer.body.error).toEqual({ code: 'loop_not_verified', message: expect.any(String) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received.filter((request) => request.path.startsWith('/unverified/'))).toEqual([]);
  });

  it('tests a loop its account disabled (enabled: false), which receives no events meanwhile', async () => {
    status = 200;
    const { apiKey } = await createAccount('Disabled Tests');
    const loop = await createVerifiedLoop(apiKey, receiver, { path: '/paused/hook', events: ['open'] });
    const paused = await call('PATCH', `/v1/loops/${loop.id}`, { key: apiKey, body: { enabled: false } });
    expect(paused.body).toMatchObject({ enabled: false, status: 'verified' });
    const answer = await test(apiKey, loop.id);
    expect(answer.body).toMatchObject({ delivered: true, status: 200 });
    const message = `paused-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: apiKey, body: { type: 'open', message } })).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const posts = receiver.posts().filter((post) => post.path === '/paused/hook');
    expect(posts.map((post) => new URLSearchParams(post.body).get('type'))).toEqual(['test']);
    // Still as the account left it.
    expect((await call('GET', `/v1/loops/${loop.id}`, { key: apiKey })).body).toEqual(paused.body);
  });

  it('answers 404 for a loop that does not exist, and 401 without a key', async () => {
    const { apiKey } = await createAccount('No Loop');
    const none = await test(apiKey, 'loop_01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('not_found');
    expect((await test(apiKey, 'not-a-loop-id')).status).toBe(404);
    expect((await call('POST', '/v1/loops/loop_01ARZ3NDEKTSV4RRFFQ69G5FAV/test')).status).toBe(401);
  });
});

describe('the OpenAPI document', () => {
  it('describes the test, failures and replay routes with their schemas', async () => {
    const answer = await call('GET', '/v1/openapi.json');
    expect(answer.status).toBe(200);
    const { paths } = answer.body;
    const content = (operation: any, status: string) => operation.responses[status].content['application/json'].schema;

    const testResult = content(paths['/v1/loops/{loopId}/test'].post, '200');
    expect(testResult.required).toEqual(expect.arrayContaining(['delivered', 'durationMs']));
    expect(Object.keys(testResult.properties).sort()).toEqual(['delivered', 'durationMs', 'error', 'status']);

    const list = paths['/v1/loops/{loopId}/failures'].get;
    expect(list.parameters.map((parameter: any) => parameter.name)).toEqual(['loopId', 'limit', 'cursor']);
    const failure = content(list, '200').properties.failures.items;
    expect(failure.required).toEqual(expect.arrayContaining(['eventId', 'type', 'failedAt', 'attempts', 'lastError']));
    expect(failure.properties.lastStatus).toBeDefined();

    const replay = paths['/v1/loops/{loopId}/failures/replay'].post;
    expect(replay.requestBody.required).toBe(false);
    const request = replay.requestBody.content['application/json'].schema;
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.eventIds).toMatchObject({ type: 'array', minItems: 1, maxItems: 1000 });
    expect(request.properties.eventIds.items.pattern).toBeDefined();
    expect(content(replay, '202').properties.replayed.type).toBe('integer');
  });
});
