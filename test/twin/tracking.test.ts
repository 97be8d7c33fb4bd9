import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { verifiedJson as verified } from '../support/webhooks.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';
import { sleep, until } from '../support/wait.ts';

/** docs/tracking.md on the twin: real GETs of tracking URLs, the events they make at a real receiver. */

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const APPLE_PROXY = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const REFERER = 'https://webmail.example.net/inbox';
const LINK = 'https://shop.example.com/sale?utm_source=mail&x=1&y=2';
const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/tracking');

type Account = Awaited<ReturnType<typeof createAccount>> & { loop: Awaited<ReturnType<typeof createVerifiedLoop>> };

/** A person's mail client fetching the URL: no redirect followed, so the 302 itself is seen. */
const hit = (
  url: string,
  headers: Record<string, string> = { 'user-agent': BROWSER, referer: REFERER },
  method = 'GET',
) => fetch(url, { method, headers, redirect: 'manual' });

describe('tracking: the pixel and the redirect', () => {
  let receiver: Loopback;
  let account: Account;

  const deliveries = (accountMessage: string, type?: string) =>
    receiver
      .posts()
      .map((post) => verified(account.loop.secret, post))
      .filter((event) => event.message === accountMessage && (type === undefined || event.type === type));
  const nextDelivery = async (message: string, type: string, count = 1) => {
    await until(`${count} ${type} of ${message}`, () => deliveries(message, type).length >= count, 30_000);
    return deliveries(message, type);
  };

  beforeAll(async () => {
    receiver = await startLoopback();
    const created = await createAccount('Tracking');
    account = {
      ...created,
      loop: await createVerifiedLoop(created.apiKey, receiver, { format: 'json', events: ['sent', 'open', 'click'] }),
    };
  });
  afterAll(() => receiver.close());

  const sent = async (message: string) => {
    const answer = await call('POST', '/v1/events', {
      key: account.apiKey,
      body: {
        type: 'sent',
        message,
        recipient: 'zoe@example.com',
        profile: 'p-42',
        fields: { firstname: 'Zoë', vip: true },
        tags: ['news', 'nov'],
      },
    });
    expect(answer.status).toBe(202);
    await nextDelivery(message, 'sent');
  };
  const urls = async (message: string, links = [LINK]) => {
    const answer = await call('POST', '/v1/tracking/urls', { key: account.apiKey, body: { message, links } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    return answer.body as { open: string; links: { original: string; url: string }[]; keyId: string };
  };

  it('records an open and a click enriched from the sent, with the request’s ip, user agent and referer', async () => {
    const message = `track-${Date.now()}`;
    await sent(message);
    const made = await urls(message);
    expect(made.open.startsWith(`${inject('twin').apiUrl}/t/o/`)).toBe(true);
    expect(made.links).toEqual([
      { original: LINK, url: expect.stringMatching(/\/t\/c\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/) },
    ]);

    // A forged X-Forwarded-For changes nothing: the ip is the connection's, as API Gateway reports it.
    const pixel = await hit(made.open, { 'user-agent': BROWSER, referer: REFERER, 'x-forwarded-for': '198.51.100.7' });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    expect(pixel.headers.get('cache-control')).toBe('no-store, private');
    const gif = Buffer.from(await pixel.arrayBuffer());
    expect(gif.length).toBe(43);
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');

    const click = await hit(made.links[0]!.url);
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe(LINK);
    expect(click.headers.get('cache-control')).toBe('no-store, private');

    const enriched = {
      message,
      recipient: 'zoe@example.com',
      profile: 'p-42',
      fields: { firstname: 'Zoë', vip: true },
      tags: ['news', 'nov'],
      ip: '127.0.0.1',
      useragent: BROWSER,
      referer: REFERER,
      machine: false,
    };
    const [open] = await nextDelivery(message, 'open');
    expect(open).toMatchObject({ ...enriched, type: 'open' });
    expect(open).not.toHaveProperty('original');
    const [clicked] = await nextDelivery(message, 'click');
    expect(clicked).toMatchObject({ ...enriched, type: 'click', original: LINK });
    // timestamp is the receipt: within the test's own run.
    expect(Math.abs(clicked!.time * 1000 - Date.now())).toBeLessThan(120_000);
  });

  it('counts a double click as two clicks', async () => {
    const message = `double-${Date.now()}`;
    const { links } = await urls(message);
    await hit(links[0]!.url);
    await hit(links[0]!.url);
    const clicks = await nextDelivery(message, 'click', 2);
    expect(new Set(clicks.map((event) => event.id)).size).toBe(2);
  });

  it('flags Apple’s privacy proxy, scanners’ HEAD requests and HTTP libraries as machine: true', async () => {
    const message = `machine-${Date.now()}`;
    const made = await urls(message);
    expect((await hit(made.open, { 'user-agent': APPLE_PROXY })).status).toBe(200);
    const [open] = await nextDelivery(message, 'open');
    expect(open).toMatchObject({ useragent: APPLE_PROXY, machine: true });
    expect(open).not.toHaveProperty('referer');
    const head = await hit(made.links[0]!.url, { 'user-agent': BROWSER }, 'HEAD');
    expect(head.status).toBe(302);
    expect((await hit(made.links[0]!.url, { 'user-agent': 'curl/8.5.0' })).status).toBe(302);
    const clicks = await nextDelivery(message, 'click', 2);
    expect(clicks.map((event) => event.machine)).toEqual([true, true]);
  });

  it('keeps links of a rotated-away key working, and answers with the new key at once', async () => {
    const message = `rotated-${Date.now()}`;
    const first = await call('POST', '/v1/tracking/secret/rotate', { key: account.apiKey });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body).toEqual({ secret: expect.stringMatching(/^trk_[A-Za-z0-9_-]{43}$/), keyId: expect.any(String) });
    const old = await urls(message);
    expect(old.keyId).toBe(first.body.keyId);
    expect((await hit(old.links[0]!.url)).status).toBe(302); // the tracking function now holds the keys in memory
    const second = await call('POST', '/v1/tracking/secret/rotate', { key: account.apiKey });
    expect(second.body.keyId).not.toBe(first.body.keyId);
    const fresh = await urls(message);
    expect(fresh.keyId).toBe(second.body.keyId);
    expect((await hit(fresh.links[0]!.url)).status).toBe(302);
    expect((await hit(old.links[0]!.url)).status).toBe(302);
    expect(await nextDelivery(message, 'click', 3)).toHaveLength(3);
  });

  it.each([
    ['PHP', 'php', ['tracking-url.php']],
    ['Node', process.execPath, ['tracking-url.mjs']],
    ['Python', 'python3', ['tracking_url.py']],
  ])('takes the URLs the %s example makes', async (_name, program, args) => {
    const message = `example-${program.length}-${Date.now()}`;
    const rotatedKey = await call('POST', '/v1/tracking/secret/rotate', { key: account.apiKey });
    const output = execFileSync(program, [...args, message, LINK], {
      cwd: EXAMPLES,
      env: {
        ...process.env,
        TRACKING_BASE: inject('twin').apiUrl,
        TRACKING_ACCOUNT: account.accountId,
        TRACKING_KEY_ID: rotatedKey.body.keyId,
        TRACKING_SECRET: rotatedKey.body.secret,
      },
      encoding: 'utf8',
    });
    const [openUrl, clickUrl] = output.trim().split('\n');
    // The same URLs the API makes with the same key.
    expect({ open: openUrl, click: clickUrl }).toEqual({
      open: (await urls(message)).open,
      click: (await urls(message)).links[0]!.url,
    });
    expect((await hit(openUrl!)).status).toBe(200);
    const click = await hit(clickUrl!);
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe(LINK);
    await nextDelivery(message, 'open');
    await nextDelivery(message, 'click');
  });
});

describe('tracking: what does not verify records nothing', () => {
  let receiver: Loopback;
  let account: Account;

  beforeAll(async () => {
    receiver = await startLoopback();
    const created = await createAccount('Tampering');
    account = {
      ...created,
      loop: await createVerifiedLoop(created.apiKey, receiver, { format: 'json', events: ['open', 'click'] }),
    };
  });
  afterAll(() => receiver.close());

  it('answers 404 with a small HTML page for every tampered part, an unsigned token and a revoked key', async () => {
    const message = `tamper-${Date.now()}`;
    const first = await call('POST', '/v1/tracking/secret/rotate', { key: account.apiKey });
    const revokedUrls = (
      await call('POST', '/v1/tracking/urls', { key: account.apiKey, body: { message, links: [LINK] } })
    ).body;
    // Revoked before the tracking function ever read this account's keys, so no cache holds them.
    const second = await call('POST', '/v1/tracking/secret/rotate', {
      key: account.apiKey,
      body: { revokePrevious: true },
    });
    expect(second.status).toBe(200);
    const other = await createAccount('Other');
    const { body: made } = await call('POST', '/v1/tracking/urls', {
      key: account.apiKey,
      body: { message, links: [LINK] },
    });
    expect(made.keyId).toBe(second.body.keyId);
    expect(made.keyId).not.toBe(first.body.keyId);
    const clickUrl: string = made.links[0].url;
    const [prefix, token] = [
      clickUrl.slice(0, clickUrl.lastIndexOf('/') + 1),
      clickUrl.slice(clickUrl.lastIndexOf('/') + 1),
    ];
    const [payload, signature] = token.split('.') as [string, string];
    const parts = Buffer.from(payload, 'base64url').toString('utf8').split('\u0000');
    const withPart = (index: number, value: string) => {
      const changed = [...parts];
      changed[index] = value;
      return `${prefix}${Buffer.from(changed.join('\u0000')).toString('base64url')}.${signature}`;
    };
    const flipped = Buffer.from(signature, 'base64url');
    flipped[3]! ^= 0x40;
    const openPrefix = made.open.slice(0, made.open.lastIndexOf('/') + 1);
    const tampered = {
      keyId: withPart(0, first.body.keyId),
      account: withPart(1, other.accountId),
      message: withPart(2, `${message}x`),
      url: withPart(3, 'https://evil.example.com/'),
      signature: `${prefix}${payload}.${flipped.toString('base64url')}`,
      unsigned: `${prefix}${payload}`,
      'revoked key': revokedUrls.links[0].url,
      'revoked key (open)': revokedUrls.open,
      'a click token as an open': `${openPrefix}${token}`,
      garbage: `${prefix}%3Cscript%3E`,
    };
    for (const [what, url] of Object.entries(tampered)) {
      const answer = await hit(url as string);
      expect({ what, status: answer.status, location: answer.headers.get('location') }).toEqual({
        what,
        status: 404,
        location: null,
      });
      expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await answer.text()).toContain('This link is not valid');
    }
    // A genuine click after them: once it has arrived, whatever the tampered ones made would have too.
    expect((await hit(clickUrl)).status).toBe(302);
    await until('the genuine click', () => receiver.posts().length >= 1, 30_000);
    await sleep(3000);
    const events = receiver.posts().map((post) => verified(account.loop.secret, post));
    expect(events.map((event) => [event.type, event.message, event.original])).toEqual([['click', message, LINK]]);
    // Nor in the log files: the day's clicks file holds the one click, and there is no opens file.
    await until(
      'the clicks log file',
      async () => (await logFiles(account.apiKey)).some((file) => file.type === 'clicks' && file.records >= 1),
      60_000,
      1000,
    );
    await sleep(11_000); // one more log flush (logFlushSeconds 10 on the twin tests' twin)
    const files = await logFiles(account.apiKey);
    expect(files.map((file) => [file.type, file.records])).toEqual([['clicks', 1]]);
  });
});

async function logFiles(apiKey: string): Promise<{ type: string; records: number }[]> {
  const date = new Date().toISOString().slice(0, 10);
  const answer = await call('GET', `/v1/logfiles?date=${date}`, { key: apiKey });
  return answer.status === 200 ? answer.body.files : [];
}
