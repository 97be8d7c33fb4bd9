/**
 * `npm run bench`: throughput of the pure hot paths, on this machine; the AWS requests and capacity
 * units an event costs (the real handlers in this process, AWS mocked and counted); and delivery
 * throughput against plain undici. Targets live here, never as timing asserts in tests. (The
 * emulator is not fit for throughput figures.)
 */
import { parseEventBatch } from '#shared/events/mail-event.ts';
import { addressAllowed } from '#shared/outbound/guard.ts';
import { generateSecret, webhookHeaders } from '#shared/delivery/signing.ts';
import { encodeBody, toRecord } from '#shared/delivery/webhook-body.ts';
import { deliveryThroughput } from './delivery-throughput.ts';
import { requestsPerEvent } from './requests-per-event.ts';

function measure(name: string, run: () => void, { minMs = 1000 } = {}): void {
  for (let i = 0; i < 50; i++) run(); // warm up
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < minMs) {
    run();
    count++;
  }
  const elapsed = performance.now() - started;
  console.log(
    `${name.padEnd(48)} ${(count / (elapsed / 1000)).toFixed(0).padStart(9)} /s   ${((elapsed / count) * 1000).toFixed(1).padStart(8)} µs each`,
  );
}

const now = new Date();
const event = (i: number) => ({
  id: `evt-${i}`,
  type: 'click',
  message: `message-${i % 50}`,
  recipient: 'jane@example.com',
  ip: '203.0.113.7',
  useragent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
  original: 'https://example.com/offer?utm_source=mail',
  tags: ['news', 'nov'],
  fields: { firstname: 'Jane', plan: 'pro', age: 42 },
});
const batch = { events: Array.from({ length: 500 }, (_, i) => event(i)) };
const [accepted] = parseEventBatch(event(1), now);
const secrets = [generateSecret()];

measure('validate a batch of 500 events', () => parseEventBatch(batch, now));
measure('encode (form) and sign one delivery', () => {
  const { contentType, body } = encodeBody(toRecord(accepted!), 'form');
  webhookHeaders({
    id: accepted!.id,
    timestamp: 1_800_000_000,
    body,
    secrets,
    contentType,
    userAgent: 'FeedbackLoops/bench',
  });
});
measure('check one resolved address against the guard', () => addressAllowed('2606:4700:4700::1111', ['127.0.0.0/8']));
await requestsPerEvent();
await deliveryThroughput();
await (await import('./logs.ts')).runLogsBench();
console.log(`\nheap used: ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1)} MiB`);
