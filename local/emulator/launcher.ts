import { type ChildProcess, spawn } from 'node:child_process';
import { type WriteStream, createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Starts moto with the twin's patches (see its docstring). */
export const LAUNCHER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'moto_server.py');
/** The launcher names the one moto version its patches fit. */
const MOTO_VERSION = /^MOTO_VERSION = "([^"]+)"/m.exec(readFileSync(LAUNCHER, 'utf8'))?.[1];
const INSTALL = `pip install "moto[server]==${MOTO_VERSION}" cfn-lint`;
/** The twin's own calls before IAM enforcement starts: create its user, its policy, its key. */
export const BOOTSTRAP_CALLS = 3;

/** A start-up problem the person starting the twin can fix; its message says how (no stack trace). */
export class SetupError extends Error {}

/** moto's launcher, started: moto loads while the twin gets on with the rest. */
export interface LaunchedEmulator {
  endpoint: string;
  child: ChildProcess;
  /** The last of what it wrote to stderr, for when it fails. */
  stderr: string[];
  /** Where its output goes from now on; what came before is written there first. */
  logTo(file: string): void;
  stop(): Promise<void>;
}

/**
 * Starts the launcher, which checks the installed moto before anything else: resolves once it has
 * found the one version its patches fit (and goes on loading moto), rejects with what to install.
 * This module loads little, so `npm start` can run it first.
 */
export async function launchEmulator(): Promise<LaunchedEmulator> {
  const port = await freePort();
  // moto ends when its stdin closes (see moto_server.py): when the twin ends, even killed, so does moto.
  // Its own process group keeps a terminal's Ctrl-C from it: the twin stops it last, after the pollers.
  const child = spawn('python3', [LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(BOOTSTRAP_CALLS) },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const stderr: string[] = [];
  let log: WriteStream | undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    stderr.push(chunk.toString());
    if (stderr.length > 200 && log) stderr.shift();
  });
  child.once('exit', () => log?.end());
  const launched: LaunchedEmulator = {
    endpoint: `http://127.0.0.1:${port}`,
    child,
    stderr,
    logTo(file) {
      log = createWriteStream(file);
      for (const chunk of stderr) log.write(chunk);
      if (child.exitCode !== null || child.signalCode !== null) log.end();
    },
    stop: () => stopProcess(child),
  };
  await new Promise<void>((resolve, reject) => {
    // Its first line on stdout says the moto installed is the one it needs.
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new SetupError(
              `python3 was not found. The twin's AWS emulator is moto, on Python 3; install both:\n  ${INSTALL}`,
            )
          : error,
      ),
    );
    child.once('exit', (code, signal) => {
      const said = stderr.join('').trim();
      if (code === 3) reject(new SetupError(`The twin cannot start its emulator. ${said}`));
      else reject(new Error(`moto_server exited (${code ?? signal}) as it started:\n${said.slice(-2000)}`));
    });
  });
  return launched;
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
