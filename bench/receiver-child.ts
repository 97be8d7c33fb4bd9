// The delivery benches' receiver, in its own process so that it does not share the bench's event
// loop: test/support/loopback.ts answering 200, counting instead of recording. Plain HTTP, or HTTPS
// when given a certificate and key file. Tells its port over IPC, and on request ('count') how many
// connections (TLS sessions over HTTPS) it has accepted so far. bench/receiver-process.ts starts it.
import { readFileSync } from 'node:fs';
import { startLoopback } from '../test/support/loopback.ts';

const [certFile, keyFile] = process.argv.slice(2);
const receiver = await startLoopback({
  answer: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' },
  record: false,
  ...(certFile && keyFile ? { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } } : {}),
});
process.send!({ port: Number(new URL(receiver.origin).port) });
process.on('message', (message) => {
  if (message === 'count') process.send!({ connections: receiver.counts.connections });
});
process.on('disconnect', () => process.exit(0));
