import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiEvent } from '#shared/http/api-handler.ts';
import { itemKeys } from '#shared/store/table.ts';
import { ACCOUNT_ID, NOW, apiEvent, callers, lambdaContext } from '../support/factories.ts';
import { FakeTable } from '../support/fake-table.ts';
import { functionEnvironment } from '../support/function-environment.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

/**
 * The loop routes through the real API handler, against the in-memory table: what the security pass
 * asked of them (normalised URLs, deletes that a drifted count cannot block, limits on verify and
 * test, cursors that are text, the OpenAPI server).
 */
const TABLE_NAME = 'feedback-loops-table';
const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

type Handler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
let server: Loopback;
let now = NOW;
const table = new FakeTable(TABLE_NAME);
const context = lambdaContext('api');

beforeAll(async () => {
  // Synthesized as for the twin, so receivers on loopback are open.
  functionEnvironment('api', { TABLE_NAME, MAX_LOOPS_PER_ACCOUNT: '20', TEST_TIMEOUT_SECONDS: '5', API_URL });
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { clock } = await import('#shared/runtime/clock.ts');
  vi.spyOn(clock, 'now').mockImplementation(() => new Date(now));
  dynamoMock = mockClient(dynamo);
  server = await startLoopback();
  ({ handler } = (await import('../../functions/api/handler.ts')) as unknown as { handler: Handler });
});

afterAll(async () => {
  dynamoMock.restore();
  vi.restoreAllMocks();
  await server.close();
});

beforeEach(() => {
  now = NOW;
  dynamoMock.reset();
  table.clear();
  table.install(dynamoMock);
  table.put({ ...itemKeys.account(ACCOUNT_ID), id: ACCOUNT_ID, name: 'Acme', loopCount: 0 });
  server.answer({ status: 404 });
});

async function call(
  routeKey: string,
  path: string,
  options: { body?: unknown; loopId?: string; query?: Record<string, string>; accountId?: string } = {},
) {
  const [method] = routeKey.split(' ') as [string];
  const response = await handler(
    apiEvent({
      routeKey,
      method,
      path,
      caller: callers.account(options.accountId ?? ACCOUNT_ID),
      ...(options.body !== undefined
        ? { body: JSON.stringify(options.body), headers: { 'content-type': 'application/json' } }
        : {}),
      ...(options.loopId ? { pathParameters: { loopId: options.loopId } } : {}),
      ...(options.query ? { queryStringParameters: options.query } : {}),
    }),
    context,
  );
  return {
    status: response.statusCode!,
    headers: response.headers ?? {},
    json: response.body ? JSON.parse(response.body) : undefined,
  };
}

async function createLoop(url = `${server.origin}/hooks/script.php`) {
  const created = await call('POST /v1/loops', '/v1/loops', { body: { url, events: ['open'] } });
  expect(created.status).toBe(201);
  return created.json as { id: string; url: string; verification: { locations: string[] } };
}

const loopRoute = (verb: 'GET' | 'PATCH' | 'DELETE', loopId: string, body?: unknown) =>
  call(`${verb} /v1/loops/{loopId}`, `/v1/loops/${loopId}`, { loopId, ...(body ? { body } : {}) });
const verify = (loopId: string) => call('POST /v1/loops/{loopId}/verify', `/v1/loops/${loopId}/verify`, { loopId });
const test = (loopId: string) => call('POST /v1/loops/{loopId}/test', `/v1/loops/${loopId}/test`, { loopId });
const account = () => table.get(itemKeys.account(ACCOUNT_ID))!;

describe('loops: URLs are stored normalised', () => {
  it('stores and shows the URL as the URL parser reads it, on create and on change', async () => {
    const port = new URL(server.origin).port;
    const loop = await createLoop(`HTTP://127.0.0.1:${port}/a/./b/../hooks/script.php`);
    expect(loop.url).toBe(`http://127.0.0.1:${port}/a/hooks/script.php`);
    expect(loop.verification.locations[0]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/a/hooks/fl-`));
    expect(table.get(itemKeys.loop(ACCOUNT_ID, loop.id))!.url).toBe(loop.url);

    const changed = await loopRoute('PATCH', loop.id, { url: `http://127.0.0.1:${port}/other/x y.php` });
    expect(changed.status).toBe(200);
    expect(changed.json.url).toBe(`http://127.0.0.1:${port}/other/x%20y.php`);
    expect(table.get(itemKeys.loop(ACCOUNT_ID, loop.id))!.url).toBe(changed.json.url);
  });

  it('does not re-verify a loop given its URL in another spelling', async () => {
    const loop = await createLoop();
    table.put({ ...table.get(itemKeys.loop(ACCOUNT_ID, loop.id))!, status: 'verified' });
    const changed = await loopRoute('PATCH', loop.id, { url: loop.url.replace('http://', 'HTTP://') });
    expect(changed.status).toBe(200);
    expect(changed.json.status).toBe('verified');
  });
});

describe('loops: delete whatever the account count says', () => {
  it('counts a deleted loop off its account', async () => {
    const loop = await createLoop();
    expect(account().loopCount).toBe(1);
    expect((await loopRoute('DELETE', loop.id)).status).toBe(204);
    expect(account().loopCount).toBe(0);
  });

  it.each([
    ['0', 0],
    ['missing', undefined],
  ])('deletes a loop when the count has drifted to %s, and never counts below zero', async (_name, count) => {
    const loop = await createLoop();
    const { loopCount: _loopCount, ...rest } = account();
    table.put(count === undefined ? rest : { ...rest, loopCount: count });

    expect((await loopRoute('DELETE', loop.id)).status).toBe(204);
    expect((await loopRoute('GET', loop.id)).status).toBe(404);
    expect(account().loopCount).toBe(count);
    // Deleted once: the second time there is nothing to delete.
    expect((await loopRoute('DELETE', loop.id)).json.error.code).toBe('not_found');
  });
});

describe('loops: verify and test are rate-limited (docs/api.md §2: 429 with Retry-After)', () => {
  it('answers the 11th check of a loop within a minute with 429, and lets it check again once the minute is over', async () => {
    const loop = await createLoop();
    for (let index = 0; index < 10; index++) {
      now = new Date(NOW.getTime() + index * 1000);
      expect((await verify(loop.id)).json.error.code).toBe('verification_failed');
    }
    const fetches = server.received.length;

    now = new Date(NOW.getTime() + 30_000);
    const refused = await verify(loop.id);
    expect(refused.status).toBe(429);
    expect(refused.json).toEqual({ error: { code: 'too_many_requests', message: expect.stringContaining('loop') } });
    expect(refused.headers['retry-after']).toBe('30');
    expect(server.received.length).toBe(fetches);

    now = new Date(NOW.getTime() + 60_000);
    expect((await verify(loop.id)).status).toBe(422);
  });

  it('counts tests and verifications together, per loop', async () => {
    const loop = await createLoop();
    for (let index = 0; index < 5; index++) expect((await verify(loop.id)).status).toBe(422);
    table.put({ ...table.get(itemKeys.loop(ACCOUNT_ID, loop.id))!, status: 'verified' });
    server.answer({ status: 204 });
    for (let index = 0; index < 5; index++) expect((await test(loop.id)).json.delivered).toBe(true);
    const refused = await test(loop.id);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
  });

  it("limits an account to 60 checks a minute across its loops; another account's loops are not affected", async () => {
    const loops = await Promise.all(Array.from({ length: 7 }, () => createLoop()));
    let passed = 0;
    for (const loop of loops) {
      for (let index = 0; index < 9 && passed < 60; index++, passed++) expect((await verify(loop.id)).status).toBe(422);
    }
    const refused = await verify(loops[6]!.id);
    expect(refused.status).toBe(429);
    expect(refused.json.error.message).toContain('account');
    expect(table.get(itemKeys.rateCounter(ACCOUNT_ID, 'ACCOUNT'))).toMatchObject({ hits: 60 });

    const other = 'acc_01JDTEST0000000000000000BB';
    table.put({ ...itemKeys.account(other), id: other, name: 'Other', loopCount: 0 });
    const created = await call('POST /v1/loops', '/v1/loops', {
      accountId: other,
      body: { url: `${server.origin}/hooks/script.php`, events: ['open'] },
    });
    const loopId = created.json.id as string;
    const answer = await call('POST /v1/loops/{loopId}/verify', `/v1/loops/${loopId}/verify`, {
      loopId,
      accountId: other,
    });
    expect(answer.status).toBe(422);
  });

  it('does not count a request for a loop that is not the account’s', async () => {
    const missing = 'loop_01JDTEST0000000000000000ZZ';
    for (let index = 0; index < 12; index++) expect((await verify(missing)).status).toBe(404);
    expect(table.get(itemKeys.rateCounter(ACCOUNT_ID, 'ACCOUNT'))).toBeUndefined();
  });
});

describe('lists: cursors are text', () => {
  it('refuses a cursor whose key holds a lone surrogate with 400, before the table sees it', async () => {
    const key = `{"pk":"ACCOUNT#${ACCOUNT_ID}","sk":"LOOP#\\ud800"}`;
    const cursor = Buffer.from(key).toString('base64url');
    const answer = await call('GET /v1/loops', '/v1/loops', { query: { cursor } });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('invalid_cursor');
    expect(table.requestsOf('Query')).toHaveLength(0);
  });
});

describe('loops: a request is checked against its route after the loop is found', () => {
  const missing = 'loop_01JD0000000000000000000000';

  it('answers 404 for a loop that is not there, whatever the body or query', async () => {
    expect((await loopRoute('PATCH', missing, { colour: 'red' })).status).toBe(404);
    const failures = await call('GET /v1/loops/{loopId}/failures', `/v1/loops/${missing}/failures`, {
      loopId: missing,
      query: { limit: '0' },
    });
    expect(failures.status).toBe(404);
    const replay = await call('POST /v1/loops/{loopId}/failures/replay', `/v1/loops/${missing}/failures/replay`, {
      loopId: missing,
      body: { eventIds: [] },
    });
    expect(replay.status).toBe(404);
  });

  it('answers 400 for the same requests on a loop that is there', async () => {
    const loop = await createLoop();
    const patched = await loopRoute('PATCH', loop.id, { colour: 'red' });
    expect(patched.status).toBe(400);
    expect(patched.json.error.details).toContainEqual({ path: 'colour', message: 'is not a known field' });
    const failures = await call('GET /v1/loops/{loopId}/failures', `/v1/loops/${loop.id}/failures`, {
      loopId: loop.id,
      query: { limit: '0' },
    });
    expect(failures.status).toBe(400);
    expect(failures.json.error.message).toBe('limit must be a whole number from 1 to 200.');
  });
});

describe('the OpenAPI document', () => {
  it("names the deployment's URL as its server, whatever Host the request came with", async () => {
    const response = await handler(
      apiEvent({
        method: 'GET',
        path: '/v1/openapi.json',
        headers: { host: 'evil.example', 'x-forwarded-proto': 'http' },
      }),
      context,
    );
    expect(JSON.parse(response.body!).servers).toEqual([{ url: API_URL }]);
  });
});
