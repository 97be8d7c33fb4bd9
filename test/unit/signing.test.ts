import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, signatureHeader, webhookHeaders } from '#shared/delivery/signing.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const body = '{"id":"evt_1","type":"open","message":"Grüße 😀"}';

function headersFor(secrets: string[], payload = body) {
  return webhookHeaders({
    id: 'evt_1',
    timestamp: nowSeconds(),
    body: payload,
    secrets,
    contentType: 'application/json',
    userAgent: 'FeedbackLoops/1.2.3',
  });
}

describe('generateSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes, different every time', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });
});

describe('signatureHeader', () => {
  it('matches the Standard Webhooks test vector', () => {
    expect(
      signatureHeader({
        id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1614265330,
        body: '{"test": 2432232314}',
        secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs like the reference library, one v1 signature per secret, current first', () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const input = { id: 'evt_1', timestamp: 1795255200, body };
    const reference = (secret: string) =>
      new Webhook(secret).sign(input.id, new Date(input.timestamp * 1000), input.body);
    expect(signatureHeader({ ...input, secrets: [current] })).toBe(reference(current));
    expect(signatureHeader({ ...input, secrets: [current, previous] })).toBe(
      `${reference(current)} ${reference(previous)}`,
    );
  });

  it('refuses to sign without a secret', () => {
    expect(() => signatureHeader({ id: 'evt_1', timestamp: 1, body, secrets: [] })).toThrow(/at least one secret/);
  });
});

describe('webhookHeaders', () => {
  it('gives the content type, user agent and Standard Webhooks headers', () => {
    const secret = generateSecret();
    const timestamp = nowSeconds();
    expect(
      webhookHeaders({
        id: 'evt_1',
        timestamp,
        body,
        secrets: [secret],
        contentType: 'application/json',
        userAgent: 'FeedbackLoops/1.2.3',
      }),
    ).toEqual({
      'content-type': 'application/json',
      'user-agent': 'FeedbackLoops/1.2.3',
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
  });

  it('verifies with the reference library, for JSON and form bodies', () => {
    const secret = generateSecret();
    expect(new Webhook(secret).verify(body, headersFor([secret]))).toEqual({
      id: 'evt_1',
      type: 'open',
      message: 'Grüße 😀',
    });
    const form = 'id=evt_1&fields%5Bfirst+name%5D=J%C3%BCrgen&tags%5B%5D=a';
    expect(() => new Webhook(secret).verify(form, headersFor([secret], form), { jsonParse: false })).not.toThrow();
  });

  it('during a rotation carries two signatures, and either secret alone verifies', () => {
    const [current, previous, stranger] = [generateSecret(), generateSecret(), generateSecret()];
    const headers = headersFor([current, previous]);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(stranger).verify(body, headers)).toThrow('No matching signature found');
  });

  it('fails verification when the body, id or timestamp is tampered with', () => {
    const secret = generateSecret();
    const headers = headersFor([secret]);
    const verify = (payload: string, changed: Record<string, string>) => () =>
      new Webhook(secret).verify(payload, { ...headers, ...changed });
    expect(verify(body.replace('open', 'click'), {})).toThrow('No matching signature found');
    expect(verify(body, { 'webhook-id': 'evt_2' })).toThrow('No matching signature found');
    expect(verify(body, { 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) })).toThrow(
      'No matching signature found',
    );
  });
});
