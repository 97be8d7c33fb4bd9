import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InvalidSettingsError } from '../../lib/settings.ts';
import { isAlive } from '../processes.ts';
import type { Template } from '../template.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = path.join(ROOT, 'local', 'deploy', 'synth-child.ts');
/** What the synth writes next to the assembly, so that a reused assembly needs no CDK to read. */
export const ASSEMBLY_SUMMARY = 'twin-assembly.json';
/** What a synth depends on besides the context: the app, its functions, the dependencies installed. */
const INPUT_DIRS = ['bin', 'lib', 'functions', 'dashboard'];
const INPUT_FILES = [
  'cdk.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'node_modules/.package-lock.json',
  'local/deploy/synth.ts',
  'local/deploy/synth-child.ts',
];
/** Assemblies kept for reuse; each is a few MB. */
const KEEP = 4;

export interface Assembly {
  stackName: string;
  template: Template;
  templateFile: string;
  /** Asset hash (the S3 key without `.zip`) → the bundled folder it was built from. */
  assetDirs: Map<string, string>;
  /** Whether it is an earlier synth's, reused because nothing it depends on changed. */
  reused: boolean;
}

export interface AssemblySummary {
  stackName: string;
  /** Relative to the assembly's folder, as the rest of this summary. */
  templateFile: string;
  assetDirs: [hash: string, dir: string][];
}

export interface SynthRequest {
  outdir: string;
  context: Record<string, unknown>;
}

export type SynthResult = { ok: true; summary: AssemblySummary } | { ok: false; settings: boolean; message: string };

/** The twin's defaults (docs/api.md §10): receivers on this machine can be tried. */
export const TWIN_CONTEXT = { allowHttpTargets: 'true', allowedTargetCidrs: '127.0.0.0/8,::1/128' };

/** The context `cdk synth` would see: cdk.json's, then the twin's defaults, then the command line's. */
export function twinContext(context: Record<string, string>): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return { ...cdkJson.context, ...TWIN_CONTEXT, ...context };
}

/**
 * Synthesizes the app exactly as `cdk synth` would, into `outdir`, in a child process (the twin starts
 * the emulator meanwhile). Bundling the functions and cdk-nag take most of a start-up, so the
 * assembly is kept under `cacheDir` and reused while nothing it is made from changes: the same
 * context, the same files under bin/, lib/, functions/ and dashboard/, the same dependencies.
 */
export async function synthesize(options: {
  outdir: string;
  cacheDir: string;
  context: Record<string, unknown>;
  log: (line: string) => void;
  signal?: AbortSignal;
}): Promise<Assembly> {
  const { outdir, cacheDir } = options;
  const cached = path.join(cacheDir, inputHash(options.context));
  if (existsSync(path.join(cached, ASSEMBLY_SUMMARY))) {
    cpSync(cached, outdir, { recursive: true });
    const now = new Date();
    utimesSync(cached, now, now);
    return readAssembly(outdir, true);
  }

  const summary = await synthesizeInChild({ outdir, context: options.context }, options.log, options.signal);
  // Copied, then renamed into place: a twin starting alongside sees a whole assembly or none.
  mkdirSync(cacheDir, { recursive: true });
  const staging = `${cached}.${process.pid}.tmp`;
  cpSync(outdir, staging, { recursive: true });
  try {
    renameSync(staging, cached);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another twin got there first
  }
  pruneCache(cacheDir);
  return toAssembly(outdir, summary, false);
}

function synthesizeInChild(
  request: SynthRequest,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<AssemblySummary> {
  signal?.throwIfAborted();
  // tsx, resolved from the project (the child's cwd), runs the TypeScript as it runs the twin.
  const child = fork(CHILD, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true, // the twin kills it on Ctrl-C; it ends by itself when the twin is gone
  });
  // What it says (esbuild's warnings, say) is shown when it ends: with the result, or in the error.
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => line.trim() && output.push(line));
  }
  // Its process group: the synth and the esbuild processes it runs.
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  signal?.addEventListener('abort', kill, { once: true });
  return new Promise<AssemblySummary>((resolve, reject) => {
    let result: SynthResult | undefined;
    child.once('message', (message: SynthResult) => (result = message));
    child.once('error', reject);
    // 'close', not 'exit': it comes after the IPC channel has delivered the result.
    child.once('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) return reject(signal.reason);
      if (result?.ok) {
        for (const line of output) log(`synth: ${line}`);
        return resolve(result.summary);
      }
      if (result && result.settings) return reject(new InvalidSettingsError(result.message));
      const said = output.length ? `\nThe synth said:\n${output.slice(-40).join('\n')}` : '';
      reject(new Error(`${result?.message ?? `The synth ended (${exitSignal ?? code}) without a result`}${said}`));
    });
    child.send(request);
  });
}

function readAssembly(outdir: string, reused: boolean): Assembly {
  const summary = JSON.parse(readFileSync(path.join(outdir, ASSEMBLY_SUMMARY), 'utf8')) as AssemblySummary;
  return toAssembly(outdir, summary, reused);
}

function toAssembly(outdir: string, summary: AssemblySummary, reused: boolean): Assembly {
  const templateFile = path.join(outdir, summary.templateFile);
  return {
    stackName: summary.stackName,
    template: JSON.parse(readFileSync(templateFile, 'utf8')) as Template,
    templateFile,
    assetDirs: new Map(summary.assetDirs.map(([hash, dir]) => [hash, path.join(outdir, dir)])),
    reused,
  };
}

/** A digest of everything a synth reads; the environment it reads is CDK_DEFAULT_ACCOUNT/REGION. */
function inputHash(context: Record<string, unknown>): string {
  const hash = createHash('sha256');
  const add = (name: string, content: string | Buffer) => hash.update(`${name}\0${content.length}\0`).update(content);
  add('context', JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))));
  add('env', JSON.stringify([process.env.CDK_DEFAULT_ACCOUNT, process.env.CDK_DEFAULT_REGION, process.version]));
  const files = [...INPUT_FILES, ...INPUT_DIRS.flatMap((dir) => filesUnder(dir))];
  for (const file of files.sort()) {
    const full = path.join(ROOT, file);
    add(file, existsSync(full) ? readFileSync(full) : '(none)');
  }
  return hash.digest('hex').slice(0, 32);
}

function filesUnder(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter(
      (entry) => entry.isFile() && !path.relative(ROOT, entry.parentPath).split(path.sep).includes('node_modules'),
    )
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Keeps the most recently used assemblies, and what another twin is still copying in. */
function pruneCache(cacheDir: string): void {
  for (const name of readdirSync(cacheDir)) {
    const writer = Number(/^[0-9a-f]{32}\.(\d+)\.tmp$/.exec(name)?.[1]);
    if (writer && !isAlive(writer)) rmSync(path.join(cacheDir, name), { recursive: true, force: true });
  }
  const entries = readdirSync(cacheDir)
    .filter((name) => /^[0-9a-f]{32}$/.test(name))
    .map((name) => ({ name, used: statSync(path.join(cacheDir, name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const { name } of entries.slice(KEEP)) rmSync(path.join(cacheDir, name), { recursive: true, force: true });
}
