import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A twin started as a person starts it, `npm start` with the global setup's settings (so that its
 * synth is reused) on a free port; answers once it printed its banner. The caller stops it.
 */
export async function startThroughNpm(
  env: Record<string, string> = {},
): Promise<{ npm: ChildProcess; apiUrl: string; output: () => string }> {
  const { npm, output } = spawnNpmStart(['--', ...SETTINGS], env);
  const deadline = Date.now() + 90_000;
  // The banner is printed in one write; wait for its last line.
  while (!/Ctrl-C stops everything/.test(output())) {
    if (npm.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not get ready:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { npm, apiUrl: /API\s+(http:\/\/\S+)\/v1/.exec(output())![1]!, output };
}

/** The global setup's settings, so that a twin started through npm reuses its synth. */
export const SETTINGS = ['-c', 'retrySchedule=1,1,1', '-c', 'deliveryTimeoutSeconds=2'];

/** `npm start <args>` that is expected to stop by itself: its exit code and everything it printed. */
export async function runNpmStart(args: string[]): Promise<{ code: number | null; output: string }> {
  const { npm, output } = spawnNpmStart(args, {});
  const code = await new Promise<number | null>((resolve) => npm.once('exit', resolve));
  return { code, output: output() };
}

function spawnNpmStart(args: string[], env: Record<string, string>) {
  const npm = spawn('npm', ['start', ...args], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // signals go to the processes the cases name, not to a group
  });
  let output = '';
  npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { npm, output: () => output };
}
