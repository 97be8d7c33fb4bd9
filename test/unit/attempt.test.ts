import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { MAX_RESPONSE_BYTES, attempt, classifyResponse, signedRequest } from '#shared/delivery/attempt.ts';
import { USER_AGENT } from '#shared/outbound/client.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { OutboundError, type OutboundRequest, type OutboundResponse } from '#shared/outbound/client.ts';
import { loopRecord, mailEvent, secretFor } from '../support/factories.ts';

const HOUR_MS = 60 * 60 * 1000;
const response = (status: number, headers: OutboundResponse['headers'] = {}): OutboundResponse => ({
  status,
  headers,
  body: '',
  truncated: false,
});

/**
 * Whether the reference library accepts the signature. Its `verify` also parses the body as JSON
 * once the signature matched, which a form body is not: only its own verification error counts.
 */
function verifies(secret: string, request: { body: string; headers: Record<string, string> }): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return false;
    return error instanceof SyntaxError;
  }
}

describe('signedRequest', () => {
  const event = mailEvent({ type: 'open', fields: { firstname: 'Jane', vip: true }, tags: ['a', 'b'] });

  it('POSTs the JSON body to the loop URL with Standard Webhooks headers a library verifies', () => {
    const now = new Date();
    const loop = loopRecord({ format: 'json' });
    const request = signedRequest(loop, toRecord(event), now, 10_000);

    expect(request).toMatchObject({
      method: 'POST',
      url: loop.url,
      timeoutMs: 10_000,
      maxResponseBytes: 64 * 1024,
    });
    expect(MAX_RESPONSE_BYTES).toBe(64 * 1024);
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': `FeedbackLoops/${packageJson.version}`,
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    });
    expect(USER_AGENT).toBe(`FeedbackLoops/${packageJson.version}`);
    expect(JSON.parse(request.body)).toMatchObject({ id: event.id, fields: { firstname: 'Jane', vip: true } });
    expect(new Webhook(loop.secrets[0]!.value).verify(request.body, request.headers)).toEqual(JSON.parse(request.body));
  });

  it('writes a form body (PHP bracket notation) for a form loop, signed over exactly those bytes', () => {
    const loop = loopRecord({ format: 'form' });
    const request = signedRequest(loop, toRecord(event), new Date(), 10_000);

    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.body).toContain('fields%5Bfirstname%5D=Jane');
    expect(request.body).toContain('tags%5B%5D=a&tags%5B%5D=b');
    expect(verifies(loop.secrets[0]!.value, request)).toBe(true);
    expect(verifies(secretFor('another'), request)).toBe(false);
  });

  it('signs with the current and the previous secret during a rotation, with the current only after it', () => {
    const now = new Date();
    const [current, previous] = [secretFor('current'), secretFor('previous')];
    const during = loopRecord({
      secrets: [{ value: current }, { value: previous, expiresAt: new Date(now.getTime() + HOUR_MS).toISOString() }],
    });
    const after = loopRecord({
      secrets: [{ value: current }, { value: previous, expiresAt: new Date(now.getTime() - 1).toISOString() }],
    });

    const signed = signedRequest(during, toRecord(event), now, 10_000);
    expect(signed.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifies(current, signed)).toBe(true);
    expect(verifies(previous, signed)).toBe(true);

    const later = signedRequest(after, toRecord(event), now, 10_000);
    expect(later.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifies(current, later)).toBe(true);
    expect(verifies(previous, later)).toBe(false);
  });
});

describe('classifyResponse', () => {
  const now = new Date('2026-11-21T10:00:00.000Z');

  it.each([200, 201, 202, 204, 299])('counts %i as delivered', (status) => {
    expect(classifyResponse(response(status), now, 12)).toEqual({ ok: true, status, durationMs: 12 });
  });

  it.each([100, 199, 301, 302, 304, 400, 404, 429, 500, 503])('counts %i as a failed attempt', (status) => {
    expect(classifyResponse(response(status), now, 5)).toEqual({
      ok: false,
      kind: 'status',
      status,
      error: `HTTP ${status}`,
      durationMs: 5,
    });
  });

  it('keeps the status of a 410 (Gone), which the decision reads to disable the loop', () => {
    expect(classifyResponse(response(410), now, 1)).toMatchObject({ ok: false, kind: 'status', status: 410 });
  });

  it('reads Retry-After in seconds or as an HTTP date, and ignores it when unreadable', () => {
    expect(classifyResponse(response(503, { 'retry-after': '120' }), now, 1)).toMatchObject({ retryAfter: 120 });
    expect(classifyResponse(response(429, { 'retry-after': 'Sat, 21 Nov 2026 10:05:00 GMT' }), now, 1)).toMatchObject({
      retryAfter: 300,
    });
    expect(classifyResponse(response(503, { 'retry-after': 'soon' }), now, 1)).not.toHaveProperty('retryAfter');
    expect(classifyResponse(response(200, { 'retry-after': '120' }), now, 1)).not.toHaveProperty('retryAfter');
  });
});

describe('attempt', () => {
  const request: OutboundRequest = {
    method: 'POST',
    url: 'https://receiver.example.com/hook',
    body: 'x',
    timeoutMs: 1000,
    maxResponseBytes: 1024,
  };
  const now = new Date();

  it('sends the request once and classifies the answer', async () => {
    const sent: OutboundRequest[] = [];
    const outcome = await attempt(
      async (outbound) => {
        sent.push(outbound);
        return response(500, { 'retry-after': '7' });
      },
      request,
      now,
      () => 42,
    );
    expect(sent).toEqual([request]);
    expect(outcome).toEqual({
      ok: false,
      kind: 'status',
      status: 500,
      error: 'HTTP 500',
      retryAfter: 7,
      durationMs: 42,
    });
  });

  it.each([
    ['timeout', 'no complete answer within 1000 ms'],
    ['connection', 'connect ECONNREFUSED 203.0.113.1:443'],
    ['blocked', '10.0.0.1 is a blocked address (private network)'],
  ] as const)(
    'turns a %s of the client into a failed attempt of that kind, without a status',
    async (failure, message) => {
      const outcome = await attempt(
        async () => {
          throw new OutboundError(failure, message);
        },
        request,
        now,
        () => 3,
      );
      expect(outcome).toEqual({ ok: false, kind: failure, error: `${failure}: ${message}`, durationMs: 3 });
    },
  );

  it('lets any other error through: a bug of ours is not the receiver’s failed attempt', async () => {
    const bug = new TypeError('cannot read properties of undefined');
    await expect(
      attempt(
        async () => {
          throw bug;
        },
        request,
        now,
      ),
    ).rejects.toBe(bug);
  });
});
