import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A twin started as a person starts it, `npm start` with the global setup's settings (so that its
 * synth is reused) on a free port; answers once it printed its banner. The caller stops it.
 */
export async function startThroughNpm(
  env: Record<string, string> = {},
): Promise<{ npm: ChildProcess; apiUrl: string; output: () => string }> {
  const npm = spawn('npm', ['start', '--', '-c', 'retrySchedule=1,1,1', '-c', 'deliveryTimeoutSeconds=2'], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // signals go to the processes the cases name, not to a group
  });
  let output = '';
  npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 90_000;
  while (!/ready in/.test(output)) {
    if (npm.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not get ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The banner is printed in one write; wait for its last line.
  while (!/Ctrl-C stops everything/.test(output)) await new Promise((resolve) => setTimeout(resolve, 50));
  return { npm, apiUrl: /API\s+(http:\/\/\S+)\/v1/.exec(output)![1]!, output: () => output };
}
