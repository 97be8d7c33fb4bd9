import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { verifiedJson as verified } from '../support/webhooks.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { seedAccount } from '../support/twin-seed.ts';
import { sleep } from '../support/wait.ts';

describe('enrichment: later events of a message carry what its sent event said', () => {
  let receiver: Loopback;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  const events = ['sent', 'open', 'click', 'bounce', 'unsubscribe'];

  beforeAll(async () => {
    receiver = await startLoopback();
    account = await seedAccount(receiver, { path: '/hook', format: 'json', events });
  });
  afterAll(() => receiver.close());

  const send = async (body: unknown) => {
    const answer = await call('POST', '/v1/events', { key: account.apiKey, body });
    expect(answer.status).toBe(202);
    return answer.body.ids as string[];
  };
  const deliveryOf = async (id: string) => {
    const [post] = await receiver.waitFor((request) => request.headers['webhook-id'] === id);
    return verified(account.loop.secret, post!);
  };

  it('fills recipient, profile, fields and tags of a later open from the sent event', async () => {
    const message = `enrich-${Date.now()}`;
    const [sentId] = await send({
      type: 'sent',
      message,
      recipient: 'zoe@example.com',
      profile: 'p-42',
      // Numbers a DynamoDB number cannot hold travel too.
      // A kilobyte of profile text makes the stored context a deflated one.
      fields: {
        firstname: 'Zoë',
        plan: 'pro',
        score: 7,
        vip: true,
        big: 1e21,
        tiny: 1e-200,
        notes: 'Zoë … '.repeat(100),
      },
      tags: ['news', 'nov'],
    });
    await deliveryOf(sentId!);
    const [openId] = await send({ type: 'open', message, ip: '203.0.113.7' });
    expect(await deliveryOf(openId!)).toMatchObject({
      type: 'open',
      message,
      ip: '203.0.113.7',
      recipient: 'zoe@example.com',
      profile: 'p-42',
      fields: {
        firstname: 'Zoë',
        plan: 'pro',
        score: 7,
        vip: true,
        big: 1e21,
        tiny: 1e-200,
        notes: 'Zoë … '.repeat(100),
      },
      tags: ['news', 'nov'],
    });
  });

  it("keeps the event's own values where it has them, and adds the context's other fields", async () => {
    const message = `own-${Date.now()}`;
    const [sentId] = await send({
      type: 'sent',
      message,
      recipient: 'a@example.com',
      profile: 'p-1',
      fields: { firstname: 'Jane', plan: 'basic' },
      tags: ['old'],
    });
    await deliveryOf(sentId!);
    const [clickId] = await send({
      type: 'click',
      message,
      original: 'https://example.com/',
      recipient: 'b@example.com',
      fields: { plan: 'pro' },
      tags: ['new'],
    });
    const click = await deliveryOf(clickId!);
    expect(click).toMatchObject({ recipient: 'b@example.com', profile: 'p-1', tags: ['new'] });
    expect(click.fields).toEqual({ plan: 'pro', firstname: 'Jane' });
  });

  it('enriches the other events of a message sent in the same request as its sent event', async () => {
    const message = `batch-${Date.now()}`;
    const ids = await send({
      events: [
        { type: 'bounce', message, code: '550' },
        { type: 'sent', message, recipient: 'same@example.com', tags: ['t'] },
        { type: 'unsubscribe', message },
      ],
    });
    expect(await deliveryOf(ids[0]!)).toMatchObject({ type: 'bounce', recipient: 'same@example.com', tags: ['t'] });
    expect(await deliveryOf(ids[2]!)).toMatchObject({ type: 'unsubscribe', recipient: 'same@example.com' });
  });

  it('delivers an event of a message nobody sent as it came', async () => {
    const message = `unknown-${Date.now()}`;
    const [openId] = await send({ type: 'open', message });
    const open = await deliveryOf(openId!);
    expect(open).toMatchObject({ type: 'open', message });
    for (const name of ['recipient', 'profile', 'fields', 'tags']) expect(open).not.toHaveProperty(name);
  });

  it('keeps context per account: another account with the same message id gets nothing of it', async () => {
    const message = `shared-${Date.now()}`;
    const [sentId] = await send({ type: 'sent', message, recipient: 'private@example.com', tags: ['secret'] });
    await deliveryOf(sentId!);
    const otherReceiver = await startLoopback();
    try {
      const other = await seedAccount(otherReceiver, { path: '/hook', format: 'json', events: ['open'] });
      const answer = await call('POST', '/v1/events', { key: other.apiKey, body: { type: 'open', message } });
      expect(answer.status).toBe(202);
      const [post] = await otherReceiver.waitFor(() => true);
      const open = verified(other.loop.secret, post!);
      expect(open).not.toHaveProperty('recipient');
      expect(open).not.toHaveProperty('tags');
    } finally {
      await otherReceiver.close();
    }
  });
});

describe('idempotency by client id', () => {
  let receiver: Loopback;
  let account: Awaited<ReturnType<typeof seedAccount>>;

  beforeAll(async () => {
    receiver = await startLoopback();
    account = await seedAccount(receiver, { path: '/hook', events: ['open', 'click'] });
  });
  afterAll(() => receiver.close());

  it('accepts the same id again with 202 and the same id, and delivers it once', async () => {
    const id = `once-${Date.now()}`;
    for (let round = 0; round < 3; round++) {
      const answer = await call('POST', '/v1/events', { key: account.apiKey, body: { id, type: 'open', message: id } });
      expect(answer.status).toBe(202);
      expect(answer.body.ids).toEqual([id]);
    }
    await receiver.waitFor((request) => request.headers['webhook-id'] === id);
    await sleep(3000);
    expect(receiver.posts().filter((request) => request.headers['webhook-id'] === id)).toHaveLength(1);
  });

  it('delivers once when duplicates arrive at the same moment', async () => {
    const ids = Array.from({ length: 5 }, (_, index) => `race-${Date.now()}-${index}`);
    const requests = Array.from({ length: 8 }, () =>
      call('POST', '/v1/events', {
        key: account.apiKey,
        body: { events: ids.map((id) => ({ id, type: 'click', message: id, original: 'https://example.com/' })) },
      }),
    );
    for (const answer of await Promise.all(requests)) expect(answer.status).toBe(202);
    for (const id of ids) await receiver.waitFor((request) => request.headers['webhook-id'] === id);
    await sleep(3000);
    for (const id of ids) {
      expect(receiver.posts().filter((request) => request.headers['webhook-id'] === id)).toHaveLength(1);
    }
  });

  it('keeps ids apart per account', async () => {
    const id = `mine-${Date.now()}`;
    const otherReceiver = await startLoopback();
    try {
      const other = await seedAccount(otherReceiver, { path: '/hook', events: ['open'] });
      await call('POST', '/v1/events', { key: account.apiKey, body: { id, type: 'open', message: id } });
      await call('POST', '/v1/events', { key: other.apiKey, body: { id, type: 'open', message: id } });
      await receiver.waitFor((request) => request.headers['webhook-id'] === id);
      await otherReceiver.waitFor((request) => request.headers['webhook-id'] === id);
    } finally {
      await otherReceiver.close();
    }
  });

  it('delivers events without a client id every time, as new events', async () => {
    const message = `no-id-${Date.now()}`;
    for (let round = 0; round < 2; round++) {
      const answer = await call('POST', '/v1/events', { key: account.apiKey, body: { type: 'open', message } });
      expect(answer.status).toBe(202);
    }
    const posts = await receiver.waitFor((request) => new URLSearchParams(request.body).get('message') === message, 2);
    expect(new Set(posts.map((post) => post.headers['webhook-id'])).size).toBe(2);
  });
});
