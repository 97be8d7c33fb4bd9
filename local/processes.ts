import { readFileSync } from 'node:fs';
import path from 'node:path';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `onGone` once when a process that started this one is gone. `npm start` runs `sh -c`, which
 * runs tsx's CLI, which runs the twin in node; each passes Ctrl-C and kill on to the next. If one of
 * them dies without passing it on (a shell killed by SIGTERM, anything killed by SIGKILL), nothing
 * would ever stop the twin: so it watches its parent and, on Linux, the launchers above it (npm, npx,
 * `sh -c`, tsx) — not further, so a twin started with nohup outlives the terminal it came from.
 */
export function watchLaunchers(onGone: (why: string) => void, everyMs = 500): () => void {
  const parent = process.ppid;
  const above: number[] = [];
  for (let pid = parent; isLauncher(pid);) {
    const next = running(pid)?.parent;
    if (!next || next <= 1 || !isLauncher(next)) break;
    above.push(next);
    pid = next;
  }
  const timer = setInterval(() => {
    const gone = process.ppid !== parent ? parent : above.find((pid) => !running(pid));
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(`the process that started it (${gone}) is gone`);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A process's parent, from /proc (Linux); undefined when it is gone (or a zombie) or there is no /proc. */
function running(pid: number): { parent: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (command) state ppid …": the command may hold spaces and parentheses.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' || state === 'X' ? undefined : { parent: Number(ppid) };
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string[] {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // npm renames itself ("npm start"), which leaves one string with spaces.
    return args.length === 1 ? args[0]!.split(' ') : args;
  } catch {
    return [];
  }
}

function isLauncher(pid: number): boolean {
  const args = commandLine(pid);
  const program = path.basename(args[0] ?? '');
  if (['npm', 'npx', 'pnpm', 'yarn', 'tsx'].includes(program)) return true;
  if (['sh', 'bash', 'dash', 'zsh'].includes(program)) return args[1] === '-c';
  return (
    program.startsWith('node') &&
    args.slice(1).some((arg) => /(^|\/)(tsx|npm-cli\.js|npx-cli\.js|tsx\/dist\/cli\.mjs)$/.test(arg))
  );
}
