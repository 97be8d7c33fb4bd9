/** Twin and faults tests: accounts and verified loops, made through the API as an account makes them. */
import { expect, inject } from 'vitest';
import { call } from './twin-api.ts';
import type { Loopback } from './loopback.ts';

/** An account and its first API key, created by the operator through the API. */
export async function createAccount(name = 'Acme') {
  const answer = await call('POST', '/v1/accounts', { key: inject('twin').adminKey, body: { name } });
  expect(answer.status).toBe(201);
  return { accountId: answer.body.id as string, apiKey: answer.body.apiKey.key as string };
}

/**
 * A loop pointing at `receiver`, verified the way an account does it: create it, put the
 * verification file in the script's directory, ask for the check.
 */
export async function createVerifiedLoop(
  apiKey: string,
  receiver: Pick<Loopback, 'origin' | 'serve'>,
  loop: { path?: string; events?: string[]; format?: 'form' | 'json' } = {},
) {
  const path = loop.path ?? '/hooks/copernica.php';
  const created = await call('POST', '/v1/loops', {
    key: apiKey,
    body: {
      url: `${receiver.origin}${path}`,
      events: loop.events ?? ['open', 'click'],
      ...(loop.format ? { format: loop.format } : {}),
    },
  });
  expect(created.status).toBe(201);
  const { file, content } = created.body.verification;
  receiver.serve(`${path.slice(0, path.lastIndexOf('/') + 1)}${file}`, { body: `${content}\n` });
  const verified = await call('POST', `/v1/loops/${created.body.id}/verify`, { key: apiKey });
  expect(verified.status).toBe(200);
  expect(verified.body.status).toBe('verified');
  return { ...verified.body, secret: created.body.secret as string };
}

/** An account with one verified loop on `receiver`. */
export async function seedAccount(receiver: Loopback, loop: Parameters<typeof createVerifiedLoop>[2] = {}) {
  const account = await createAccount();
  return { ...account, loop: await createVerifiedLoop(account.apiKey, receiver, loop) };
}
