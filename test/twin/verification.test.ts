import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { createAccount } from '../support/twin-seed.ts';

/** docs/api.md §6 as an account goes through it: create a loop, host the file, get verified. */
describe('verifying a loop', () => {
  let receiver: Loopback;
  let apiKey: string;

  beforeAll(async () => {
    receiver = await startLoopback();
    ({ apiKey } = await createAccount('Verifier Inc'));
  });
  afterAll(() => receiver.close());

  const newLoop = async (path = '/dir/script.php', events = ['open']) => {
    const answer = await call('POST', '/v1/loops', { key: apiKey, body: { url: `${receiver.origin}${path}`, events } });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const verify = (id: string) => call('POST', `/v1/loops/${id}/verify`, { key: apiKey });
  const get = async (id: string) => (await call('GET', `/v1/loops/${id}`, { key: apiKey })).body;

  it('gives each loop its own file and names both places it may be', async () => {
    const first = await newLoop();
    const second = await newLoop();
    expect(first.status).toBe('unverified');
    expect(first.verification.file).toMatch(/^fl-[0-9a-f]{20}\.txt$/);
    expect(first.verification.locations).toEqual([
      `${receiver.origin}/dir/${first.verification.file}`,
      `${receiver.origin}/${first.verification.file}`,
    ]);
    expect(second.verification.file).not.toBe(first.verification.file);
    expect(second.verification.content).not.toBe(first.verification.content);
    expect(first.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
    expect((await get(first.id)).secret).toBeUndefined();
  });

  it("verifies a loop whose file is in the script's directory", async () => {
    const loop = await newLoop('/dir/script.php');
    receiver.serve(`/dir/${loop.verification.file}`, { body: `  ${loop.verification.content}\n` });
    const answer = await verify(loop.id);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('verified');
    expect((await get(loop.id)).status).toBe('verified');
  });

  it('verifies a loop whose file is in the web root', async () => {
    const loop = await newLoop('/deep/er/hook.php');
    receiver.serve(`/${loop.verification.file}`, { body: loop.verification.content });
    const answer = await verify(loop.id);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('verified');
  });

  // Each case puts the same bad answer at both locations and expects 422 saying what was found.
  it.each([
    ['a file with other content', () => ({ body: 'not the content' }), /content does not match/],
    ['no file (404)', () => ({ status: 404, body: 'nope' }), /HTTP 404/],
    [
      'a redirect to the right file',
      (file: string) => ({ status: 302, headers: { location: `/elsewhere/${file}` } }),
      /HTTP 302, a redirect/,
    ],
    [
      'a file larger than 4 KiB',
      (_file: string, content: string) => ({ body: content + ' '.repeat(8 * 1024) }),
      /larger than 4 KiB/,
    ],
    [
      'a server slower than 5 s',
      (_file: string, content: string) => ({ body: content, delayMs: 6500 }),
      /no answer within 5 s/,
    ],
  ])('refuses %s with 422 and keeps the loop unverified', async (_name, answer, found) => {
    const loop = await newLoop('/case/hook.php');
    const { file, content } = loop.verification;
    receiver.serve(`/elsewhere/${file}`, { body: content });
    receiver.serve(`/case/${file}`, answer(file, content));
    receiver.serve(`/${file}`, answer(file, content));
    const response = await verify(loop.id);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('verification_failed');
    expect(response.body.error.details).toHaveLength(2);
    for (const [index, location] of loop.verification.locations.entries()) {
      expect(response.body.error.details[index].path).toBe(`verification.locations[${index}]`);
      expect(response.body.error.details[index].message).toContain(location);
      expect(response.body.error.details[index].message).toMatch(found);
    }
    const after = await get(loop.id);
    expect(after.status).toBe('unverified');
    expect(after.verification.lastError).toMatch(found);
    expect(Date.parse(after.verification.lastCheckedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('sends nothing to a loop before it is verified, and everything after', async () => {
    const loop = await newLoop('/later/hook.php', ['click']);
    const early = `early-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: apiKey, body: { type: 'click', message: early } })).status).toBe(
      202,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.posts().filter((post) => post.body.includes(early))).toEqual([]);

    receiver.serve(`/later/${loop.verification.file}`, { body: loop.verification.content });
    expect((await verify(loop.id)).status).toBe(200);
    const late = `late-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: apiKey, body: { type: 'click', message: late } })).status).toBe(
      202,
    );
    await receiver.waitFor((post) => post.path === '/later/hook.php' && post.body.includes(late));
  });

  it('is verified by the scheduled re-check, without POST …/verify', async () => {
    const loop = await newLoop('/scheduled/hook.php');
    receiver.serve(`/scheduled/${loop.verification.file}`, { body: loop.verification.content });
    const { controlUrl } = inject('twin');
    const { schedules } = (await (await fetch(`${controlUrl}/schedules`)).json()) as { schedules: string[] };
    const recheck = schedules.find((rule) => rule.startsWith('VerificationSchedule'));
    expect(recheck).toBeDefined();
    expect((await fetch(`${controlUrl}/schedules/${recheck}`, { method: 'POST' })).status).toBe(200);
    expect((await get(loop.id)).status).toBe('verified');
  });

  it('makes a loop unverified again, with a new file, when its url changes', async () => {
    const loop = await newLoop('/moving/hook.php');
    receiver.serve(`/moving/${loop.verification.file}`, { body: loop.verification.content });
    expect((await verify(loop.id)).body.status).toBe('verified');

    const moved = await call('PATCH', `/v1/loops/${loop.id}`, {
      key: apiKey,
      body: { url: `${receiver.origin}/moved/hook.php` },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.status).toBe('unverified');
    expect(moved.body.verification.file).not.toBe(loop.verification.file);
    expect(moved.body.verification.content).not.toBe(loop.verification.content);
    expect(moved.body.verification.locations[0]).toBe(`${receiver.origin}/moved/${moved.body.verification.file}`);

    // The old file proves nothing about the new address.
    receiver.serve(`/moved/${loop.verification.file}`, { body: loop.verification.content });
    expect((await verify(loop.id)).status).toBe(422);

    // A change that keeps the url keeps the verification.
    receiver.serve(`/moved/${moved.body.verification.file}`, { body: moved.body.verification.content });
    expect((await verify(loop.id)).status).toBe(200);
    const described = await call('PATCH', `/v1/loops/${loop.id}`, { key: apiKey, body: { description: 'production' } });
    expect(described.body).toMatchObject({ status: 'verified', description: 'production' });
  });
});
