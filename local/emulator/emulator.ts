import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { type LaunchedEmulator, launchEmulator } from './launcher.ts';

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
  /** moto, when the twin's preflight already launched it (see launcher.ts). */
  launched?: LaunchedEmulator;
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

  const launched = options.launched ?? (await launchEmulator());
  const { endpoint } = launched;
  launched.logTo(options.logFile);
  const stopOnAbort = () => void launched.stop();
  options.signal?.addEventListener('abort', stopOnAbort, { once: true });
  try {
    options.signal?.throwIfAborted();
    await waitUntilUp(launched);
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
      stop: launched.stop,
    };
  } catch (error) {
    await launched.stop();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stopOnAbort);
  }
}

async function waitUntilUp({ endpoint, child, stderr }: LaunchedEmulator): Promise<void> {
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
