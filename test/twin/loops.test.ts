import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EVENT_TYPES } from '#shared/events/event-types.ts';
import { ROUTES } from '#shared/http/routes.ts';
import { call } from '../support/twin-api.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';

describe('managing loops', () => {
  let receiver: Loopback;
  let apiKey: string;
  beforeAll(async () => {
    receiver = await startLoopback();
    ({ apiKey } = await createAccount('Loops Ltd'));
  });
  afterAll(() => receiver.close());

  const create = (body: unknown) => call('POST', '/v1/loops', { key: apiKey, body });

  it.each([
    ['no url', { events: ['open'] }, 'url', /required/],
    ['a url over 2048 characters', { url: `https://example.com/${'a'.repeat(2040)}`, events: ['open'] }, 'url', /2048/],
    ['no events', { url: 'https://example.com/h', events: [] }, 'events', /at least 1/],
    ['an unknown event type', { url: 'https://example.com/h', events: ['opened'] }, 'events[0]', /must be one of/],
    ['the test type', { url: 'https://example.com/h', events: ['test'] }, 'events[0]', /must be one of/],
    ['a repeated type', { url: 'https://example.com/h', events: ['open', 'open'] }, 'events', /repeat/],
    ['an unknown format', { url: 'https://example.com/h', events: ['open'], format: 'xml' }, 'format', /form, json/],
    [
      'an unknown field',
      { url: 'https://example.com/h', events: ['open'], colour: 'red' },
      'colour',
      /not a known field/,
    ],
    ['a private address', { url: 'https://10.1.2.3/hook', events: ['open'] }, 'url', /private/],
    [
      'the metadata address',
      { url: 'http://169.254.169.254/latest/meta-data/', events: ['open'] },
      'url',
      /link-local/,
    ],
    ['a unique-local IPv6 address', { url: 'https://[fd00::1]/hook', events: ['open'] }, 'url', /unique local/],
    ['a mapped IPv6 address', { url: 'https://[::ffff:10.0.0.1]/hook', events: ['open'] }, 'url', /IPv4-mapped/],
    ['a decimal spelling of a private address', { url: 'https://167772161/hook', events: ['open'] }, 'url', /private/],
    ['user info', { url: 'https://user:secret@example.com/hook', events: ['open'] }, 'url', /user info/],
    ['another scheme', { url: 'ftp://example.com/hook', events: ['open'] }, 'url', /ftp/],
  ])('refuses a loop with %s (400, naming the field)', async (_name, body, path, message) => {
    const before = (await call('GET', '/v1/loops?limit=200', { key: apiKey })).body.loops.length;
    const answer = await create(body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    expect(answer.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path, message: expect.stringMatching(message) })]),
    );
    expect((await call('GET', '/v1/loops?limit=200', { key: apiKey })).body.loops.length).toBe(before);
  });

  it('creates a loop with the defaults, and changes, disables and deletes it', async () => {
    const created = await create({ url: 'https://example.com/hooks/copernica.php', events: ['open', 'click'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      format: 'form',
      description: '',
      enabled: true,
      status: 'unverified',
      events: ['open', 'click'],
    });
    expect(created.body.id).toMatch(/^loop_[0-9A-HJKMNP-TV-Z]{26}$/);

    const changed = await call('PATCH', `/v1/loops/${created.body.id}`, {
      key: apiKey,
      body: { events: ['bounce'], format: 'json', enabled: false, description: 'CRM' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      events: ['bounce'],
      format: 'json',
      enabled: false,
      description: 'CRM',
      url: 'https://example.com/hooks/copernica.php',
    });
    expect(Date.parse(changed.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));

    expect((await call('PATCH', `/v1/loops/${created.body.id}`, { key: apiKey, body: {} })).status).toBe(400);
    expect((await call('DELETE', `/v1/loops/${created.body.id}`, { key: apiKey })).status).toBe(204);
    expect((await call('GET', `/v1/loops/${created.body.id}`, { key: apiKey })).status).toBe(404);
    expect((await call('DELETE', `/v1/loops/${created.body.id}`, { key: apiKey })).status).toBe(404);
  });

  it('allows at most maxLoopsPerAccount loops (20), pages through them, and frees a place on delete', async () => {
    const { apiKey: key } = await createAccount('Many Loops');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await call('POST', '/v1/loops', {
        key,
        body: { url: `https://example.com/${i}`, events: ['open'] },
      });
      expect(answer.status).toBe(201);
      ids.push(answer.body.id);
    }
    const refused = await call('POST', '/v1/loops', { key, body: { url: 'https://example.com/21', events: ['open'] } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('loop_limit_reached');

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call('GET', `/v1/loops?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(page.status).toBe(200);
      expect(page.body.loops.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.loops.map((loop: { id: string }) => loop.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());
    // A cursor only when more exist: 20 loops in pages of 10 are two pages, not two and an empty one.
    const full = await call('GET', '/v1/loops?limit=10', { key });
    const rest = await call('GET', `/v1/loops?limit=10&cursor=${full.body.nextCursor}`, { key });
    expect(rest.body.loops).toHaveLength(10);
    expect(rest.body.nextCursor).toBeUndefined();

    // Cursors forged from a real one: another shape of key, or one outside the list.
    const first = await call('GET', '/v1/loops?limit=7', { key });
    const real = JSON.parse(Buffer.from(first.body.nextCursor, 'base64url').toString());
    for (const forged of [
      { ...real, extra: 'x' },
      { ...real, sk: 'ACCOUNT' },
      { pk: real.pk },
      { ...real, sk: 7 },
      [real],
    ]) {
      const cursor = Buffer.from(JSON.stringify(forged)).toString('base64url');
      const answer = await call('GET', `/v1/loops?cursor=${cursor}`, { key });
      expect(answer.status, JSON.stringify(forged)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_cursor');
    }

    expect((await call('DELETE', `/v1/loops/${ids[0]}`, { key })).status).toBe(204);
    expect(
      (await call('POST', '/v1/loops', { key, body: { url: 'https://example.com/again', events: ['open'] } })).status,
    ).toBe(201);
  });

  it('signs with both secrets for a day after a rotation', async () => {
    const loop = await createVerifiedLoop(apiKey, receiver, {
      path: '/rotating/hook',
      format: 'json',
      events: ['unsubscribe'],
    });
    const rotated = await call('POST', `/v1/loops/${loop.id}/secret/rotate`, { key: apiKey });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(loop.secret);

    const message = `rotated-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: apiKey, body: { type: 'unsubscribe', message } })).status).toBe(
      202,
    );
    const [post] = await receiver.waitFor(
      (request) => request.path === '/rotating/hook' && request.body.includes(message),
    );
    const headers = {
      'webhook-id': String(post!.headers['webhook-id']),
      'webhook-timestamp': String(post!.headers['webhook-timestamp']),
      'webhook-signature': String(post!.headers['webhook-signature']),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [rotated.body.secret, loop.secret]) {
      expect(new Webhook(secret).verify(post!.body, headers)).toMatchObject({ type: 'unsubscribe', message });
    }
    expect(() =>
      new Webhook(`whsec_${Buffer.from('someone else entirely, 32 bytes!').toString('base64')}`).verify(
        post!.body,
        headers,
      ),
    ).toThrow();
  });

  it('delivers nothing to a disabled loop', async () => {
    const loop = await createVerifiedLoop(apiKey, receiver, { path: '/off/hook', events: ['abuse'] });
    expect((await call('PATCH', `/v1/loops/${loop.id}`, { key: apiKey, body: { enabled: false } })).body.enabled).toBe(
      false,
    );
    const message = `off-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: apiKey, body: { type: 'abuse', message } })).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.posts().filter((request) => request.body.includes(message))).toEqual([]);
  });
});

describe('ids that cannot exist', () => {
  it('answers 404, however long or odd the id', async () => {
    const { apiKey } = await createAccount('Odd Ids');
    const admin = inject('twin').adminKey;
    for (const id of [
      'x'.repeat(3000),
      'loop_%00',
      'loop_01M812AQRDWSRD8D1QTN9CX0PA'.toLowerCase(),
      encodeURIComponent('../../etc'),
    ]) {
      for (const [method, path] of [
        ['GET', `/v1/loops/${id}`],
        ['PATCH', `/v1/loops/${id}`],
        ['DELETE', `/v1/loops/${id}`],
        ['POST', `/v1/loops/${id}/verify`],
        ['POST', `/v1/loops/${id}/secret/rotate`],
      ] as const) {
        const answer = await call(method, path, {
          key: apiKey,
          ...(method === 'PATCH' ? { body: { description: 'x' } } : {}),
        });
        expect(answer.status, `${method} ${path.slice(0, 40)}`).toBe(404);
        expect(answer.body.error.code).toBe('not_found');
      }
      expect((await call('POST', `/v1/accounts/${id}/keys`, { key: admin })).status).toBe(404);
      expect((await call('DELETE', `/v1/accounts/${id}/keys/${id}`, { key: admin })).status).toBe(404);
    }
  });
});

describe('the OpenAPI document', () => {
  it('is public and lists every route, with the schemas that validate requests', async () => {
    const answer = await call('GET', '/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    for (const route of ROUTES)
      expect(
        answer.body.paths[route.path]?.[route.method.toLowerCase()],
        `${route.method} ${route.path}`,
      ).toBeDefined();
    const createLoop = answer.body.paths['/v1/loops'].post.requestBody.content['application/json'].schema;
    expect(createLoop.required).toEqual(['url', 'events']);
    expect(createLoop.additionalProperties).toBe(false);
    expect(createLoop.properties.events.items.enum).toEqual([...EVENT_TYPES]);
    expect(createLoop.properties.url.maxLength).toBe(2048);
    expect(answer.body.paths['/v1/health'].get.security).toEqual([]);
  });
});
