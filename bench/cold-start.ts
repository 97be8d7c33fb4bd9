/**
 * Cold import: each function's handler bundled as the stack bundles it (app-function.ts: esbuild,
 * ESM, node24, minified, tree-shaken, with a source map beside it that Node does not load),
 * imported by a fresh `node` with the function's kind of environment, against bare `node -e 0`.
 * Three ways per function: as deployed (the AWS SDK bundled in); the SDK left external
 * (`@aws-sdk/*` from node_modules, as Lambda's runtime copy would be loaded); and as deployed but
 * with NODE_OPTIONS=--enable-source-maps, as the functions ran until that cost was measured here. Several runs each, interleaved so that a change in the
 * machine's load touches all alike; median and spread.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { buildDashboard } from '../lib/constructs/dashboard.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, '.twin', 'bench-cold'); // ignored like the twin's own files
const RUNS = 5;
export const COLD_TARGET_MS = 40;

const VARIANTS = ['deployed', 'external', 'maps on'] as const;
type Variant = (typeof VARIANTS)[number];
/** What the functions read at load; the values only need to be valid. */
const ENVIRONMENT = {
  TABLE_NAME: 'table',
  ADMIN_SECRET_NAME: 'admin',
  EVENTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/events',
  DELIVERIES_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/deliveries',
  LOG_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/logs',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters',
  LOGS_BUCKET: 'logs',
  ALLOW_HTTP_TARGETS: 'false',
  ALLOWED_TARGET_CIDRS: '',
  DELIVERY_TIMEOUT_SECONDS: '10',
  DELIVER_MAX_RECEIVES: '11',
  FANOUT_MAX_RECEIVES: '5',
  LOG_RETENTION_DAYS: '90',
  MAX_LOOPS_PER_ACCOUNT: '10',
  MESSAGE_CONTEXT_TTL_DAYS: '90',
  PRESIGN_EXPIRY_SECONDS: '900',
  TEST_TIMEOUT_SECONDS: '10',
  RETRY_SCHEDULE: '5,60,300',
  TRACKING_LINK_DAYS: '365',
  TRACKING_BASE_URL: 'https://t.example.com',
  POWERTOOLS_SERVICE_NAME: 'feedback-loops',
  API_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com',
};

async function bundle(name: string, variant: Variant): Promise<string> {
  const outfile = path.join(OUT, variant, name, 'index.mjs');
  await build({
    entryPoints: [path.join(ROOT, 'functions', name, 'handler.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    mainFields: ['module', 'main'],
    external: variant === 'external' ? ['@aws-sdk/*'] : [],
    sourcemap: true,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  // The dashboard's function reads its page and assets (built at synth time) when it loads.
  if (name === 'dashboard') buildDashboard(path.join(path.dirname(outfile), 'public'));
  return outfile;
}

const REPORT_CPU =
  'const used = process.threadCpuUsage(); process.stdout.write(String((used.user + used.system) / 1000));';

/**
 * The CPU milliseconds (user + system) of a fresh node's main thread from its start to the end of
 * `node -e 0` or of importing `file`: what delays the first invocation. CPU time rather than wall
 * time, because on a machine shared with other work a process waits for a core, which says nothing
 * about the bundle; the main thread's only, because V8's helper threads compile and collect beside
 * it on a second core.
 */
function timed(file?: string, variant?: Variant): number {
  const script = file ? `await import(${JSON.stringify(pathToFileURL(file).href)}); ${REPORT_CPU}` : REPORT_CPU;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: file ? path.dirname(file) : ROOT,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      TZ: 'UTC',
      ...(file ? ENVIRONMENT : {}),
      ...(variant === 'maps on' ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr.toString().slice(-500)}`);
  return Number(result.stdout.toString());
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

export interface ColdFigures {
  bareMs: number;
  /** Median import over bare Node, per function, per variant. */
  over: Map<string, Record<Variant, number>>;
}

export async function coldStartBench(): Promise<ColdFigures> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // BENCH_COLD_FUNCTIONS=soap,api measures only those (a quicker run while working on one function).
  const only = process.env.BENCH_COLD_FUNCTIONS?.split(',').map((name) => name.trim());
  const names = readdirSync(path.join(ROOT, 'functions')).filter(
    (name) =>
      name !== 'shared' && statSync(path.join(ROOT, 'functions', name)).isDirectory() && (!only || only.includes(name)),
  );
  // Authorizer and ingest first: they sit on the synchronous path of every first request.
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const files = new Map<string, Record<Variant, string>>();
  for (const name of names)
    files.set(name, {
      deployed: await bundle(name, 'deployed'),
      external: await bundle(name, 'external'),
      'maps on': await bundle(name, 'maps on'),
    });

  const samples = new Map<string, number[]>([['bare', []]]);
  for (let run = 0; run < RUNS; run++) {
    samples.get('bare')!.push(timed());
    for (const [name, variants] of files) {
      for (const variant of VARIANTS) {
        const key = `${name} ${variant}`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key)!.push(timed(variants[variant], variant));
      }
    }
  }
  const bare = samples.get('bare')!;
  const bareMs = median(bare);
  const spread = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
  console.log(
    `\nCold import of each function bundle: main-thread CPU ms over bare node (${process.version}; ${RUNS} runs each; median, min–max)`,
  );
  console.log(`  bare node: ${bareMs.toFixed(0)} ms of CPU (${spread(bare)})`);
  console.log(
    `  ${'function'.padEnd(14)} ${'as deployed'.padStart(22)} ${'SDK external'.padStart(22)} ${'source maps on'.padStart(22)}   bundle`,
  );
  const over = new Map<string, Record<Variant, number>>();
  for (const [name, variants] of files) {
    const of = (variant: Variant) => samples.get(`${name} ${variant}`)!;
    const figures = Object.fromEntries(VARIANTS.map((variant) => [variant, median(of(variant)) - bareMs])) as Record<
      Variant,
      number
    >;
    over.set(name, figures);
    const cell = (variant: Variant) =>
      `+${figures[variant].toFixed(0)} ms (${spread(of(variant).map((value) => value - bareMs))})`.padStart(22);
    const kb = (statSync(variants.deployed).size / 1024).toFixed(0);
    console.log(
      `  ${name.padEnd(14)} ${cell('deployed')} ${cell('external')} ${cell('maps on')}   ${kb.padStart(5)} KB`,
    );
  }
  rmSync(OUT, { recursive: true, force: true });
  return { bareMs, over };
}

function rank(name: string): number {
  return ['authorizer', 'ingest'].includes(name) ? 0 : 1;
}
