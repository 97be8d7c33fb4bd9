import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSettings } from '../lib/settings.ts';
import { twinContext } from './synth.ts';

/** A start-up problem the person starting the twin can fix; its message says how (no stack trace). */
export class SetupError extends Error {}

/** Starts moto with the twin's patches (see its docstring). */
export const LAUNCHER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'emulator', 'moto_server.py');
/** The launcher names the one moto version its patches fit. */
const MOTO_VERSION = /^MOTO_VERSION = "([^"]+)"/m.exec(readFileSync(LAUNCHER, 'utf8'))?.[1];
const INSTALL = `pip install "moto[server]==${MOTO_VERSION}" cfn-lint`;

export interface Checked {
  /** The settings as the synth will see them (cdk.json's, the twin's defaults, the command line's). */
  context: Record<string, unknown>;
  /** The interpreter to start moto with; none when AWS_ENDPOINT_URL names an emulator already running. */
  python?: string;
}

/**
 * What can be wrong with how the twin was asked to start, found before anything starts: settings
 * the synth would refuse, a moto other than the one the launcher fits, a port that is taken. This
 * module loads little, so `npm start` runs it while it loads the rest.
 */
export async function preflight(options: { port: number; context: Record<string, string> }): Promise<Checked> {
  const context = twinContext(options.context);
  readSettings((key) => context[key], Object.keys(context));
  const external = Boolean(process.env.AWS_ENDPOINT_URL); // then no moto of ours is needed
  const [emulator] = await Promise.all([external ? undefined : checkEmulator(), checkPort(options.port)]);
  return { context, python: emulator?.python };
}

let emulatorChecked: Promise<{ python: string }> | undefined;

/**
 * The emulator launcher patches moto's internals, so it runs one moto version only: asks the launcher
 * whether that is the one installed (once per process). Answers the Python interpreter to start
 * moto with.
 */
export function checkEmulator(): Promise<{ python: string }> {
  emulatorChecked ??= new Promise((resolve, reject) => {
    execFile('python3', [LAUNCHER, '--check-version'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(
          new SetupError(
            `python3 was not found. The twin's AWS emulator is moto, on Python 3; install both:\n  ${INSTALL}`,
          ),
        );
      }
      if (error) {
        const said = stderr.trim() || `${error.message}\nInstall the emulator with: ${INSTALL}`;
        return reject(new SetupError(`The twin cannot start its emulator. ${said}`));
      }
      resolve({ python: /^python: (.+)$/m.exec(stdout)?.[1]?.trim() || 'python3' });
    });
  });
  return emulatorChecked;
}

/** Fails when the API's port is taken or not a port; 0 (any free port) always does. */
export async function checkPort(port: number): Promise<void> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SetupError(`PORT must be a port number (1–65535, or 0 for any free one), not "${process.env.PORT}".`);
  }
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? `Port ${port} is already in use (another twin, or another server)`
          : `The twin may not listen on port ${port} (${error.code})`;
      reject(new SetupError(`${why}. Set PORT to a free port, e.g.: PORT=${port < 65535 ? port + 1 : 3000} npm start`));
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
