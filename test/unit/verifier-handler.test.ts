import type { Context, ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { PENDING_VERIFICATION, itemKeys } from '#shared/store/table.ts';
import { nextCheckAt, recheckOrder } from '#shared/loops/verification.ts';
import { USER_AGENT } from '#shared/outbound/client.ts';
import { NOW, lambdaContext, loopRecord, scheduledEvent } from '../support/factories.ts';
import { FakeTable } from '../support/fake-table.ts';
import { functionEnvironment } from '../support/function-environment.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

const TABLE_NAME = functionEnvironment('verifier').TABLE_NAME!;

type Handler = (event: ScheduledEvent, context: Context) => Promise<void>;
let handler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
let server: Loopback;
const table = new FakeTable(TABLE_NAME);
const context = lambdaContext('verifier');

beforeAll(async () => {
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { clock } = await import('#shared/runtime/clock.ts');
  vi.spyOn(clock, 'now').mockImplementation(() => new Date(NOW));
  dynamoMock = mockClient(dynamo);
  server = await startLoopback();
  ({ handler } = (await import('../../functions/verifier/handler.ts')) as unknown as { handler: Handler });
});

afterAll(async () => {
  dynamoMock.restore();
  vi.restoreAllMocks();
  await server.close();
});

beforeEach(() => {
  dynamoMock.reset();
  table.clear();
  table.install(dynamoMock);
  server.received.length = 0;
  server.answer({ status: 404 });
});

/** An unverified loop on the loopback server, stored as the API stores it (in the verifier's index). */
function awaitingVerification(overrides: Partial<LoopRecord> = {}): LoopRecord {
  const loop = loopRecord({ url: `${server.origin}/hooks/script.php`, status: 'unverified', ...overrides });
  table.put({
    ...itemKeys.loop(loop.accountId, loop.id),
    gsi1pk: PENDING_VERIFICATION,
    gsi1sk: `${loop.verification.checkUntil}#${loop.id}`,
    ...loop,
  });
  return loop;
}

function stored(loop: LoopRecord): LoopRecord {
  return table.get(itemKeys.loop(loop.accountId, loop.id)) as unknown as LoopRecord;
}

/** The server holds each loop's file at `path` (relative to the origin). */
function serveFiles(files: Record<string, string>): void {
  server.answer((request) =>
    request.path in files ? { status: 200, body: `\n${files[request.path]}  \n` } : { status: 404 },
  );
}

const run = () => handler(scheduledEvent(NOW), context);

describe('verifier: the scheduled re-check (docs/api.md §6)', () => {
  it('marks a loop verified once its file is served in the directory of the script', async () => {
    const loop = awaitingVerification();
    serveFiles({ [`/hooks/${loop.verification.file}`]: loop.verification.content });

    await run();

    const saved = stored(loop);
    expect(saved.status).toBe('verified');
    expect(saved.verification.lastCheckedAt).toBe(NOW.toISOString());
    expect(saved.verification).not.toHaveProperty('lastError');
    // Verified loops leave the verifier's index.
    expect(saved).not.toHaveProperty('gsi1pk');
  });

  it('marks a loop verified when the file is in the web root', async () => {
    const loop = awaitingVerification();
    serveFiles({ [`/${loop.verification.file}`]: loop.verification.content });

    await run();
    expect(stored(loop).status).toBe('verified');
  });

  it('leaves a loop unverified, saying what it found at each location, when the file is not there', async () => {
    const loop = awaitingVerification();
    serveFiles({ [`/${loop.verification.file}`]: 'something else' });

    await run();

    const saved = stored(loop);
    expect(saved.status).toBe('unverified');
    expect(saved.verification.lastCheckedAt).toBe(NOW.toISOString());
    expect(saved.verification.lastError).toContain(`${server.origin}/hooks/${loop.verification.file}: HTTP 404`);
    expect(saved.verification.lastError).toContain(`${server.origin}/${loop.verification.file}: a file whose content`);
    expect(server.received.map((request) => request.method)).toEqual(['GET', 'GET']);
    // The same User-Agent as every delivery, so a receiver's logs and firewall see one client.
    expect(server.received.map((request) => request.headers['user-agent'])).toEqual([USER_AGENT, USER_AGENT]);
  });

  it('leaves alone a loop the account changed while it was being checked', async () => {
    const loop = awaitingVerification();
    const changed = {
      ...loop,
      url: `${server.origin}/elsewhere/hook.php`,
      updatedAt: new Date(NOW.getTime() - 1000).toISOString(),
    };
    server.answer((request) => {
      // The account moves the loop while the verifier fetches the old location.
      table.put({ ...itemKeys.loop(loop.accountId, loop.id), ...changed });
      return request.path === `/hooks/${loop.verification.file}`
        ? { status: 200, body: loop.verification.content }
        : { status: 404 };
    });

    await expect(run()).resolves.toBeUndefined();

    expect(stored(loop)).toMatchObject({ status: 'unverified', url: changed.url, updatedAt: changed.updatedAt });
    expect(stored(loop).verification).not.toHaveProperty('lastCheckedAt');
  });

  it('checks only loops whose 7-day window is still open', async () => {
    const open = awaitingVerification();
    const closed = awaitingVerification({
      verification: { file: 'fl-old.txt', content: 'old', checkUntil: new Date(NOW.getTime() - 1000).toISOString() },
    });
    serveFiles({
      [`/hooks/${open.verification.file}`]: open.verification.content,
      '/hooks/fl-old.txt': 'old',
    });

    await run();

    expect(stored(open).status).toBe('verified');
    expect(stored(closed).status).toBe('unverified');
    expect(server.received.some((request) => request.path.includes('fl-old.txt'))).toBe(false);
  });
});

describe('verifier: fair and bounded by the time the run has', () => {
  const OTHER_ACCOUNT = 'acc_01JDTEST0000000000000000BB';
  const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

  it("checks another account's loop in the first run however many hanging loops one account has, and stops in time", async () => {
    // 30 loops of one account whose server never answers, all made before the other account's loop.
    const hanging = Array.from({ length: 30 }, () => awaitingVerification({ url: `${server.origin}/hang/script.php` }));
    const good = awaitingVerification({ accountId: OTHER_ACCOUNT, createdAt: NOW.toISOString() });
    server.answer((request) =>
      request.path.startsWith('/hang/')
        ? new Promise(() => {})
        : request.path === `/hooks/${good.verification.file}`
          ? { status: 200, body: good.verification.content }
          : { status: 404 },
    );
    // An invocation with 9 s left: time for one round of checks (each may wait 5 s), not for two.
    const deadline = Date.now() + 9_000;
    const shortContext = { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };

    await handler(scheduledEvent(NOW), shortContext);

    expect(shortContext.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(stored(good).status).toBe('verified');
    const checked = hanging.filter((loop) => stored(loop).verification.lastCheckedAt);
    // The rest wait for the next run, where they come first.
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThan(hanging.length);
    for (const loop of checked) {
      expect(stored(loop).verification.timeouts).toBe(1);
      expect(stored(loop).verification.lastError).toContain('no answer within 5 s');
    }
  }, 20_000);

  it('takes turns across accounts, least recently checked first, never-checked loops before all', () => {
    const many = Array.from({ length: 5 }, (_, index) =>
      loopRecord({
        status: 'unverified',
        verification: { file: 'f', content: 'c', checkUntil: NOW.toISOString(), lastCheckedAt: minutesAgo(10 + index) },
      }),
    );
    const other = loopRecord({
      accountId: OTHER_ACCOUNT,
      status: 'unverified',
      verification: { file: 'f', content: 'c', checkUntil: NOW.toISOString(), lastCheckedAt: minutesAgo(5) },
    });
    const fresh = loopRecord({ status: 'unverified', createdAt: NOW.toISOString() });

    const order = recheckOrder([...many, other, fresh], NOW);

    expect(order.map((loop) => loop.id)).toEqual([
      fresh.id,
      other.id,
      many[4]!.id,
      many[3]!.id,
      many[2]!.id,
      many[1]!.id,
      many[0]!.id,
    ]);
  });

  it('backs off a loop whose server kept not answering: 10, 20, 40 minutes, then hourly', () => {
    const hangingFor = (timeouts: number, minutes: number) =>
      loopRecord({
        status: 'unverified',
        verification: {
          file: 'f',
          content: 'c',
          checkUntil: NOW.toISOString(),
          lastCheckedAt: minutesAgo(minutes),
          timeouts,
        },
      });
    const minutesUntilDue = (loop: LoopRecord) =>
      (nextCheckAt(loop) - Date.parse(loop.verification.lastCheckedAt!)) / 60_000;
    expect(nextCheckAt(hangingFor(1, 0))).toBe(0);
    expect([2, 3, 4, 5, 9].map((timeouts) => minutesUntilDue(hangingFor(timeouts, 0)))).toEqual([10, 20, 40, 60, 60]);

    const backedOff = hangingFor(4, 30);
    const dueAgain = hangingFor(4, 45);
    const once = hangingFor(1, 5);
    expect(recheckOrder([backedOff, dueAgain, once], NOW).map((loop) => loop.id)).toEqual([dueAgain.id, once.id]);
  });
});
