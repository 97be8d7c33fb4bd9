import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { createAccount } from '../support/twin-seed.ts';

/**
 * A log file's download URL reaches that one object, for that method, until it expires — as S3
 * checks it. The twin's emulator verifies the SigV4 query signature like S3 does, so a URL that was
 * tampered with (another object, another method, a longer expiry, no signature) is refused here too,
 * and a client that forwards the API key to the storage host gets S3's clear 400, not a 500.
 */

const today = () => new Date().toISOString().slice(0, 10);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An account with one open logged today, and the download URL of its opens file. */
async function accountWithUrl(message: string) {
  const account = await createAccount();
  const sent = await call('POST', '/v1/events', { key: account.apiKey, body: { type: 'open', message } });
  expect(sent.status).toBe(202);
  const name = `opens.${today()}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await call('GET', `/v1/logfiles/${name}?redirect=false`, { key: account.apiKey });
    if (answer.status === 200) return { ...account, url: new URL(answer.body.url as string) };
    if (Date.now() > deadline) throw new Error(`no log file in time: ${answer.status} ${JSON.stringify(answer.body)}`);
    await sleep(500);
  }
}

const withParam = (url: URL, name: string, value: string) => {
  const changed = new URL(url);
  changed.searchParams.set(name, value);
  return changed;
};

describe('presigned download URLs on the twin', () => {
  let a: Awaited<ReturnType<typeof accountWithUrl>>;
  let b: Awaited<ReturnType<typeof accountWithUrl>>;

  beforeAll(async () => {
    [a, b] = await Promise.all([accountWithUrl('msg-presign-a'), accountWithUrl('msg-presign-b')]);
  });

  it('downloads the file with the URL as it was given', async () => {
    const response = await fetch(a.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('msg-presign-a');
  });

  it.each([
    ['a zeroed signature', (url: URL) => withParam(url, 'X-Amz-Signature', '0'.repeat(64))],
    ['a longer expiry', (url: URL) => withParam(url, 'X-Amz-Expires', '604800')],
    ['an earlier signing time', (url: URL) => withParam(url, 'X-Amz-Date', '20260101T000000Z')],
  ])('refuses the URL with %s', async (_, tamper) => {
    const response = await fetch(tamper(a.url));
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain('msg-presign-a');
  });

  it("refuses another account's query string on this account's object", async () => {
    const forged = new URL(a.url);
    forged.search = b.url.search;
    const response = await fetch(forged);
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain('msg-presign-a');
  });

  it('refuses the download URL for another method', async () => {
    const put = await fetch(a.url, { method: 'PUT', body: 'overwritten' });
    expect(put.status).toBe(403);
    const listing = new URL(a.url);
    listing.pathname = listing.pathname.split('/').slice(0, 2).join('/');
    const list = await fetch(listing);
    expect(list.status).toBe(403);
    const still = await fetch(a.url);
    expect(await still.text()).toContain('msg-presign-a');
  });

  it('answers a URL that also carries the API key with S3’s clear 400', async () => {
    const response = await fetch(a.url, { headers: { authorization: `Bearer ${a.apiKey}` } });
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(body).toContain('InvalidArgument');
    expect(body).toContain('Only one auth mechanism allowed');
  });

  it.each([
    ['an expiry beyond seven days', (url: URL) => withParam(url, 'X-Amz-Expires', '604801')],
    ['no signature', (url: URL) => withParam(url, 'X-Amz-Signature', '')],
  ])('refuses a URL with %s as malformed, before its signature', async (_, tamper) => {
    const response = await fetch(tamper(a.url));
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(body).toContain('AuthorizationQueryParametersError');
    expect(body).not.toContain('msg-presign-a');
  });
});
