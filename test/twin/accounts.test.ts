import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type ApiAnswer, call } from '../support/twin-api.ts';

/** The operator's routes (docs/api.md §2, "Operator"), used with the admin key as the operator does. */

const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

const admin = () => inject('twin').adminKey;
const madeUpKey = () => `fl_${randomBytes(32).toString('base64url')}`;
const unique = (label: string) => `${label} ${randomBytes(4).toString('hex')}`;

/** The API's one error shape, `{"error": {"code", "message", "details"?}}`, with this status (and code). */
function expectError(answer: ApiAnswer, status: number, code?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(answer.body)).toEqual(['error']);
  const { error } = answer.body;
  expect(Object.keys(error).every((name) => ['code', 'message', 'details'].includes(name))).toBe(true);
  expect(error.code).toMatch(SNAKE_CASE);
  expect(error.message).toEqual(expect.any(String));
  expect(error.message.length).toBeGreaterThan(0);
  if (error.details !== undefined) {
    expect(Array.isArray(error.details)).toBe(true);
    for (const detail of error.details)
      expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  if (code) expect(error.code).toBe(code);
}

const createAccount = async (name: string) => {
  const answer = await call('POST', '/v1/accounts', { key: admin(), body: { name } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as { id: string; name: string; createdAt: string; apiKey: { id: string; key: string } };
};

/** Every account, following nextCursor with pages of `limit`. */
async function listAllAccounts(limit: number) {
  const accounts: { id: string; name: string; createdAt: string }[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await call(
      'GET',
      `/v1/accounts?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { key: admin() },
    );
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(Object.keys(page.body).every((name) => ['accounts', 'nextCursor'].includes(name))).toBe(true);
    expect(page.body.accounts.length).toBeLessThanOrEqual(limit);
    accounts.push(...page.body.accounts);
    cursor = page.body.nextCursor;
    if (cursor !== undefined) expect(cursor).toMatch(/^\S+$/);
    pages++;
    expect(pages, 'paging does not end').toBeLessThan(1000);
  } while (cursor !== undefined);
  return { accounts, pages };
}

/** A cursor that GET /v1/accounts handed out (there are at least two accounts by then). */
async function someAccountsCursor(): Promise<string> {
  const page = await call('GET', '/v1/accounts?limit=1', { key: admin() });
  expect(page.status).toBe(200);
  expect(page.body.nextCursor).toEqual(expect.any(String));
  return page.body.nextCursor;
}

const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('creating an account', () => {
  it('answers 201 with the account and its first API key, which works at once', async () => {
    const before = Date.now();
    const name = unique('Acme');
    const answer = await call('POST', '/v1/accounts', { key: admin(), body: { name } });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      id: expect.stringMatching(new RegExp(`^acc_${ULID}$`)),
      name,
      createdAt: expect.stringMatching(ISO_UTC),
      apiKey: { id: expect.stringMatching(new RegExp(`^key_${ULID}$`)), key: expect.any(String) },
    });
    const createdAt = Date.parse(answer.body.createdAt);
    expect(createdAt).toBeGreaterThanOrEqual(before - 5_000);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 5_000);
    // ≥ 32 bytes of entropy: at least 43 characters of base64 besides any prefix.
    expect(answer.body.apiKey.key.length).toBeGreaterThanOrEqual(43);

    const loops = await call('GET', '/v1/loops', { key: answer.body.apiKey.key });
    expect(loops.status).toBe(200);
    expect(loops.body).toEqual({ loops: [] });
  });

  it('gives every account its own id and its own key', async () => {
    const first = await createAccount(unique('Twin'));
    const second = await createAccount(unique('Twin'));
    expect(second.id).not.toBe(first.id);
    expect(second.apiKey.id).not.toBe(first.apiKey.id);
    expect(second.apiKey.key).not.toBe(first.apiKey.key);
  });

  it('never shows the key again: the list of accounts has id, name and createdAt only', async () => {
    const created = await createAccount(unique('Secretive'));
    const { accounts } = await listAllAccounts(200);
    const listed = accounts.find((account) => account.id === created.id);
    expect(listed).toEqual({ id: created.id, name: created.name, createdAt: created.createdAt });
    for (const account of accounts) expect(Object.keys(account).sort()).toEqual(['createdAt', 'id', 'name']);
    const text = JSON.stringify(accounts);
    expect(text).not.toContain(created.apiKey.key);
    expect(text).not.toContain(created.apiKey.id);
  });
});

describe('who may call what', () => {
  let account: Awaited<ReturnType<typeof createAccount>>;
  beforeAll(async () => {
    account = await createAccount(unique('Caller'));
  });

  it('refuses the admin key on an account route (403)', async () => {
    expectError(await call('GET', '/v1/loops', { key: admin() }), 403, 'forbidden');
    expectError(
      await call('POST', '/v1/loops', { key: admin(), body: { url: 'https://example.com/h', events: ['open'] } }),
      403,
      'forbidden',
    );
    expectError(
      await call('POST', '/v1/events', { key: admin(), body: { type: 'open', message: 'm-admin' } }),
      403,
      'forbidden',
    );
  });

  it('refuses an account key on the operator routes (403), and creates and revokes nothing', async () => {
    const name = unique('Sneaky');
    const before = await listAllAccounts(200);
    expectError(await call('POST', '/v1/accounts', { key: account.apiKey.key, body: { name } }), 403, 'forbidden');
    expectError(await call('GET', '/v1/accounts', { key: account.apiKey.key }), 403, 'forbidden');
    expectError(await call('POST', `/v1/accounts/${account.id}/keys`, { key: account.apiKey.key }), 403, 'forbidden');
    // A key never used before, so that no cache of the authoriser could hide its revocation.
    const spare = await call('POST', `/v1/accounts/${account.id}/keys`, { key: admin() });
    expect(spare.status).toBe(201);
    expectError(
      await call('DELETE', `/v1/accounts/${account.id}/keys/${spare.body.id}`, { key: account.apiKey.key }),
      403,
      'forbidden',
    );
    expect((await call('GET', '/v1/loops', { key: spare.body.key })).status).toBe(200);
    const after = await listAllAccounts(200);
    expect(after.accounts).toEqual(before.accounts);
    expect(after.accounts.map((listed) => listed.name)).not.toContain(name);
  });

  it.each([
    ['no key', undefined],
    ['a made-up key', madeUpKey()],
    [
      'the admin key with one character changed',
      `${inject('twin').adminKey.startsWith('x') ? 'y' : 'x'}${inject('twin').adminKey.slice(1)}`,
    ],
  ])('answers 401 to %s, on operator and account routes alike', async (_name, key) => {
    expectError(await call('POST', '/v1/accounts', { key, body: { name: unique('Nobody') } }), 401, 'unauthorized');
    expectError(await call('GET', '/v1/accounts', { key }), 401, 'unauthorized');
    expectError(await call('POST', `/v1/accounts/${account.id}/keys`, { key }), 401, 'unauthorized');
    expectError(
      await call('DELETE', `/v1/accounts/${account.id}/keys/${account.apiKey.id}`, { key }),
      401,
      'unauthorized',
    );
    expectError(await call('GET', '/v1/loops', { key }), 401, 'unauthorized');
    expectError(await call('POST', '/v1/events', { key, body: { type: 'open', message: 'm-1' } }), 401, 'unauthorized');
  });

  it.each([
    ['another scheme', (key: string) => `Basic ${key}`],
    ['no scheme', (key: string) => key],
    ['an empty bearer', () => 'Bearer '],
  ])('answers 401 to an Authorization header with %s', async (_name, header) => {
    const { apiUrl } = inject('twin');
    for (const [path, key] of [
      ['/v1/accounts', admin()],
      ['/v1/loops', account.apiKey.key],
    ] as const) {
      const response = await fetch(`${apiUrl}${path}`, { headers: { authorization: header(key) } });
      expectError(
        { status: response.status, headers: response.headers, body: await response.json() },
        401,
        'unauthorized',
      );
    }
  });
});

describe('listing accounts', () => {
  const created: { id: string; name: string; createdAt: string }[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const account = await createAccount(unique(`Paged ${i}`));
      created.push({ id: account.id, name: account.name, createdAt: account.createdAt });
    }
  });

  it('pages with ?limit=2 until nextCursor is absent, each account exactly once, in a stable order', async () => {
    const paged = await listAllAccounts(2);
    const ids = paged.accounts.map((account) => account.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const account of created)
      expect(paged.accounts.filter((listed) => listed.id === account.id)).toEqual([account]);
    expect(paged.pages).toBeGreaterThanOrEqual(Math.ceil(ids.length / 2));

    // The same accounts in the same order whatever the page size, and again on a second reading.
    const whole = await listAllAccounts(200);
    expect(whole.accounts).toEqual(paged.accounts);
    expect((await listAllAccounts(3)).accounts).toEqual(paged.accounts);
    // The three were created one after the other: the list keeps them in that order (or its reverse).
    const positions = created.map((account) => ids.indexOf(account.id));
    const ascending = [...positions].sort((a, b) => a - b);
    expect([ascending, [...ascending].reverse()]).toContainEqual(positions);
  });

  it('answers the first 50 accounts without a limit, and the first one with limit=1', async () => {
    const { accounts } = await listAllAccounts(200);
    const first = await call('GET', '/v1/accounts', { key: admin() });
    expect(first.status).toBe(200);
    expect(first.body.accounts).toEqual(accounts.slice(0, 50));
    if (accounts.length > 50) expect(first.body.nextCursor).toEqual(expect.any(String));
    const one = await call('GET', '/v1/accounts?limit=1', { key: admin() });
    expect(one.body.accounts).toEqual(accounts.slice(0, 1));
    expect(one.body.nextCursor).toEqual(expect.any(String));
  });

  it.each(['0', '201', 'abc', '-1', '2.5', '', '1e2', '0x10', '%202'])(
    'refuses limit=%s (400, naming limit)',
    async (limit) => {
      const answer = await call('GET', `/v1/accounts?limit=${limit}`, { key: admin() });
      expectError(answer, 400);
      expect(answer.body.error.details ?? [{ path: 'limit' }]).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'limit' })]),
      );
    },
  );

  it.each([
    ['an unknown parameter', 'colour=red'],
    ['a misspelt limit', 'Limit=2'],
    ['limit and an unknown parameter', 'limit=2&offset=4'],
  ])('refuses %s (400)', async (_name, query) => {
    expectError(await call('GET', `/v1/accounts?${query}`, { key: admin() }), 400);
  });

  it.each([
    ['that is not a cursor at all', () => 'not-a-cursor'],
    ['that was cut short', (cursor: string) => cursor.slice(0, -4)],
    ['with junk appended', (cursor: string) => `${cursor}AAAA`],
    ['that points into another list', (cursor: string) => encode({ ...decode(cursor), gsi1pk: 'VERIFY' })],
    ['with a key left out', (cursor: string) => encode({ gsi1pk: decode(cursor).gsi1pk })],
    ['with an attribute added', (cursor: string) => encode({ ...decode(cursor), admin: 'true' })],
    ['with a number where a string was', (cursor: string) => encode({ ...decode(cursor), gsi1sk: 5 })],
    ['that is a JSON array', () => encode(['ACCOUNTS'])],
  ])('refuses a cursor %s (400 invalid_cursor)', async (_name, tamper) => {
    const cursor = tamper(await someAccountsCursor());
    const answer = await call('GET', `/v1/accounts?limit=2&cursor=${encodeURIComponent(cursor)}`, { key: admin() });
    expectError(answer, 400, 'invalid_cursor');
  });

  it("refuses a cursor from an account's list of loops (400 invalid_cursor)", async () => {
    const account = await createAccount(unique('Cursor source'));
    for (const path of ['a', 'b']) {
      expect(
        (
          await call('POST', '/v1/loops', {
            key: account.apiKey.key,
            body: { url: `https://example.com/${path}`, events: ['open'] },
          })
        ).status,
      ).toBe(201);
    }
    const loops = await call('GET', '/v1/loops?limit=1', { key: account.apiKey.key });
    expect(loops.body.nextCursor).toEqual(expect.any(String));
    const answer = await call('GET', `/v1/accounts?cursor=${encodeURIComponent(loops.body.nextCursor)}`, {
      key: admin(),
    });
    expectError(answer, 400, 'invalid_cursor');
  });
});

describe('API keys of an account', () => {
  it('issues another key (201) that works at once, for the same account, beside the first', async () => {
    const account = await createAccount(unique('Two keys'));
    const issued = await call('POST', `/v1/accounts/${account.id}/keys`, { key: admin() });
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({ id: expect.stringMatching(new RegExp(`^key_${ULID}$`)), key: expect.any(String) });
    expect(issued.body.id).not.toBe(account.apiKey.id);
    expect(issued.body.key).not.toBe(account.apiKey.key);
    expect(issued.body.key.length).toBeGreaterThanOrEqual(43);

    const created = await call('POST', '/v1/loops', {
      key: issued.body.key,
      body: { url: 'https://example.com/second-key', events: ['open'] },
    });
    expect(created.status).toBe(201);
    const seenByFirst = await call('GET', '/v1/loops', { key: account.apiKey.key });
    expect(seenByFirst.status).toBe(200);
    expect(seenByFirst.body.loops.map((loop: { id: string }) => loop.id)).toEqual([created.body.id]);
  });

  it.each([
    ['an account id that was never given out', 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['something that is not an account id', 'nobody'],
  ])('refuses to issue a key for %s (404)', async (_name, accountId) => {
    expectError(await call('POST', `/v1/accounts/${accountId}/keys`, { key: admin() }), 404, 'not_found');
  });

  it('revokes a key (204): a key never used is refused at once, the others keep working, a second revocation is 404', async () => {
    const account = await createAccount(unique('Revoker'));
    const spare = await call('POST', `/v1/accounts/${account.id}/keys`, { key: admin() });
    expect(spare.status).toBe(201);

    const revoked = await call('DELETE', `/v1/accounts/${account.id}/keys/${spare.body.id}`, { key: admin() });
    expect(revoked.status).toBe(204);
    expect(revoked.body).toBeUndefined();
    expectError(await call('GET', '/v1/loops', { key: spare.body.key }), 401, 'unauthorized');
    expect((await call('GET', '/v1/loops', { key: account.apiKey.key })).status).toBe(200);

    expectError(
      await call('DELETE', `/v1/accounts/${account.id}/keys/${spare.body.id}`, { key: admin() }),
      404,
      'not_found',
    );
  });

  it('revokes the first key by the id it was created with', async () => {
    const account = await createAccount(unique('First key'));
    expect(
      (await call('DELETE', `/v1/accounts/${account.id}/keys/${account.apiKey.id}`, { key: admin() })).status,
    ).toBe(204);
    expectError(await call('GET', '/v1/loops', { key: account.apiKey.key }), 401, 'unauthorized');
  });

  it('lists key ids and when each was issued (never a key), paged, and no longer a revoked one', async () => {
    const account = await createAccount(unique('Key list'));
    const issued = await call('POST', `/v1/accounts/${account.id}/keys`, { key: admin() });
    expect(issued.status).toBe(201);
    const listed = await call('GET', `/v1/accounts/${account.id}/keys`, { key: admin() });
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(Object.keys(listed.body)).toEqual(['keys']);
    expect(listed.body.keys.map((key: { id: string }) => key.id).sort()).toEqual(
      [account.apiKey.id, issued.body.id].sort(),
    );
    for (const key of listed.body.keys) {
      expect(Object.keys(key).sort()).toEqual(['createdAt', 'id']);
      expect(key.createdAt).toMatch(ISO_UTC);
    }
    expect(JSON.stringify(listed.body)).not.toContain(account.apiKey.key);
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.key);

    const first = await call('GET', `/v1/accounts/${account.id}/keys?limit=1`, { key: admin() });
    expect(first.body.keys).toHaveLength(1);
    const second = await call(
      'GET',
      `/v1/accounts/${account.id}/keys?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { key: admin() },
    );
    expect(second.body.keys).toHaveLength(1);
    expect(second.body.nextCursor).toBeUndefined();
    expect([first.body.keys[0].id, second.body.keys[0].id].sort()).toEqual(
      listed.body.keys.map((key: { id: string }) => key.id).sort(),
    );

    expect((await call('DELETE', `/v1/accounts/${account.id}/keys/${issued.body.id}`, { key: admin() })).status).toBe(
      204,
    );
    const after = await call('GET', `/v1/accounts/${account.id}/keys`, { key: admin() });
    expect(after.body.keys.map((key: { id: string }) => key.id)).toEqual([account.apiKey.id]);
  });

  it("answers 404 for the keys of an account that does not exist, and 403 to an account's key", async () => {
    const account = await createAccount(unique('Key list refused'));
    expectError(
      await call('GET', '/v1/accounts/acc_01ARZ3NDEKTSV4RRFFQ69G5FAV/keys', { key: admin() }),
      404,
      'not_found',
    );
    expectError(await call('GET', '/v1/accounts/nonsense/keys', { key: admin() }), 404, 'not_found');
    expectError(await call('GET', `/v1/accounts/${account.id}/keys`, { key: account.apiKey.key }), 403);
  });

  it("does not revoke another account's key named under this account (404), and that key keeps working", async () => {
    const mine = await createAccount(unique('Mine'));
    const theirs = await createAccount(unique('Theirs'));
    expectError(
      await call('DELETE', `/v1/accounts/${mine.id}/keys/${theirs.apiKey.id}`, { key: admin() }),
      404,
      'not_found',
    );
    expectError(
      await call('DELETE', `/v1/accounts/acc_01ARZ3NDEKTSV4RRFFQ69G5FAV/keys/${theirs.apiKey.id}`, { key: admin() }),
      404,
      'not_found',
    );
    expectError(
      await call('DELETE', `/v1/accounts/${mine.id}/keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV`, { key: admin() }),
      404,
      'not_found',
    );
    // Never used before, so no cache can hide a revocation: it must still work because it was not revoked.
    expect((await call('GET', '/v1/loops', { key: theirs.apiKey.key })).status).toBe(200);
    expect((await call('GET', '/v1/loops', { key: mine.apiKey.key })).status).toBe(200);
  });
});

describe("the account's name", () => {
  it.each([
    ['missing', {}, 'name'],
    ['empty', { name: '' }, 'name'],
    ['only spaces', { name: '    ' }, 'name'],
    ['only white space of other kinds', { name: '\t\n ' }, 'name'],
    ['201 characters', { name: 'n'.repeat(201) }, 'name'],
    ['a number', { name: 42 }, 'name'],
    ['null', { name: null }, 'name'],
    ['true', { name: true }, 'name'],
    ['an array', { name: ['Acme'] }, 'name'],
    ['an object', { name: { first: 'Acme' } }, 'name'],
    ['accompanied by an unknown field', { name: 'Acme', plan: 'gold' }, 'plan'],
    ['accompanied by an id of its own', { name: 'Acme', id: 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAV' }, 'id'],
  ])('refuses a name that is %s (400, the details naming the field), creating nothing', async (_label, body, path) => {
    const before = await listAllAccounts(200);
    const answer = await call('POST', '/v1/accounts', { key: admin(), body });
    expectError(answer, 400);
    expect(answer.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect((await listAllAccounts(200)).accounts).toEqual(before.accounts);
  });

  it('takes a name of 200 characters', async () => {
    const name = `${randomBytes(4).toString('hex')}${'n'.repeat(192)}`;
    expect((await createAccount(name)).name).toBe(name);
  });
});
