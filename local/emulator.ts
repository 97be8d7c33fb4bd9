import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { LAUNCHER } from './preflight.ts';

/** The twin's own calls before IAM enforcement starts: create its user, its policy, its key. */
const BOOTSTRAP_CALLS = 3;
export const TWIN_USER = 'feedback-loops-twin';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Emulator {
  endpoint: string;
  region: string;
  accountId: string;
  /** The twin's own (administrator) credentials; functions get their roles' instead. */
  credentials: Credentials;
  twinUserArn: string;
  stop(): Promise<void>;
}

/**
 * Starts moto (through a launcher that makes its IAM enforcement match AWS's, see moto_server.py)
 * with IAM enforced after the twin has created its own user, or uses the emulator that
 * AWS_ENDPOINT_URL names, with the credentials of the environment.
 */
export async function startEmulator(options: {
  region: string;
  logFile: string;
  log: (line: string) => void;
  /** The interpreter that has moto (see checkEmulator); python3 by default. */
  python?: string;
  /** Aborting it while moto starts stops moto. */
  signal?: AbortSignal;
}): Promise<Emulator> {
  const accountId = '123456789012';
  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    const credentials = {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
    };
    return {
      endpoint: external,
      region: options.region,
      accountId,
      credentials,
      twinUserArn: `arn:aws:iam::${accountId}:root`,
      stop: async () => {},
    };
  }

  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // moto ends when its stdin closes (see moto_server.py): when the twin ends, even killed, so does moto.
  // Its own process group keeps a terminal's Ctrl-C from it: the twin stops it last, after the pollers.
  const child = spawn(options.python ?? 'python3', [LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(BOOTSTRAP_CALLS) },
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  const stderr: string[] = [];
  const logStream = createWriteStream(options.logFile);
  child.stderr!.on('data', (chunk: Buffer) => {
    logStream.write(chunk);
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  child.once('exit', () => logStream.end());
  const stop = () => stopProcess(child);
  const stopOnAbort = () => void stop();
  options.signal?.addEventListener('abort', stopOnAbort, { once: true });
  try {
    await waitUntilUp(endpoint, child, stderr);
    const bootstrap = new IAMClient({
      endpoint,
      region: options.region,
      credentials: { accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap' },
    });
    await bootstrap.send(new CreateUserCommand({ UserName: TWIN_USER }));
    await bootstrap.send(
      new PutUserPolicyCommand({
        UserName: TWIN_USER,
        PolicyName: 'administrator',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
        }),
      }),
    );
    const { AccessKey } = await bootstrap.send(new CreateAccessKeyCommand({ UserName: TWIN_USER }));
    options.log(`emulator: moto on ${endpoint}, IAM enforced`);
    return {
      endpoint,
      region: options.region,
      accountId,
      credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! },
      twinUserArn: `arn:aws:iam::${accountId}:user/${TWIN_USER}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stopOnAbort);
  }
}

async function waitUntilUp(endpoint: string, child: ChildProcess, stderr: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}):\n${stderr.join('').slice(-2000)}`);
    }
    try {
      // moto's own API does not count as an AWS request, so it does not use up the bootstrap calls.
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${stderr.join('').slice(-2000)}`);
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
