import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAILURE_RETENTION_DAYS, failureRecord } from '../../functions/shared/delivery/failure.ts';
import { expiresAfterDays, itemKeys } from '../../functions/shared/store/table.ts';
import { call } from '../support/twin-api.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { physicalId } from '../support/twin-resources.ts';
import { seedAccount } from '../support/twin-seed.ts';
import { sleep } from '../support/wait.ts';

/**
 * A replay after an outage (docs/api.md §3): the loop's failures, seeded straight into the table as
 * deliver records them, are each delivered once — however many replays are sent at once, however
 * often the client retries, and however big the backlog (one request does a few seconds' work at
 * most and says `"more": true`; the next goes on). REPLAY_BACKLOG=10000 runs the outage's size by hand.
 */

const BACKLOG = Number(process.env.REPLAY_BACKLOG ?? 600);

describe(`a backlog of ${BACKLOG} failures`, () => {
  let receiver: Loopback;
  let account: Awaited<ReturnType<typeof seedAccount>>;
  const run = `r${Date.now()}`;
  const ids = Array.from({ length: BACKLOG }, (_, index) => `${run}-${index}`);

  beforeAll(async () => {
    receiver = await startLoopback({ answer: answerPosts(() => 200) });
    account = await seedAccount(receiver, { path: '/hooks/replay.php', events: ['open'] });
    await seedFailures(account.accountId, account.loop.id, ids);
  }, 120_000);
  afterAll(() => receiver.close());

  const replay = () => call('POST', `/v1/loops/${account.loop.id}/failures/replay`, { key: account.apiKey });

  it('is delivered once each: five replays at once, then retries until none is left', async () => {
    const timings: number[] = [];
    let waited = 0;
    /** One replay as a client sends it: after a 429 it waits as Retry-After says and sends it again. */
    const timed = async (): Promise<{ replayed: number; more?: true }> => {
      const started = Date.now();
      const answer = await replay();
      timings.push(Date.now() - started);
      if (answer.status === 429) {
        const seconds = Number(answer.headers.get('retry-after'));
        expect(seconds).toBeGreaterThan(0);
        waited += seconds;
        await sleep(seconds * 1000);
        return timed();
      }
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      return answer.body;
    };
    const first = await Promise.all(Array.from({ length: 5 }, timed));
    let replayed = first.reduce((sum, answer) => sum + answer.replayed, 0);
    let more = first.some((answer) => answer.more);
    while (more) {
      const answer = await timed();
      replayed += answer.replayed;
      more = answer.more === true;
    }
    // Once more while the replays are in flight: nothing is queued twice.
    const again = await timed();
    expect(again).toEqual({ replayed: 0 });
    expect(replayed).toBe(BACKLOG);

    await receiver.waitFor((post) => String(post.headers['webhook-id']).startsWith(`${run}-`), BACKLOG, 600_000);
    await sleep(3_000);
    const posts = new Map<string, number>();
    for (const post of receiver.posts()) {
      const id = String(post.headers['webhook-id']);
      if (id.startsWith(`${run}-`)) posts.set(id, (posts.get(id) ?? 0) + 1);
    }
    expect([...posts.keys()].sort()).toEqual([...ids].sort());
    // Each was queued once (the replayed counts add up to the backlog); SQS and the SDK's own retries
    // deliver at least once (docs/api.md §5), which may add a rare second POST, never a replay's worth.
    const twice = [...posts.values()].filter((count) => count > 1).length;
    expect(twice).toBeLessThanOrEqual(Math.ceil(BACKLOG / 100));
    console.info(
      `replay of ${BACKLOG}: ${timings.length} requests (${waited} s waited after 429s), ${twice} POSTed twice, ` +
        `answered in ${timings.join(', ')} ms`,
    );
  }, 900_000);

  it('leaves nothing listed once the replays are delivered', async () => {
    for (let tries = 0; ; tries++) {
      const answer = await call('GET', `/v1/loops/${account.loop.id}/failures?limit=10`, { key: account.apiKey });
      if (answer.body.failures.length === 0) break;
      if (tries > 120) throw new Error(`still listed: ${JSON.stringify(answer.body.failures)}`);
      await sleep(500);
    }
  }, 120_000);
});

/** The failures as deliver records them (store/failures.ts recordFailure), 25 to a BatchWriteItem. */
async function seedFailures(accountId: string, loopId: string, ids: string[]) {
  const { endpoint, region, credentials } = inject('twin');
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials }));
  const now = new Date();
  const items = ids.map((id) => {
    const failure = failureRecord(
      {
        accountId,
        loopId,
        event: { id, type: 'open', message: `${id}-message`, timestamp: now.toISOString() },
      },
      4,
      { status: 500, error: 'HTTP 500' },
      now,
    );
    return {
      ...itemKeys.failure(accountId, loopId, id),
      gsi1pk: itemKeys.failures(accountId, loopId),
      gsi1sk: `${failure.failedAt}#${id}`,
      ...failure,
      delivery: JSON.stringify(failure.delivery),
      expiresAt: expiresAfterDays(now, FAILURE_RETENTION_DAYS),
    };
  });
  const table = physicalId('StorageTable');
  for (let start = 0; start < items.length; start += 25) {
    const batch = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    let unprocessed: unknown = { [table]: batch };
    while (unprocessed && Object.keys(unprocessed).length) {
      const answer = await dynamo.send(new BatchWriteCommand({ RequestItems: unprocessed as never }));
      unprocessed = answer.UnprocessedItems;
    }
  }
}
