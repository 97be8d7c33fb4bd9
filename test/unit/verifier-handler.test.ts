import type { Context, ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoopRecord } from '#shared/loops/loop.ts';
import { PENDING_VERIFICATION, itemKeys } from '#shared/store/table.ts';
import { NOW, lambdaContext, loopRecord, scheduledEvent } from './factories.ts';
import { FakeTable } from './fake-table.ts';
import { type Loopback, startLoopback } from './loopback.ts';

const TABLE_NAME = 'feedback-loops-table';

type Handler = (event: ScheduledEvent, context: Context) => Promise<void>;
let handler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
let server: Loopback;
const table = new FakeTable(TABLE_NAME);
const context = lambdaContext('verifier');

beforeAll(async () => {
  process.env.AWS_REGION ??= 'eu-west-1';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.TABLE_NAME = TABLE_NAME;
  process.env.ALLOW_HTTP_TARGETS = 'true';
  process.env.ALLOWED_TARGET_CIDRS = '127.0.0.0/8';
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

describe('verifier: the scheduled re-check (SPEC §6)', () => {
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
