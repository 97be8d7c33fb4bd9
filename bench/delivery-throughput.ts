/**
 * Deliveries per second to a loopback receiver answering 200 (in a child process): the project's
 * delivery path (signedRequest → attempt → the guarded client's `send`) against plain
 * `undici.request` posting the same bodies, from this process, with the same concurrency.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { request as undiciRequest } from 'undici';
import { attempt, signedRequest } from '#shared/delivery/attempt.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { send } from '#shared/outbound/client.ts';
import { loopRecord, mailEvent } from '../test/unit/factories.ts';

const CONCURRENCY = 10;
const DELIVERIES = 3000;
const TARGET_RATIO = 0.8;
const POLICY = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] };

/** Runs `one(i)` for i < count, `concurrency` at a time; answers deliveries per second. */
async function rate(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await one(i);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

export async function deliveryThroughput(): Promise<void> {
  const receiver = fork(fileURLToPath(new URL('./receiver.mjs', import.meta.url)), [], { stdio: 'inherit' });
  try {
    const [{ port }] = (await once(receiver, 'message')) as [{ port: number }];
    const loop = loopRecord({ url: `http://127.0.0.1:${port}/hooks/feedback.php`, format: 'form' });
    const records = Array.from({ length: 200 }, (_, i) =>
      toRecord(
        mailEvent({
          type: 'open',
          message: `msg-${i}`,
          recipient: `user${i}@example.com`,
          fields: { firstname: 'Jane', plan: 'pro', age: 42 },
          tags: ['newsletter', 'november'],
          ip: '198.51.100.7',
          useragent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15',
        }),
      ),
    );
    const now = new Date();
    // The same bodies and headers for both clients.
    const requests = records.map((record) => signedRequest(loop, record, now, 10_000));

    const project = async (i: number) => {
      const record = records[i % records.length]!;
      const at = new Date();
      const outcome = await attempt((outbound) => send(POLICY, outbound), signedRequest(loop, record, at, 10_000), at);
      if (!outcome.ok) throw new Error(`delivery failed: ${outcome.error}`);
    };
    const plain = async (i: number) => {
      const { headers, body } = requests[i % requests.length]!;
      const response = await undiciRequest(loop.url, { method: 'POST', headers, body });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
    };

    await rate(300, CONCURRENCY, project); // warm up
    await rate(300, CONCURRENCY, plain);
    // Two rounds each, alternating; the better round counts.
    const projectRates: number[] = [];
    const plainRates: number[] = [];
    for (let round = 0; round < 2; round++) {
      plainRates.push(await rate(DELIVERIES, CONCURRENCY, plain));
      projectRates.push(await rate(DELIVERIES, CONCURRENCY, project));
    }
    const ours = Math.max(...projectRates);
    const theirs = Math.max(...plainRates);
    const ratio = ours / theirs;
    console.log(
      `\nDelivery throughput to a loopback receiver answering 200 (${DELIVERIES} POSTs of ~${Buffer.byteLength(requests[0]!.body)} B, concurrency ${CONCURRENCY})`,
    );
    console.log(`  project (signedRequest + attempt + guarded send) ${ours.toFixed(0).padStart(8)} /s`);
    console.log(`  plain undici.request                            ${theirs.toFixed(0).padStart(8)} /s`);
    console.log(
      `  ratio project / undici                          ${ratio.toFixed(2).padStart(8)}    target ≥ ${TARGET_RATIO}  ${ratio >= TARGET_RATIO ? 'meets it' : 'MISSES IT'}`,
    );
  } finally {
    receiver.disconnect();
    receiver.kill();
  }
}
