import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { seedAccount } from '../support/twin-seed.ts';

const formOf = (body: string) => new URLSearchParams(body);

describe('an event from the API to the receiver', () => {
  let receiver: Loopback;
  let account: Awaited<ReturnType<typeof seedAccount>>;

  beforeAll(async () => {
    receiver = await startLoopback();
    account = await seedAccount(receiver);
  });
  afterAll(() => receiver.close());

  it('POSTs each subscribed event to the loop, form-encoded and signed', async () => {
    const message = `msg-${Date.now()}`;
    const answer = await call('POST', '/v1/events', {
      key: account.apiKey,
      body: {
        events: [
          { id: `${message}-open`, type: 'open', message, ip: '203.0.113.7', tags: ['news', 'nov'] },
          { type: 'click', message, original: 'https://example.com/offer', fields: { firstname: 'Jane' } },
          { type: 'bounce', message, code: '550' },
        ],
      },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.accepted).toBe(3);
    expect(answer.body.ids[0]).toBe(`${message}-open`);
    expect(answer.body.ids[1]).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);

    const posts = await receiver.waitFor((request) => formOf(request.body).get('message') === message, 2);
    const byType = Object.fromEntries(posts.map((post) => [formOf(post.body).get('type'), post]));
    expect(Object.keys(byType).sort()).toEqual(['click', 'open']);

    const open = byType.open!;
    expect(open.method).toBe('POST');
    expect(open.path).toBe('/hooks/copernica.php');
    expect(open.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(open.headers['user-agent']).toMatch(/^FeedbackLoops\//);
    expect(open.headers['webhook-id']).toBe(`${message}-open`);
    const form = formOf(open.body);
    expect(form.get('ip')).toBe('203.0.113.7');
    expect(form.getAll('tags[]')).toEqual(['news', 'nov']);
    expect(formOf(byType.click!.body).get('fields[firstname]')).toBe('Jane');

    // The Standard Webhooks reference library computes the same signature with the loop's secret.
    // (Its verify() also JSON-parses the body, so it is used on form bodies through sign().)
    const timestamp = Number(open.headers['webhook-timestamp']);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
    const expected = new Webhook(account.loop.secret).sign(`${message}-open`, new Date(timestamp * 1000), open.body);
    expect(open.headers['webhook-signature']).toBe(expected);

    // The bounce was accepted but this loop did not subscribe to it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.posts().filter((request) => formOf(request.body).get('type') === 'bounce')).toEqual([]);
  });

  it('accepts nothing from a batch with one bad event, and says where the problem is', async () => {
    const message = `bad-${Date.now()}`;
    const answer = await call('POST', '/v1/events', {
      key: account.apiKey,
      body: {
        events: [
          { type: 'open', message },
          { type: 'opened', message },
        ],
      },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_events');
    expect(answer.body.error.details).toEqual([expect.objectContaining({ path: 'events[1].type' })]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.posts().filter((request) => formOf(request.body).get('message') === message)).toEqual([]);
  });
});

describe('a loop in json format', () => {
  it('receives one JSON object per event that a Standard Webhooks library verifies', async () => {
    const receiver = await startLoopback();
    const account = await seedAccount(receiver, { path: '/hook', format: 'json', events: ['bounce'] });
    const message = `json-${Date.now()}`;
    const sent = {
      type: 'bounce',
      message,
      code: '550',
      extended: '5.1.1',
      tags: ['a'],
      fields: { plan: 'pro', age: 42, vip: true },
    };
    expect((await call('POST', '/v1/events', { key: account.apiKey, body: sent })).status).toBe(202);
    const [post] = await receiver.waitFor(() => true);
    expect(post!.headers['content-type']).toBe('application/json');
    const payload = new Webhook(account.loop.secret).verify(post!.body, {
      'webhook-id': String(post!.headers['webhook-id']),
      'webhook-timestamp': String(post!.headers['webhook-timestamp']),
      'webhook-signature': String(post!.headers['webhook-signature']),
    });
    expect(payload).toMatchObject({
      type: 'bounce',
      message,
      code: '550',
      extended: '5.1.1',
      tags: ['a'],
      fields: { plan: 'pro', age: 42, vip: true },
    });
    expect((payload as { timestamp: string }).timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    await receiver.close();
  });
});

describe('a receiver that fails', () => {
  it('gets the same event again, with the same webhook-id, until it answers 2xx', async () => {
    const receiver = await startLoopback({ answer: answerPosts((_request, index) => (index < 2 ? 503 : 204)) });
    const account = await seedAccount(receiver, { path: '/hook' });
    const message = `retry-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: account.apiKey, body: { type: 'open', message } })).status).toBe(
      202,
    );
    const attempts = await receiver.waitFor(() => true, 3);
    expect(new Set(attempts.map((attempt) => attempt.headers['webhook-id'])).size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(receiver.posts()).toHaveLength(3);
    await receiver.close();
  });
});
