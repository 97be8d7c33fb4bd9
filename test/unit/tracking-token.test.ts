import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rotated, signingKey, verifyingKeys, type TrackingKey } from '#shared/accounts/tracking-keys.ts';
import { LIMITS } from '#shared/events/mail-event.ts';
import { REFERER_MAX_BYTES, USERAGENT_MAX_BYTES, trackedEvent, trackedEventId } from '#shared/events/tracked-hit.ts';
import { type TrackingClaims, readToken, signToken, trackingUrl, verifyToken } from '#shared/events/tracking-token.ts';

const SECRET = 'trk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
const ACCOUNT = 'acc_01JDACC0000000000000000001';
const open = { keyId: 'k1k2k3k4', accountId: ACCOUNT, message: 'msg-2026-11-21-0001' };
const click = { ...open, url: 'https://shop.example.com/sale?utm_source=mail&x=1#top' };

/** The token's payload parts, changed one at a time, re-encoded and re-assembled with the old signature. */
function withPart(token: string, index: number, value: string): string {
  const [payload, signature] = token.split('.') as [string, string];
  const parts = Buffer.from(payload, 'base64url').toString('utf8').split('\u0000');
  parts[index] = value;
  return `${Buffer.from(parts.join('\u0000')).toString('base64url')}.${signature}`;
}

describe('tracking tokens', () => {
  it('reads back what it signed, and verifies with the key that signed it only', () => {
    for (const claims of [open, click] as TrackingClaims[]) {
      const token = signToken(claims, SECRET);
      const read = readToken(claims.url ? 'click' : 'open', token);
      expect(read?.claims).toEqual(claims);
      expect(verifyToken(read!, SECRET)).toBe(true);
      expect(verifyToken(read!, `${SECRET}x`)).toBe(false);
    }
  });

  it('is a fixed function of its input: the documented algorithm', () => {
    // The same value the PHP, Node and Python examples of docs/tracking.md must produce (test/twin/tracking.test.ts).
    const token = signToken(click, SECRET);
    const payload = Buffer.from(`k1k2k3k4\u0000${ACCOUNT}\u0000msg-2026-11-21-0001\u0000${click.url}`);
    const mac = createHmac('sha256', SECRET).update(payload).digest().subarray(0, 16);
    expect(token).toBe(`${payload.toString('base64url')}.${mac.toString('base64url')}`);
  });

  it.each([
    ['keyId', 0, 'k1k2k3k5'],
    ['accountId', 1, 'acc_01JDACC0000000000000000002'],
    ['message', 2, 'msg-2026-11-21-0002'],
    ['url', 3, 'https://evil.example.com/'],
  ])('refuses a token whose %s was changed', (_name, index, value) => {
    const tampered = withPart(signToken(click, SECRET), index, value);
    const read = readToken('click', tampered);
    expect(read === undefined || !verifyToken(read, SECRET)).toBe(true);
  });

  it('refuses a changed signature, an unsigned token and malformed ones', () => {
    const token = signToken(click, SECRET);
    const [payload, signature] = token.split('.') as [string, string];
    const flipped = Buffer.from(signature, 'base64url');
    flipped[0]! ^= 1;
    expect(verifyToken(readToken('click', `${payload}.${flipped.toString('base64url')}`)!, SECRET)).toBe(false);
    for (const bad of [
      payload,
      `${payload}.`,
      `${payload}.${signature}.x`,
      `${payload}.${signature.slice(0, -2)}`,
      `${payload}=.${signature}`,
      `${payload}.${signature}==`,
      '',
      '.',
      'not a token',
      'x'.repeat(10_000),
    ])
      expect(readToken('click', bad)).toBeUndefined();
  });

  it('never takes an open token for a click or a click token for an open', () => {
    expect(readToken('click', signToken(open, SECRET))).toBeUndefined();
    expect(readToken('open', signToken(click, SECRET))).toBeUndefined();
  });

  it('refuses to sign or read what it cannot carry: control characters, non-web URLs, user info', () => {
    for (const url of [
      'javascript:alert(1)',
      'ftp://example.com/',
      '/relative',
      'https://user:pw@example.com/',
      'https://example.com/\n',
    ])
      expect(() => signToken({ ...open, url }, SECRET)).toThrow();
    expect(() => signToken({ ...open, message: 'a\u0000b' }, SECRET)).toThrow();
    expect(() => signToken({ ...open, message: '' }, SECRET)).toThrow();
    expect(readToken('click', withPart(signToken(click, SECRET), 3, 'javascript:alert(1)'))).toBeUndefined();
  });

  it('makes URLs under the base, and a typical click URL stays short', () => {
    const url = trackingUrl('https://t.example.com/', click, SECRET);
    expect(url.startsWith('https://t.example.com/t/c/')).toBe(true);
    expect(trackingUrl('https://t.example.com', open, SECRET).startsWith('https://t.example.com/t/o/')).toBe(true);
    const typical = trackingUrl(
      'https://t.example.com',
      {
        keyId: 'k1k2k3k4',
        accountId: ACCOUNT,
        message: '01JDMSG0000000000000000001',
        url: 'https://www.example.com/products/winter-sale?utm_source=newsletter',
      },
      SECRET,
    );
    // 227 characters: a 26-character message id and a 66-character link on an own domain.
    expect(typical.length).toBe(227);
  });
});

describe('tracking keys', () => {
  const at = (iso: string) => new Date(iso);
  const first = rotated([], at('2026-01-01T00:00:00Z'), 365, false);

  it('makes a trk_ key with a short id, the one that signs', () => {
    expect(first.created.secret).toMatch(/^trk_[A-Za-z0-9_-]{43}$/);
    expect(first.created.keyId).toMatch(/^[a-z0-9]{8}$/);
    expect(signingKey(first.keys)).toEqual(first.created);
  });

  it('keeps a rotated-away key verifying for the link days, then drops it', () => {
    const second = rotated(first.keys, at('2026-02-01T00:00:00Z'), 365, false);
    expect(signingKey(second.keys)?.keyId).toBe(second.created.keyId);
    const ids = (keys: TrackingKey[]) => keys.map((key) => key.keyId);
    expect(ids(verifyingKeys(second.keys, at('2027-01-31T23:59:59Z'), 365))).toEqual(ids(second.keys));
    expect(ids(verifyingKeys(second.keys, at('2027-02-01T00:00:00Z'), 365))).toEqual([second.created.keyId]);
    // A rotation after the days drops the expired key for good.
    expect(ids(rotated(second.keys, at('2027-03-01T00:00:00Z'), 365, false).keys)).not.toContain(first.created.keyId);
  });

  it('revokes every earlier key when asked', () => {
    const revoked = rotated(first.keys, at('2026-02-01T00:00:00Z'), 365, true);
    expect(revoked.keys).toEqual([revoked.created]);
  });
});

describe('a tracked hit', () => {
  const hit = {
    kind: 'click' as const,
    claims: click,
    requestId: 'JKJaXmPLvHcESHA=',
    receivedAt: new Date('2026-11-21T10:00:00.000Z'),
    method: 'GET',
    sourceIp: '203.0.113.7',
    headers: {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
      referer: 'https://mail.example.net/',
      'x-forwarded-for': '198.51.100.1',
    },
  };

  it('is a click with the request’s ip (the connection’s, not a header), user agent, referer and receipt time', () => {
    expect(trackedEvent(hit)).toEqual({
      id: trackedEventId('JKJaXmPLvHcESHA='),
      type: 'click',
      message: click.message,
      timestamp: '2026-11-21T10:00:00.000Z',
      ip: '203.0.113.7',
      useragent: hit.headers['user-agent'],
      referer: 'https://mail.example.net/',
      original: click.url,
      machine: false,
    });
  });

  it('has an id of the request: the same for a retried invocation, another for another request', () => {
    expect(trackedEventId('a')).toBe(trackedEventId('a'));
    expect(trackedEventId('a')).not.toBe(trackedEventId('b'));
    expect(trackedEventId('JKJaXmPLvHcESHA=')).toMatch(/^evt_t[0-9A-V]{27}$/);
  });

  it('has the event’s limits on user agent and referer', () => {
    expect([USERAGENT_MAX_BYTES, REFERER_MAX_BYTES]).toEqual([LIMITS.useragentMaxBytes, LIMITS.refererMaxBytes]);
  });

  it('cuts a long user agent to the event’s limit and drops control characters', () => {
    const event = trackedEvent({ ...hit, headers: { 'user-agent': `a\u0001${'é'.repeat(600)}` } });
    expect(Buffer.byteLength(event.useragent!)).toBeLessThanOrEqual(1024);
    expect(event.useragent!.startsWith('aé')).toBe(true);
    expect(event.useragent).not.toMatch(/\uFFFD/);
    expect(event).not.toHaveProperty('referer');
  });

  it('is an open without original, and a machine when the request says so', () => {
    const event = trackedEvent({ ...hit, kind: 'open', claims: open, method: 'HEAD' });
    expect(event).toMatchObject({ type: 'open', machine: true });
    expect(event).not.toHaveProperty('original');
  });
});
