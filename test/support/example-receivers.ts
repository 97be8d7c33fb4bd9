import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * The example receivers of examples/receivers, run as their users run them: the Node one with node,
 * the Python one with python3, the PHP one under `php -S` (a web root holding the script).
 */

export const EXAMPLE_KINDS = ['node', 'php', 'python'] as const;
export type ExampleKind = (typeof EXAMPLE_KINDS)[number];

const EXAMPLES_DIR = path.resolve(import.meta.dirname, '../../examples/receivers');

/** What an example logged for an event it verified: `verified <type> <id> <recipient> <event as JSON>`. */
export interface VerifiedEvent {
  type: string;
  id: string;
  recipient: string;
  event: Record<string, any>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function command(kind: ExampleKind, port: number, root: string): [string, string[]] {
  switch (kind) {
    case 'node':
      return [process.execPath, [path.join(EXAMPLES_DIR, 'receiver.mjs')]];
    case 'python':
      return ['python3', [path.join(EXAMPLES_DIR, 'receiver.py')]];
    case 'php':
      return ['php', ['-S', `127.0.0.1:${port}`, '-t', root]];
  }
}

/**
 * An example receiver on a free loopback port. Its URL is known before it starts (a loop needs the
 * URL to be created, the receiver needs the loop's secret to start).
 */
export async function exampleReceiver(kind: ExampleKind) {
  const port = await freePort();
  // A web root of its own: the loop's verification file goes there, not into the repository.
  const root = await mkdtemp(path.join(os.tmpdir(), `fl-example-${kind}-`));
  const scriptDir = path.join(root, 'hooks');
  await mkdir(scriptDir);
  if (kind === 'php') await symlink(path.join(EXAMPLES_DIR, 'receiver.php'), path.join(scriptDir, 'receiver.php'));
  let child: ChildProcess | undefined;
  let output = '';

  const verified = (): VerifiedEvent[] =>
    output.split('\n').flatMap((line) => {
      const match = /verified (\S+) (\S+) (\S+) (\{.*\})\s*$/.exec(line);
      return match ? [{ type: match[1]!, id: match[2]!, recipient: match[3]!, event: JSON.parse(match[4]!) }] : [];
    });

  return {
    kind,
    port,
    url: `http://127.0.0.1:${port}/hooks/${kind === 'php' ? 'receiver.php' : 'receiver'}`,
    /** Puts the loop's verification file beside the script, where the account would. */
    placeVerificationFile: (file: string, content: string) => writeFile(path.join(scriptDir, file), `${content}\n`),
    async start(secret: string) {
      const [program, args] = command(kind, port, root);
      child = spawn(program, args, {
        cwd: root,
        env: {
          ...process.env,
          FEEDBACK_LOOPS_SECRET: secret,
          FEEDBACK_LOOPS_VERIFICATION_DIR: scriptDir,
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      // Ready when it answers anything.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const answered = await fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => false,
        );
        if (answered) return;
        const gone = await Promise.race([exited.then(() => true), sleep(100).then(() => false)]);
        if (gone || Date.now() > deadline) throw new Error(`the ${kind} example did not start:\n${output}`);
      }
    },
    /** Everything it printed so far (stdout and stderr). */
    output: () => output,
    verified,
    /** Waits until it has logged a verified event with this id, or fails after `timeoutMs`. */
    async waitForVerified(id: string, timeoutMs = 30_000): Promise<VerifiedEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = verified().find((entry) => entry.id === id);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`the ${kind} example logged no verified ${id}:\n${output}`);
        await sleep(50);
      }
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill();
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

export type ExampleReceiver = Awaited<ReturnType<typeof exampleReceiver>>;

/**
 * A POST with header names written exactly as given (fetch would lower-case them), to show that a
 * receiver finds `Webhook-Id` as well as `webhook-id`. Resolves to the status.
 */
export function postRaw(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode!));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
