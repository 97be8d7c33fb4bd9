import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '#shared/events/event-types.ts';
import { type ApiAnswer, call } from '../support/twin-api.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';

/**
 * Tenant isolation (docs/api.md §3): another account's loop is answered exactly as a loop that does not
 * exist (404, never 403), and nothing a request names with another account's loop id changes it.
 */

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const NO_SUCH_LOOP = 'loop_01ARZ3NDEKTSV4RRFFQ69G5FAV';

function expectError(answer: ApiAnswer, status: number, code?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(answer.body)).toEqual(['error']);
  expect(answer.body.error.code).toMatch(SNAKE_CASE);
  expect(answer.body.error.message).toEqual(expect.any(String));
  if (code) expect(answer.body.error.code).toBe(code);
}

const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ids = (answer: ApiAnswer) => answer.body.loops.map((loop: { id: string }) => loop.id).sort();

describe("one account cannot reach another account's loops", () => {
  let receiver: Loopback;
  let a: { apiKey: string; loops: any[] };
  let b: { apiKey: string; loops: any[] };
  let bVerified: any;

  beforeAll(async () => {
    receiver = await startLoopback();
    const [accountA, accountB] = [await createAccount('Tenant A'), await createAccount('Tenant B')];
    const newLoop = async (apiKey: string, path: string) => {
      const answer = await call('POST', '/v1/loops', {
        key: apiKey,
        body: { url: `${receiver.origin}${path}`, events: ['open', 'click'] },
      });
      expect(answer.status).toBe(201);
      return answer.body;
    };
    a = {
      apiKey: accountA.apiKey,
      loops: [await newLoop(accountA.apiKey, '/a/one.php'), await newLoop(accountA.apiKey, '/a/two.php')],
    };
    const bUnverified = await newLoop(accountB.apiKey, '/b/unverified.php');
    bVerified = await createVerifiedLoop(accountB.apiKey, receiver, {
      path: '/b/verified.php',
      events: [...EVENT_TYPES],
      format: 'json',
    });
    b = { apiKey: accountB.apiKey, loops: [bUnverified, bVerified] };
  });
  afterAll(() => receiver.close());

  const getAsB = async (id: string) => {
    const answer = await call('GET', `/v1/loops/${id}`, { key: b.apiKey });
    expect(answer.status).toBe(200);
    return answer.body;
  };

  // Each request A makes with B's loop id, and what it would have changed had it gone through.
  const attempts: [string, string, (id: string) => string, unknown][] = [
    ['GET', 'GET', (id) => `/v1/loops/${id}`, undefined],
    [
      'PATCH',
      'PATCH',
      (id) => `/v1/loops/${id}`,
      {
        url: 'https://example.com/taken-over',
        events: ['sent'],
        format: 'form',
        description: 'mine now',
        enabled: false,
      },
    ],
    ['verify', 'POST', (id) => `/v1/loops/${id}/verify`, undefined],
    ['rotate the secret of', 'POST', (id) => `/v1/loops/${id}/secret/rotate`, undefined],
    ['DELETE', 'DELETE', (id) => `/v1/loops/${id}`, undefined],
  ];

  for (const which of ['unverified', 'verified'] as const) {
    it.each(attempts)(
      `answers 404 when A tries to %s B's ${which} loop, as for no loop at all, and changes nothing`,
      async (_name, method, path, body) => {
        const target = b.loops[which === 'unverified' ? 0 : 1];
        const before = await getAsB(target.id);
        // Had a verification slipped through, it would have found the file.
        const file = `/b/${target.verification.file}`;
        receiver.serve(file, { body: target.verification.content });
        const answer = await call(method, path(target.id), { key: a.apiKey, ...(body === undefined ? {} : { body }) });
        receiver.unserve(file);
        expectError(answer, 404, 'not_found');

        // Indistinguishable from a loop that does not exist (the message may name the id asked for).
        const none = await call(method, path(NO_SUCH_LOOP), { key: a.apiKey, ...(body === undefined ? {} : { body }) });
        expectError(none, 404, 'not_found');
        expect(JSON.stringify(answer.body).replaceAll(target.id, '<id>')).toBe(
          JSON.stringify(none.body).replaceAll(NO_SUCH_LOOP, '<id>'),
        );

        expect(await getAsB(target.id)).toEqual(before);
      },
    );
  }

  it("leaves B's loops exactly as they were, secret included: B's events are signed with its original secret only", async () => {
    // (Unverified loops are re-checked by the schedule, which may touch lastCheckedAt and updatedAt.)
    const { secret: _secret, updatedAt: _updatedAt, verification, ...unverified } = b.loops[0];
    const now = await getAsB(b.loops[0].id);
    expect(now).toMatchObject({
      ...unverified,
      verification: { file: verification.file, content: verification.content, locations: verification.locations },
    });
    expect(await getAsB(bVerified.id)).toEqual((({ secret: _secret, ...view }) => view)(bVerified));

    const message = `b-after-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: b.apiKey, body: { type: 'open', message } })).status).toBe(202);
    const [post] = await receiver.waitFor(
      (request) => request.path === '/b/verified.php' && request.body.includes(message),
    );
    const signature = String(post!.headers['webhook-signature']);
    expect(signature.split(' ')).toHaveLength(1);
    const headers = {
      'webhook-id': String(post!.headers['webhook-id']),
      'webhook-timestamp': String(post!.headers['webhook-timestamp']),
      'webhook-signature': signature,
    };
    expect(new Webhook(bVerified.secret).verify(post!.body, headers)).toMatchObject({ type: 'open', message });
  });

  it("lists only the caller's own loops", async () => {
    const listA = await call('GET', '/v1/loops', { key: a.apiKey });
    expect(listA.status).toBe(200);
    expect(ids(listA)).toEqual(a.loops.map((loop) => loop.id).sort());
    const listB = await call('GET', '/v1/loops?limit=200', { key: b.apiKey });
    expect(ids(listB)).toEqual(b.loops.map((loop) => loop.id).sort());
    expect(JSON.stringify(listA.body)).not.toContain('/b/');
  });

  it("refuses a cursor from B's list when A uses it (400), showing none of B's loops", async () => {
    const page = await call('GET', '/v1/loops?limit=1', { key: b.apiKey });
    expect(page.status).toBe(200);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    // B's own cursor works for B…
    const next = await call('GET', `/v1/loops?limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`, {
      key: b.apiKey,
    });
    expect(next.status).toBe(200);
    expect(next.body.loops).toHaveLength(1);
    // …not for A.
    const answer = await call('GET', `/v1/loops?limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`, {
      key: a.apiKey,
    });
    expectError(answer, 400, 'invalid_cursor');
    for (const loop of b.loops) expect(JSON.stringify(answer.body)).not.toContain(loop.id);
  });

  it.each([
    ['with a key left out', (own: any) => ({ pk: own.pk })],
    ['with an attribute added', (own: any) => ({ ...own, accountId: 'x' })],
  ])("refuses A's own cursor %s (400 invalid_cursor), never a 5xx", async (_name, forge) => {
    const own = await call('GET', '/v1/loops?limit=1', { key: a.apiKey });
    expect(own.body.nextCursor).toEqual(expect.any(String));
    const cursor = encode(forge(decode(own.body.nextCursor)));
    const answer = await call('GET', `/v1/loops?limit=1&cursor=${encodeURIComponent(cursor)}`, { key: a.apiKey });
    expectError(answer, 400, 'invalid_cursor');
    for (const loop of b.loops) expect(JSON.stringify(answer.body)).not.toContain(loop.id);
  });

  it("delivers A's events to none of B's loops", async () => {
    const fromA = `from-a-${Date.now()}`;
    const fromB = `from-b-${Date.now()}`;
    for (const type of EVENT_TYPES) {
      const event = { type, message: fromA, ...(type === 'sent' ? { recipient: 'jane@example.com' } : {}) };
      expect((await call('POST', '/v1/events', { key: a.apiKey, body: event })).status).toBe(202);
    }
    expect((await call('POST', '/v1/events', { key: b.apiKey, body: { type: 'click', message: fromB } })).status).toBe(
      202,
    );
    await receiver.waitFor((request) => request.body.includes(fromB));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.posts().filter((request) => request.body.includes(fromA))).toEqual([]);
  });
});

describe("one account cannot see, replay or test another account's loop's failures", () => {
  let failing: Loopback;
  let other: Loopback;
  let a: { apiKey: string; loop: any };
  let b: { apiKey: string; loop: any; failures: any[]; cursor: string };
  const eventIds = [`iso-${Date.now()}-1`, `iso-${Date.now()}-2`];

  beforeAll(async () => {
    failing = await startLoopback({ answer: answerPosts(() => 500) });
    other = await startLoopback();
    const [accountA, accountB] = [await createAccount('Failures A'), await createAccount('Failures B')];
    a = { apiKey: accountA.apiKey, loop: await createVerifiedLoop(accountA.apiKey, other, { path: '/a/hook.php' }) };
    const bLoop = await createVerifiedLoop(accountB.apiKey, failing, { path: '/b/hook.php' });
    for (const id of eventIds) {
      const sent = await call('POST', '/v1/events', { key: accountB.apiKey, body: { id, type: 'open', message: id } });
      expect(sent.status).toBe(202);
    }
    // The twin's schedule (1,1,1) is spent within seconds; then both are failures of B's loop.
    const deadline = Date.now() + 30_000;
    let page: ApiAnswer;
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      page = await call('GET', `/v1/loops/${bLoop.id}/failures?limit=1`, { key: accountB.apiKey });
      expect(page.status).toBe(200);
    } while (!page.body.nextCursor && Date.now() < deadline);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const all = await call('GET', `/v1/loops/${bLoop.id}/failures`, { key: accountB.apiKey });
    expect(all.body.failures).toHaveLength(2);
    b = { apiKey: accountB.apiKey, loop: bLoop, failures: all.body.failures, cursor: page.body.nextCursor };
  });
  afterAll(async () => {
    await failing.close();
    await other.close();
  });

  it.each([
    ['list the failures of', 'GET', (id: string) => `/v1/loops/${id}/failures`, undefined],
    ['replay all failures of', 'POST', (id: string) => `/v1/loops/${id}/failures/replay`, undefined],
    ['replay {} on', 'POST', (id: string) => `/v1/loops/${id}/failures/replay`, {}],
    ['replay named failures of', 'POST', (id: string) => `/v1/loops/${id}/failures/replay`, { eventIds }],
    ['test', 'POST', (id: string) => `/v1/loops/${id}/test`, undefined],
  ])(
    "answers 404 when A tries to %s B's loop, as for no loop at all, and changes nothing",
    async (_name, method, path, body) => {
      const postsBefore = failing.posts().length;
      const answer = await call(method, path(b.loop.id), { key: a.apiKey, ...(body === undefined ? {} : { body }) });
      expectError(answer, 404, 'not_found');
      const none = await call(method, path(NO_SUCH_LOOP), { key: a.apiKey, ...(body === undefined ? {} : { body }) });
      expectError(none, 404, 'not_found');
      expect(JSON.stringify(answer.body).replaceAll(b.loop.id, '<id>')).toBe(
        JSON.stringify(none.body).replaceAll(NO_SUCH_LOOP, '<id>'),
      );
      for (const failure of b.failures) expect(JSON.stringify(answer.body)).not.toContain(failure.eventId);

      // Nothing was sent to B's receiver, and B's failures and loop are as they were.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(failing.posts().length).toBe(postsBefore);
      expect((await call('GET', `/v1/loops/${b.loop.id}/failures`, { key: b.apiKey })).body.failures).toEqual(
        b.failures,
      );
      expect((await call('GET', `/v1/loops/${b.loop.id}`, { key: b.apiKey })).body).toEqual(
        (({ secret: _secret, ...view }) => view)(b.loop),
      );
    },
  );

  it("replays nothing of B's when A names B's event ids on its own loop", async () => {
    const postsBefore = failing.posts().length;
    const answer = await call('POST', `/v1/loops/${a.loop.id}/failures/replay`, { key: a.apiKey, body: { eventIds } });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ replayed: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(failing.posts().length).toBe(postsBefore);
    expect(other.posts().filter((post) => eventIds.includes(String(post.headers['webhook-id'])))).toEqual([]);
    expect((await call('GET', `/v1/loops/${b.loop.id}/failures`, { key: b.apiKey })).body.failures).toEqual(b.failures);
  });

  it("refuses B's failures cursor on A's own loop (400 invalid_cursor), showing none of B's failures", async () => {
    const answer = await call('GET', `/v1/loops/${a.loop.id}/failures?cursor=${encodeURIComponent(b.cursor)}`, {
      key: a.apiKey,
    });
    expectError(answer, 400, 'invalid_cursor');
    for (const failure of b.failures) expect(JSON.stringify(answer.body)).not.toContain(failure.eventId);
    // B's cursor works for B.
    const next = await call('GET', `/v1/loops/${b.loop.id}/failures?cursor=${encodeURIComponent(b.cursor)}`, {
      key: b.apiKey,
    });
    expect(next.status).toBe(200);
    expect(next.body.failures).toEqual([b.failures[1]]);
  });
});
