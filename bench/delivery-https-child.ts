/**
 * The clients of the HTTPS delivery bench (delivery-https.ts starts it, trusting the receiver's
 * certificate): rounds of the same pre-signed POSTs through the guarded `send` and through an
 * undici keep-alive pool, each client once per round, the order turning. Prints its figures, then
 * one JSON line with the median of the per-round ratios.
 */
import { Pool } from 'undici';
import { signedRequest } from '#shared/delivery/attempt.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { send } from '#shared/outbound/client.ts';
import { loopRecord, mailEvent } from '../test/support/factories.ts';
import { startReceiverProcess } from './receiver-process.ts';
import { HTTPS_TARGET_RATIO } from './delivery-https.ts';

const CONCURRENCY = 10;
const DELIVERIES = 500;
const ROUNDS = 9;
const HOST = 'receiver.test';

const [cert, key] = process.argv.slice(2);
const { port, accepted, child: receiver } = await startReceiverProcess({ certFile: cert!, keyFile: key! });

// The receiver's name resolves to loopback, which this policy allows; https only, as in production.
const policy = { allowHttp: false, allowedCidrs: ['127.0.0.0/8'], resolve: async () => ['127.0.0.1'] };
const loop = loopRecord({ url: `https://${HOST}:${port}/hooks/feedback.php`, format: 'form' });
const now = new Date();
const requests = Array.from({ length: 200 }, (_, i) =>
  signedRequest(
    loop,
    toRecord(mailEvent({ type: 'open', message: `msg-${i}`, recipient: `user${i}@example.com`, ip: '198.51.100.7' })),
    now,
    10_000,
  ),
);
const pool = new Pool(`https://127.0.0.1:${port}`, {
  connections: CONCURRENCY,
  connect: { servername: HOST },
  keepAliveTimeout: 30_000,
});

const clients = {
  guarded: async (i: number) => {
    const response = await send(policy, requests[i % requests.length]!);
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  },
  undici: async (i: number) => {
    const { headers, body } = requests[i % requests.length]!;
    const response = await pool.request({
      path: '/hooks/feedback.php',
      method: 'POST',
      headers: { ...headers, host: `${HOST}:${port}` },
      body,
    });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
  },
};
type Client = keyof typeof clients;

async function rate(one: (i: number) => Promise<void>, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < count; i = next++) await one(i);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

const names = Object.keys(clients) as Client[];
const rates: Record<Client, number[]> = { guarded: [], undici: [] };
const opened: Record<Client, number> = { guarded: 0, undici: 0 };
for (const name of names) await rate(clients[name], 200); // warm up
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length]!;
    const before = await accepted();
    rates[name].push(await rate(clients[name], DELIVERIES));
    opened[name] += (await accepted()) - before;
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const ratio = median(rates.guarded.map((value, round) => value / rates.undici[round]!));
console.log(
  `\nDelivery throughput over HTTPS on loopback (${ROUNDS} rounds of ${DELIVERIES} POSTs, concurrency ${CONCURRENCY}; medians)`,
);
for (const name of names)
  console.log(
    `  ${name.padEnd(36)} ${median(rates[name]).toFixed(0).padStart(7)} /s   ${(opened[name] / ROUNDS).toFixed(1).padStart(5)} TLS handshakes per round`,
  );
console.log(
  `  ratio guarded / undici (median of rounds) ${ratio.toFixed(2).padStart(6)}   target ≥ ${HTTPS_TARGET_RATIO}  ${ratio >= HTTPS_TARGET_RATIO ? 'meets it' : 'MISSES IT'}`,
);
console.log(JSON.stringify({ ratio }));
await pool.close();
receiver.disconnect();
receiver.kill();
