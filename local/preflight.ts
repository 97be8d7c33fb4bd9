import { createServer } from 'node:net';
import { readSettings } from '../lib/settings.ts';
import { type LaunchedEmulator, SetupError, launchEmulator } from './emulator/launcher.ts';
import { twinContext } from './deploy/synth.ts';

export interface Checked {
  /** The settings as the synth will see them (cdk.json's, the twin's defaults, the command line's). */
  context: Record<string, unknown>;
  /** moto, launched and loading; none when AWS_ENDPOINT_URL names an emulator already running. */
  emulator?: LaunchedEmulator;
}

/**
 * What can be wrong with how the twin was asked to start, found before anything else starts:
 * settings the synth would refuse, a port that is taken, a moto other than the one the launcher
 * fits (the launcher checks that first, then loads moto, which takes a while: so it goes on
 * loading while the twin loads the rest). This module loads little, for `npm start` to run first.
 */
export async function preflight(options: { port: number; context: Record<string, string> }): Promise<Checked> {
  const context = twinContext(options.context);
  readSettings((key) => context[key], Object.keys(context));
  await checkPort(options.port);
  if (process.env.AWS_ENDPOINT_URL) return { context };
  return { context, emulator: await launchEmulator() };
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
