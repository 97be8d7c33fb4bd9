/**
 * Delivery throughput over HTTPS on loopback: the guarded client (`send`, with its keep-alive
 * pools) against `undici` with a keep-alive pool, posting the same signed bodies with the same
 * concurrency to a receiver (bench/receiver-child.ts, its own process) with a self-signed certificate for
 * `receiver.test`, made with openssl now. The clients run in a child process that trusts the
 * certificate through NODE_EXTRA_CA_CERTS, as a deployment trusts a public CA: the guarded client
 * verifies the host name as it always does (no option of the product is loosened for the bench).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HTTPS_TARGET_RATIO = 0.9;

export async function deliveryHttps(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-tls-'));
  try {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'].concat([
        '-subj',
        '/CN=receiver.test',
        '-addext',
        'subjectAltName=DNS:receiver.test',
        '-keyout',
        key,
        '-out',
        cert,
      ]),
      { stdio: 'ignore' },
    );
    const child = spawn(
      process.execPath,
      [...process.execArgv, fileURLToPath(new URL('./delivery-https-child.ts', import.meta.url)), cert, key],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = output.split('\n').filter((line) => line.trim());
    for (const line of lines) if (!line.startsWith('{')) console.log(line);
    const result = lines.find((line) => line.startsWith('{'));
    if (code !== 0 || !result) throw new Error(`the https delivery bench failed (exit ${code})`);
    return (JSON.parse(result) as { ratio: number }).ratio;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
