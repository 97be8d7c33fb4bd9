import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ApiAnswer, call } from '../support/twin-api.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { createAccount } from '../support/twin-seed.ts';

/**
 * The headers of the API's answers, through the twin's gateway as a browser gets them (docs/api.md §3):
 * `X-Content-Type-Options: nosniff` on every answer of the functions, `Cache-Control: no-store` on
 * those that hold a key or a secret, and HSTS on the dashboard.
 */

let receiver: Loopback;
beforeAll(async () => {
  receiver = await startLoopback();
});
afterAll(() => receiver.close());

const noSniff = (answer: ApiAnswer) => expect(answer.headers.get('x-content-type-options')).toBe('nosniff');

describe('the headers of the API', () => {
  it('say nosniff on every answer: success, list, 4xx, 404 and 405, and on ingest', async () => {
    const { accountId, apiKey } = await createAccount('Headers');
    const answers = [
      await call('GET', '/v1/health'),
      await call('GET', '/v1/openapi.json'),
      await call('GET', '/v1/loops', { key: apiKey }),
      await call('GET', '/v1/loops/loop_01JDTEST000000000000000AA', { key: apiKey }),
      await call('POST', '/v1/loops', { key: apiKey, body: { url: 'not a url' } }),
      await call('GET', '/v1/nothing-here'),
      await call('PUT', '/v1/health'),
      await call('POST', '/v1/events', { key: apiKey, body: { type: 'open', message: 'm' } }),
      await call('POST', '/v1/events', { key: apiKey, body: { type: 'nothing' } }),
      await call('DELETE', `/v1/accounts/${accountId}/keys/key_01JDTEST0000000000000000AA`, {
        key: inject('twin').adminKey,
      }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 404, 400, 404, 405, 202, 400, 404]);
    for (const answer of answers) noSniff(answer);
  });

  it('say no-store on the answers that hold a key or a secret, and only there', async () => {
    const admin = inject('twin').adminKey;
    const account = await call('POST', '/v1/accounts', { key: admin, body: { name: 'Secrets' } });
    const apiKey = account.body.apiKey.key as string;
    const key = await call('POST', `/v1/accounts/${account.body.id}/keys`, { key: admin });
    const loop = await call('POST', '/v1/loops', {
      key: apiKey,
      body: { url: `${receiver.origin}/hooks/h.php`, events: ['open'] },
    });
    const rotated = await call('POST', `/v1/loops/${loop.body.id}/secret/rotate`, { key: apiKey });
    const withSecrets = [account, key, loop, rotated];
    expect(withSecrets.map((answer) => answer.status)).toEqual([201, 201, 201, 200]);
    expect(account.body.apiKey.key).toMatch(/^\w+_/);
    expect(key.body.key).toMatch(/^\w+_/);
    expect(loop.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    for (const answer of withSecrets) {
      expect(answer.headers.get('cache-control')).toBe('no-store');
      noSniff(answer);
    }
    const plain = await call('GET', `/v1/loops/${loop.body.id}`, { key: apiKey });
    expect(plain.body.secret).toBeUndefined();
    expect(plain.headers.get('cache-control')).toBeNull();
  });

  it('say HSTS on the dashboard, its page and its assets', async () => {
    const { apiUrl } = inject('twin');
    const root = await fetch(`${apiUrl}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const asset = /(?:src|href)="(\/assets\/[^"]+)"/.exec(await root.text())![1]!;
    const answer = await fetch(`${apiUrl}${asset}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('strict-transport-security')).toBe('max-age=31536000');
  });
});
