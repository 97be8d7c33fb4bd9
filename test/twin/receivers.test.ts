import qs from 'qs';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { EXAMPLE_KINDS, type ExampleReceiver, exampleReceiver, postRaw } from '../support/example-receivers.ts';
import { type Loopback, type ReceivedRequest, startLoopback } from '../support/loopback.ts';
import { createAccount, seedAccount } from '../support/twin-seed.ts';

/**
 * What receivers' code meets, judged by third-party code only: the example receivers (PHP under
 * `php -S`, Node with the standardwebhooks library, Python with its standard library) as loop
 * targets, and, on captured raw requests, the standardwebhooks and svix verifiers and qs, which
 * parses form bodies as PHP does.
 */

// Field names may hold only A-Z a-z 0-9 _ . - (docs/api.md §4); values and tags may hold anything.
const FIELDS = {
  vip: true,
  churned: false,
  age: 42,
  score: 1.5,
  'first.name': 'Zoë',
  'last-name': "O'Brien & Söhne = [GmbH]",
  note_1: 'a&b=c[d]e.f + ü 😀 %20 ?x=1#y',
  'a.b-c_d': '[]',
  empty: '',
};
/** The same fields as a form carries them: strings, booleans 1 / 0, integers in plain digits. */
const FORM_FIELDS = {
  ...FIELDS,
  vip: '1',
  churned: '0',
  age: '42',
  score: '1.5',
};
const TAGS = ['news', 'a&b=c', '[x]', 'tags[]=y', 'ünï 😀', 'dot.ted', '+ %2B'];
const RECIPIENT = 'zoë@bücher.example';
const ORIGINAL = 'https://shop.example/sale?x=1&y=[2]&z=%C3%BC#top';
/** PHP writes this integer in digits; JavaScript would write "1e+21". It rides on the click. */
const BIG = 1e21;

/** A whole second, a minute ago, so the delivered timestamp and time are known exactly. */
function aMinuteAgo() {
  const seconds = Math.floor(Date.now() / 1000) - 60;
  return {
    iso: new Date(seconds * 1000).toISOString(),
    timestamp: new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' '),
    time: seconds,
  };
}

/** A `sent` with everything a receiver can be given, an `open` and a `click` of the same message. */
function threeEvents(prefix: string) {
  const at = aMinuteAgo();
  const message = `${prefix}-msg`;
  const events = [
    {
      id: `${prefix}-sent`,
      type: 'sent',
      message,
      timestamp: at.iso,
      recipient: RECIPIENT,
      profile: 'p-ü-1',
      fields: FIELDS,
      tags: TAGS,
    },
    { id: `${prefix}-open`, type: 'open', message, timestamp: at.iso, ip: '2001:db8::7', useragent: 'Mozilla/5.0 (ü)' },
    // An integer JavaScript writes with an exponent (see BIG).
    { id: `${prefix}-click`, type: 'click', message, timestamp: at.iso, original: ORIGINAL, fields: { big: BIG } },
  ];
  return { at, message, events };
}

/** The `sent` exactly as a receiver reads it, in each format. */
function expectedSent(prefix: string, at: ReturnType<typeof aMinuteAgo>, format: 'form' | 'json') {
  return {
    id: `${prefix}-sent`,
    type: 'sent',
    timestamp: at.timestamp,
    time: format === 'form' ? String(at.time) : at.time,
    message: `${prefix}-msg`,
    recipient: RECIPIENT,
    profile: 'p-ü-1',
    fields: format === 'form' ? FORM_FIELDS : FIELDS,
    tags: TAGS,
  };
}

async function send(apiKey: string, events: unknown[]) {
  const answer = await call('POST', '/v1/events', { key: apiKey, body: { events } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
}

describe.each(EXAMPLE_KINDS)('the %s example receiver as a loop target', (kind) => {
  let example: ExampleReceiver;
  let apiKey: string;
  let loop: { id: string; secret: string };

  beforeAll(async () => {
    example = await exampleReceiver(kind);
    ({ apiKey } = await createAccount(`Receivers ${kind}`));
    // As an account does it: create the loop, place the file, start the script with the secret, verify.
    const created = await call('POST', '/v1/loops', {
      key: apiKey,
      body: { url: example.url, events: ['sent', 'open', 'click'] },
    });
    expect(created.status).toBe(201);
    loop = { id: created.body.id, secret: created.body.secret };
    await example.placeVerificationFile(created.body.verification.file, created.body.verification.content);
    await example.start(loop.secret);
    const verified = await call('POST', `/v1/loops/${loop.id}/verify`, { key: apiKey });
    expect(verified.body.status, JSON.stringify(verified.body)).toBe('verified');
  });
  afterAll(() => example?.stop());

  it('verifies form bodies and reads them as PHP does: exact strings, booleans 1 / 0', async () => {
    const prefix = `${kind}-form-${Date.now()}`;
    const { at, message, events } = threeEvents(prefix);
    await send(apiKey, events);

    const sent = await example.waitForVerified(`${prefix}-sent`);
    expect(sent).toMatchObject({ type: 'sent', recipient: RECIPIENT });
    expect(sent.event).toEqual(expectedSent(prefix, at, 'form'));

    // The open and the click carry what their sent said of the message (enrichment, docs/api.md §4).
    const open = await example.waitForVerified(`${prefix}-open`);
    expect(open).toMatchObject({ recipient: RECIPIENT });
    expect(open.event).toMatchObject({
      type: 'open',
      message,
      timestamp: at.timestamp,
      time: String(at.time),
      ip: '2001:db8::7',
      useragent: 'Mozilla/5.0 (ü)',
      recipient: RECIPIENT,
      profile: 'p-ü-1',
      fields: FORM_FIELDS,
      tags: TAGS,
    });
    const click = await example.waitForVerified(`${prefix}-click`);
    expect(click.event).toMatchObject({
      type: 'click',
      message,
      original: ORIGINAL,
      recipient: RECIPIENT,
      // Its own field, and the sent's others.
      fields: { ...FORM_FIELDS, big: '1000000000000000000000' },
      tags: TAGS,
    });
  });

  it('verifies JSON bodies, which keep their types', async () => {
    const patched = await call('PATCH', `/v1/loops/${loop.id}`, { key: apiKey, body: { format: 'json' } });
    expect(patched.body).toMatchObject({ format: 'json', status: 'verified' });
    const prefix = `${kind}-json-${Date.now()}`;
    const { at, message, events } = threeEvents(prefix);
    await send(apiKey, events);

    const sent = await example.waitForVerified(`${prefix}-sent`);
    expect(sent.event).toEqual(expectedSent(prefix, at, 'json'));
    expect(sent.event.fields).toMatchObject({ vip: true, churned: false, age: 42, score: 1.5 });
    const open = await example.waitForVerified(`${prefix}-open`);
    expect(open.event).toMatchObject({ type: 'open', message, time: at.time, ip: '2001:db8::7' });
    const click = await example.waitForVerified(`${prefix}-click`);
    expect(click.event).toMatchObject({ type: 'click', original: ORIGINAL, fields: { big: BIG } });
  });

  it('still verifies with its old secret while the loop rotates to a new one', async () => {
    const rotated = await call('POST', `/v1/loops/${loop.id}/secret/rotate`, { key: apiKey });
    expect(rotated.status).toBe(200);
    // The receiver was started with the first secret; the header now has one signature per secret.
    const id = `${kind}-rotated-${Date.now()}`;
    await send(apiKey, [{ id, type: 'open', message: `${id}-msg` }]);
    expect((await example.waitForVerified(id)).event).toMatchObject({ id, type: 'open', message: `${id}-msg` });
  });

  describe('refusing what Feedback Loops did not sign', () => {
    const body = 'id=evt_direct&type=open&message=m';
    const signed = (secret: string, id: string, at = new Date(), content = body): Record<string, string> => ({
      'Content-Type': 'application/x-www-form-urlencoded',
      'Webhook-Id': id,
      'Webhook-Timestamp': String(Math.floor(at.getTime() / 1000)),
      'Webhook-Signature': new Webhook(secret).sign(id, at, content),
    });
    const otherSecret = `whsec_${Buffer.from('someone else entirely, 32 bytes!').toString('base64')}`;

    it('accepts header names in any case, and any one matching signature of several', async () => {
      const id = `${kind}-direct-${Date.now()}`;
      const content = `id=${id}&type=open&message=m`;
      const headers = Object.fromEntries(
        Object.entries(signed(loop.secret, id, new Date(), content)).map(([name, value]) => [
          name.toUpperCase(),
          value,
        ]),
      );
      // As during a rotation: the first signature is not for this receiver's secret.
      headers['WEBHOOK-SIGNATURE'] =
        `${new Webhook(otherSecret).sign(id, new Date(), content)} ${headers['WEBHOOK-SIGNATURE']}`;
      expect(await postRaw(example.url, content, headers)).toBe(204);
      expect((await example.waitForVerified(id)).event).toEqual({ id, type: 'open', message: 'm' });
    });

    it.each([
      ['a signature made with another secret', 401, () => signed(otherSecret, 'evt_x')],
      ['a body changed after signing', 401, () => ({ ...signed(loop.secret, 'evt_x'), 'Webhook-Id': 'evt_y' })],
      ['a timestamp 10 minutes old', 401, () => signed(loop.secret, 'evt_x', new Date(Date.now() - 600_000))],
      ['a timestamp 10 minutes ahead', 401, () => signed(loop.secret, 'evt_x', new Date(Date.now() + 600_000))],
      ['an unknown signature version', 401, () => ({ ...signed(loop.secret, 'evt_x'), 'Webhook-Signature': 'v2,x' })],
      [
        'no signature header',
        400,
        () => {
          const { 'Webhook-Signature': _omitted, ...rest } = signed(loop.secret, 'evt_x');
          return rest;
        },
      ],
    ])('refuses %s (%i)', async (_name, status, headers) => {
      expect(await postRaw(example.url, body, headers())).toBe(status);
      expect(example.verified().filter((entry) => entry.id === 'evt_x' || entry.id === 'evt_y')).toEqual([]);
    });
  });
});

describe('a captured delivery, judged by third-party verifiers and parsers', () => {
  let receiver: Loopback;
  let account: Awaited<ReturnType<typeof seedAccount>>;

  beforeAll(async () => {
    receiver = await startLoopback();
    account = await seedAccount(receiver, { path: '/raw/hook', events: ['sent', 'open', 'click'] });
  });
  afterAll(() => receiver.close());

  const headersOf = (post: ReceivedRequest) => ({
    'webhook-id': String(post.headers['webhook-id']),
    'webhook-timestamp': String(post.headers['webhook-timestamp']),
    'webhook-signature': String(post.headers['webhook-signature']),
  });
  const byId = (id: string) => (request: ReceivedRequest) => request.headers['webhook-id'] === id;

  function expectVerifiedByBoth(post: ReceivedRequest, secrets: { standard: string; svix: string }) {
    const headers = headersOf(post);
    expect(() => new Webhook(secrets.standard).verify(post.body, headers, { jsonParse: false })).not.toThrow();
    expect(() => new SvixWebhook(secrets.svix).verify(post.body, headers)).not.toThrow();
    // Changed by one character, it verifies no more.
    const tampered = `${post.body} `;
    expect(() => new Webhook(secrets.standard).verify(tampered, headers, { jsonParse: false })).toThrow();
    expect(() => new SvixWebhook(secrets.svix).verify(tampered, headers)).toThrow();
  }

  it('sends a form that standardwebhooks and svix verify and qs reads exactly, brackets, unicode and all', async () => {
    const prefix = `raw-form-${Date.now()}`;
    const { at, message, events } = threeEvents(prefix);
    await send(account.apiKey, events);
    const [sent] = await receiver.waitFor(byId(`${prefix}-sent`));

    expect(sent!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent!.headers['user-agent']).toMatch(/^FeedbackLoops\/\S+$/);
    expect(Math.abs(Number(sent!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expectVerifiedByBoth(sent!, { standard: account.loop.secret, svix: account.loop.secret });
    // qs reads brackets as PHP does; dots in field names stay (allowDots is off, as in PHP).
    expect(qs.parse(sent!.body, { depth: 1 })).toEqual(expectedSent(prefix, at, 'form'));
    // Booleans as PHP writes them: a PHP `if` takes "0" for false, "false" would be true.
    expect(new URLSearchParams(sent!.body).get('fields[vip]')).toBe('1');
    expect(new URLSearchParams(sent!.body).get('fields[churned]')).toBe('0');

    // The open of the same message: its own values, exactly (whatever else it may carry).
    const [open] = await receiver.waitFor(byId(`${prefix}-open`));
    expectVerifiedByBoth(open!, { standard: account.loop.secret, svix: account.loop.secret });
    expect(qs.parse(open!.body)).toMatchObject({
      id: `${prefix}-open`,
      type: 'open',
      message,
      timestamp: at.timestamp,
      time: String(at.time),
      ip: '2001:db8::7',
      useragent: 'Mozilla/5.0 (ü)',
    });
    const [click] = await receiver.waitFor(byId(`${prefix}-click`));
    expect(qs.parse(click!.body)).toMatchObject({
      type: 'click',
      original: ORIGINAL,
      fields: { big: '1000000000000000000000' },
    });
  });

  it('sends JSON that both verify, with types kept: booleans true / false, numbers as numbers', async () => {
    const patched = await call('PATCH', `/v1/loops/${account.loop.id}`, {
      key: account.apiKey,
      body: { format: 'json' },
    });
    expect(patched.status).toBe(200);
    const prefix = `raw-json-${Date.now()}`;
    const { at, message, events } = threeEvents(prefix);
    await send(account.apiKey, events);
    const [sent] = await receiver.waitFor(byId(`${prefix}-sent`));

    expect(sent!.headers['content-type']).toBe('application/json');
    expectVerifiedByBoth(sent!, { standard: account.loop.secret, svix: account.loop.secret });
    const payload = new Webhook(account.loop.secret).verify(sent!.body, headersOf(sent!));
    expect(payload).toEqual(expectedSent(prefix, at, 'json'));
    expect(sent!.body).toContain('"fields":{"vip":true,"churned":false,"age":42,"score":1.5,');

    const [open] = await receiver.waitFor(byId(`${prefix}-open`));
    expect(new Webhook(account.loop.secret).verify(open!.body, headersOf(open!))).toMatchObject({
      id: `${prefix}-open`,
      type: 'open',
      message,
      time: at.time,
    });
    const [click] = await receiver.waitFor(byId(`${prefix}-click`));
    expect(new Webhook(account.loop.secret).verify(click!.body, headersOf(click!))).toMatchObject({
      type: 'click',
      fields: { big: BIG },
    });
  });

  it('signs with both secrets during a rotation: the old one and the new one each verify', async () => {
    const rotated = await call('POST', `/v1/loops/${account.loop.id}/secret/rotate`, { key: account.apiKey });
    expect(rotated.status).toBe(200);
    const id = `raw-rotated-${Date.now()}`;
    await send(account.apiKey, [{ id, type: 'open', message: `${id}-msg` }]);
    const [post] = await receiver.waitFor(byId(id));
    expect(String(post!.headers['webhook-signature']).split(' ')).toEqual([
      expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    ]);
    expectVerifiedByBoth(post!, { standard: account.loop.secret, svix: rotated.body.secret });
    expectVerifiedByBoth(post!, { standard: rotated.body.secret, svix: account.loop.secret });
  });
});
