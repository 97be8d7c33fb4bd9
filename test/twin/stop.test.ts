import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startThroughNpm } from '../support/npm-start.ts';

/**
 * `npm start` is a chain: npm → tsx's CLI → node running local/main.ts, which runs moto, a host per
 * function invoked so far and, while it starts, the synth. A signal to any one process of the chain
 * must stop them all, and a twin whose parent is killed must stop itself. Each case starts a twin of
 * its own through npm, on a free port, with the global setup's settings so that its synth is reused.
 * (A signal to the node running local/main.ts itself is what the first two come down to.)
 */

interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

function processes(): Proc[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), args: match[3]! }));
}

/** A process and everything under it. */
function tree(root: number): Proc[] {
  const all = processes();
  const found = all.filter((proc) => proc.pid === root);
  for (let i = 0; i < found.length; i++) found.push(...all.filter((proc) => proc.ppid === found[i]!.pid));
  return found;
}

/** Which of these are still running (the same pid with the same command line). */
function survivors(procs: Proc[]): Proc[] {
  const now = processes();
  return procs.filter((proc) => now.some((other) => other.pid === proc.pid && other.args === proc.args));
}

const chain = {
  npm: (procs: Proc[]) => procs[0]!,
  tsx: (procs: Proc[]) => procs.find((proc) => /\/tsx local\/main\.ts/.test(proc.args))!,
};

describe('stopping the twin started with npm start', () => {
  it.concurrent.each([
    ['SIGINT', 'npm'],
    ['SIGTERM', 'npm'],
    ['SIGKILL', 'tsx'], // the twin's parent dies without a word
  ] as const)('%s to %s stops every process of it', async (signal, target) => {
    const { npm, apiUrl } = await startThroughNpm();
    let started: Proc[] = [];
    try {
      // Two functions run (the API answers health, the authorizer refuses a key): their hosts must stop too.
      expect((await fetch(`${apiUrl}/v1/health`)).status).toBe(200);
      const refused = await fetch(`${apiUrl}/v1/events`, { method: 'POST', headers: { authorization: 'Bearer no' } });
      expect(refused.status).toBe(401);
      started = tree(npm.pid!);
      expect(started.filter((proc) => /moto_server\.py/.test(proc.args))).toHaveLength(1);
      expect(started.filter((proc) => /host\.mjs/.test(proc.args)).length).toBeGreaterThanOrEqual(2);

      process.kill(chain[target](started).pid, signal);
      const deadline = Date.now() + 15_000;
      while (survivors(started).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(survivors(started).map((proc) => proc.args)).toEqual([]);
    } finally {
      for (const proc of survivors(started.length ? started : tree(npm.pid!))) process.kill(proc.pid, 'SIGKILL');
    }
  });
});
