/**
 * Deliveries per second to a loopback receiver answering 200 (in a child process): the project's
 * delivery path (signedRequest → attempt → the guarded client's `send`) against plain
 * `undici.request` posting the same bodies, from this process, with the same concurrency. Also the
 * guarded `send` alone (the same pre-signed requests as undici gets), and how many connections
 * each opened: the guarded client keeps connections alive within an instance (connections.ts).
 */
import { request as undiciRequest } from 'undici';
import { attempt, signedRequest } from '#shared/delivery/attempt.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { send } from '#shared/outbound/client.ts';
import { loopRecord, mailEvent } from '../test/support/factories.ts';
import { startReceiverProcess } from './receiver-process.ts';

const CONCURRENCY = 10;
const DELIVERIES = 1000;
const ROUNDS = 9;
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
  const { port, accepted, child: receiver } = await startReceiverProcess();
  try {
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
    const guarded = async (i: number) => {
      const response = await send(POLICY, requests[i % requests.length]!);
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    };
    const plain = async (i: number) => {
      const { headers, body } = requests[i % requests.length]!;
      const response = await undiciRequest(loop.url, { method: 'POST', headers, body });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
    };

    const clients = { plain, project, guarded };
    type Client = keyof typeof clients;
    const names = Object.keys(clients) as Client[];
    const rates: Record<Client, number[]> = { plain: [], project: [], guarded: [] };
    const opened: Record<Client, number> = { plain: 0, project: 0, guarded: 0 };
    for (const name of names) await rate(300, CONCURRENCY, clients[name]); // warm up
    // Short rounds, each client once per round, the order turning: a machine whose load changes
    // (other processes) slows the clients of a round alike, so each round gives a fair ratio.
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        const before = await accepted();
        rates[name].push(await rate(DELIVERIES, CONCURRENCY, clients[name]));
        opened[name] += (await accepted()) - before;
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    const ratioOf = (name: Client) => median(rates[name].map((value, round) => value / rates.plain[round]!));
    const ratio = ratioOf('project');
    const line = (name: Client) =>
      `${median(rates[name]).toFixed(0).padStart(8)} /s  (best ${Math.max(...rates[name])
        .toFixed(0)
        .padStart(6)})  ${String(Math.round(opened[name] / ROUNDS)).padStart(4)} new connections per round`;
    console.log(
      `\nDelivery throughput to a loopback receiver answering 200 (${ROUNDS} rounds of ${DELIVERIES} POSTs of ~${Buffer.byteLength(requests[0]!.body)} B, concurrency ${CONCURRENCY}; medians)`,
    );
    console.log(`  project (signedRequest + attempt + guarded send) ${line('project')}`);
    console.log(`  guarded send alone (the pre-signed requests)     ${line('guarded')}`);
    console.log(`  plain undici.request                            ${line('plain')}`);
    console.log(`  ratio guarded send / undici (median of rounds)  ${ratioOf('guarded').toFixed(2).padStart(8)}`);
    console.log(
      `  ratio project / undici (median of rounds)       ${ratio.toFixed(2).padStart(8)}    target ≥ ${TARGET_RATIO}  ${ratio >= TARGET_RATIO ? 'meets it' : 'MISSES IT'}`,
    );
  } finally {
    receiver.disconnect();
    receiver.kill();
  }
}
