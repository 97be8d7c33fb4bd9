import { describe, expect, inject, it } from 'vitest';
import { answerPosts, startLoopback } from '../support/loopback.ts';
import { SETTINGS, runNpmStart, startThroughNpm } from '../support/npm-start.ts';
import { until } from '../support/wait.ts';

/** Where the twin must behave as API Gateway does, and say no more than it should. */
describe('the twin at its edges', () => {
  it('answers a path that starts with two slashes as that path, not as another host’s URL', async () => {
    const { apiUrl } = inject('twin');
    const response = await fetch(`${apiUrl}//evil.example/v1/health`);
    expect(response.status).toBe(404);
    expect((await fetch(`${apiUrl}/v1/health`)).status).toBe(200);
  });

  it('runs a schedule named without its CloudFormation hash suffix, and says which ran', async () => {
    const { controlUrl } = inject('twin');
    const ran = await fetch(`${controlUrl}/schedules/VerificationSchedule`, { method: 'POST' });
    expect(ran.status).toBe(200);
    expect(((await ran.json()) as { ran: string }).ran).toMatch(/^VerificationSchedule[0-9A-F]{8}$/);
    const vague = await fetch(`${controlUrl}/schedules/Schedule`, { method: 'POST' });
    expect(vague.status).toBe(404);
    expect(((await vague.json()) as { error: string }).error).toMatch(/"Schedule" names 2 rules; there are: /);
    const unknown = await fetch(`${controlUrl}/schedules/Nothing`, { method: 'POST' });
    expect(((await unknown.json()) as { error: string }).error).toMatch(/No scheduled rule "Nothing"/);
  });

  it('does not print an admin key it was given in ADMIN_API_KEY, and uses it', async () => {
    const adminKey = `fl-test-${'k'.repeat(40)}`;
    const { npm, apiUrl, output } = await startThroughNpm({ ADMIN_API_KEY: adminKey });
    const exited = new Promise((resolve) => npm.once('exit', resolve));
    try {
      expect(output()).not.toContain(adminKey);
      expect(output()).toMatch(/Admin key\s+taken from ADMIN_API_KEY/);
      // The banner lists what differs from the defaults: the twin's own and the command line's.
      expect(output()).toMatch(
        /Settings\s+retrySchedule=1,1,1 deliveryTimeoutSeconds=2 allowHttpTargets=true allowedTargetCidrs=127\.0\.0\.0\/8,::1\/128\s/,
      );
      const accounts = await fetch(`${apiUrl}/v1/accounts`, { headers: { authorization: `Bearer ${adminKey}` } });
      expect(accounts.status).toBe(200);
    } finally {
      process.kill(npm.pid!, 'SIGINT');
      await exited;
    }
    expect(output()).toMatch(/SIGINT: stopping the twin…\n[^]*The twin stopped: /);
  });

  it('stops with the right command when npm swallowed -c (given without --)', async () => {
    const { code, output } = await runNpmStart(['-c', 'deliveryTimeoutSeconds=3', '-c', 'retrySchedule=1,1,2']);
    expect(code).toBe(1);
    expect(output).toContain('npm took "-c retrySchedule=1,1,2" for its own option');
    expect(output).toContain('npm start -- -c retrySchedule=1,1,2');
    expect(output).not.toMatch(/ready in/);
  });

  it('says what -c needs when it has no value', async () => {
    const { code, output } = await runNpmStart(['--', ...SETTINGS, '-c']);
    expect(code).toBe(1);
    expect(output).toContain('-c needs a setting as key=value: npm start -- -c retrySchedule=1,1,2');
  });

  it("prints a retry with the receiver's status, and a delivery given up as recorded under failures", async () => {
    const adminKey = `fl-test-${'r'.repeat(40)}`;
    const receiver = await startLoopback({ answer: answerPosts(() => 500) });
    const { npm, apiUrl, output } = await startThroughNpm({ ADMIN_API_KEY: adminKey });
    const exited = new Promise((resolve) => npm.once('exit', resolve));
    const post = async (path: string, key: string, body?: unknown) => {
      const answer = await fetch(`${apiUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await answer.json()) as Record<string, any>;
    };
    try {
      const account = await post('/v1/accounts', adminKey, { name: 'Output test' });
      const loop = await post('/v1/loops', account.apiKey.key, {
        url: `${receiver.origin}/hooks/out.php`,
        events: ['open'],
      });
      receiver.serve(`/hooks/${loop.verification.file}`, { body: loop.verification.content });
      expect((await post(`/v1/loops/${loop.id}/verify`, account.apiKey.key)).status).toBe('verified');
      await post('/v1/events', account.apiKey.key, { type: 'open', message: 'm', recipient: 'jane@example.com' });
      // retrySchedule 1,1,1: three retries, then the fourth attempt's failure is recorded.
      await until('the delivery is given up', () => /recorded under failures/.test(output()), 60_000);
      const deliverLines = output()
        .split('\n')
        .filter((line) => /^\S+\s+deliver\s/.test(line));
      expect(deliverLines.filter((line) => line.includes('returned to the queue for a retry'))).toEqual(
        Array(3).fill(
          expect.stringMatching(/ ERR .*1 failed, 1 returned to the queue for a retry; answers: HTTP 500$/),
        ),
      );
      expect(deliverLines.at(-1)).toMatch(/ ERR .*1 failed, 1 recorded under failures; answers: HTTP 500$/);
      expect(output()).not.toMatch(/deliver\s+ok .* done$/m);
    } finally {
      process.kill(npm.pid!, 'SIGINT');
      await exited;
      await receiver.close();
    }
  });
});
