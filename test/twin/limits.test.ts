import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { createAccount } from '../support/twin-seed.ts';

/**
 * Limits that must hold under concurrent requests, across execution environments: what the real
 * functions do against the emulator's DynamoDB (its transactions serialized as DynamoDB's are).
 */
let receiver: Loopback;
beforeAll(async () => {
  receiver = await startLoopback();
});
afterAll(() => receiver.close());

const MAX_LOOPS = 20;

describe('the loop limit under concurrent creations', () => {
  it('creates exactly maxLoopsPerAccount of 30 loops created at once, refuses the rest with 409, and deletes every one it created', async () => {
    const { apiKey } = await createAccount('Rush Ltd');
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        call('POST', '/v1/loops', {
          key: apiKey,
          body: { url: `${receiver.origin}/hooks/${index}.php`, events: ['open'] },
        }),
      ),
    );

    const created = answers.filter((answer) => answer.status === 201);
    const refused = answers.filter((answer) => answer.status !== 201);
    expect(created).toHaveLength(MAX_LOOPS);
    expect(refused.map((answer) => [answer.status, answer.body.error.code])).toEqual(
      Array.from({ length: 30 - MAX_LOOPS }, () => [409, 'loop_limit_reached']),
    );
    const listed = await call('GET', '/v1/loops?limit=200', { key: apiKey });
    expect(listed.body.loops.map((loop: { id: string }) => loop.id).sort()).toEqual(
      created.map((answer) => answer.body.id).sort(),
    );

    const deletes = await Promise.all(
      created.map((answer) => call('DELETE', `/v1/loops/${answer.body.id}`, { key: apiKey })),
    );
    expect(deletes.map((answer) => answer.status)).toEqual(created.map(() => 204));
    expect((await call('GET', '/v1/loops', { key: apiKey })).body.loops).toEqual([]);
    // The count came back to zero: a full set can be created again.
    const again = await Promise.all(
      Array.from({ length: MAX_LOOPS }, (_, index) =>
        call('POST', '/v1/loops', {
          key: apiKey,
          body: { url: `${receiver.origin}/again/${index}.php`, events: ['open'] },
        }),
      ),
    );
    expect(again.map((answer) => answer.status)).toEqual(again.map(() => 201));
  });
});

describe('verify and test are rate-limited (docs/api.md §3)', () => {
  it('answers the 11th verification of a loop within a minute with 429 and Retry-After, without fetching', async () => {
    const { apiKey } = await createAccount('Prober Inc');
    const create = async (path: string) =>
      (await call('POST', '/v1/loops', { key: apiKey, body: { url: `${receiver.origin}${path}`, events: ['open'] } }))
        .body;
    const loop = await create('/probe/script.php');
    for (let index = 0; index < 10; index++) {
      const answer = await call('POST', `/v1/loops/${loop.id}/verify`, { key: apiKey });
      expect(answer.status).toBe(422);
    }
    const fetched = receiver.received.length;

    const refused = await call('POST', `/v1/loops/${loop.id}/verify`, { key: apiKey });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'too_many_requests', message: expect.stringMatching(/loop/) } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(receiver.received.length).toBe(fetched);

    // The limit is the loop's: the account's other loop is checked.
    const other = await create('/other/script.php');
    expect((await call('POST', `/v1/loops/${other.id}/verify`, { key: apiKey })).status).toBe(422);
  });
});

describe('the OpenAPI document', () => {
  it("names the deployment's own URL as its server (here the twin's gateway)", async () => {
    const answer = await call('GET', '/v1/openapi.json');
    expect(answer.body.servers).toEqual([{ url: inject('twin').apiUrl }]);
  });
});
