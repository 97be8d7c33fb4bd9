import { InvalidSettingsError, readSettings } from '../lib/settings.ts';
import { FAULT_KINDS, type FaultKind, FaultSpecError, type FaultSettings, parseFaultSpec } from './faults/faults.ts';
import { SetupError } from './emulator/launcher.ts';
import { preflight } from './preflight.ts';
import { watchLaunchers } from './processes.ts';
import type { Twin } from './twin.ts';

/**
 * `npm start [-- -c key=value ...] [--faults <spec> [--faults-seed N] [--faults-kind K]]`: the whole
 * system on this machine, until Ctrl-C; with --faults, a share of the functions' AWS calls fail (faults.ts).
 * PORT (default 3000) and ADMIN_API_KEY are read from the environment; AWS_ENDPOINT_URL names an
 * emulator that is already running instead of starting one.
 */
function parseArgs(args: string[]): { context: Record<string, string>; faults?: FaultSettings } {
  swallowedByNpm(process.env.npm_config_call);
  const context: Record<string, string> = {};
  let faults: FaultSettings | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--faults') ? arg.split(/=(.*)/s) : [];
    if (flag === '--faults' || flag === '--faults-seed' || flag === '--faults-kind') {
      const value = inline ?? args[++i] ?? '';
      faults ??= { rules: [], seed: 1, kind: 'mixed' };
      if (flag === '--faults') faults.rules = parseFaultSpec(value);
      else if (flag === '--faults-kind' && FAULT_KINDS.includes(value as FaultKind)) faults.kind = value as FaultKind;
      else if (flag === '--faults-seed' && /^\d+$/.test(value)) faults.seed = Number(value);
      else throw new InvalidSettingsError(`${flag} ${value}: a seed is a whole number, a kind one of ${FAULT_KINDS}`);
      continue;
    }
    const pair =
      arg === '-c' || arg === '--context' ? args[++i] : arg.startsWith('--context=') ? arg.slice(10) : undefined;
    const match = pair ? /^([^=]+)=(.*)$/.exec(pair) : null;
    if (!match && (arg === '-c' || arg === '--context'))
      throw new InvalidSettingsError(
        `${[arg, pair].filter(Boolean).join(' ')} needs a setting as key=value: npm start -- -c retrySchedule=1,1,2`,
      );
    if (!match)
      throw new InvalidSettingsError(
        `Unknown argument "${arg}". Usage: npm start -- -c key=value ... [--faults service:Action=rate,... --faults-seed N]`,
      );
    context[match[1]!] = match[2]!;
  }
  return { context, ...(faults ? { faults } : {}) };
}

/**
 * `npm start -c key=value` (without `--`) is npm's own `-c` (`--call`): npm keeps the last one in
 * npm_config_call and hands the twin nothing, so the twin would run with the default settings and
 * say nothing. It stops instead, with the command that works.
 */
function swallowedByNpm(call: string | undefined): void {
  if (!call || !/^[A-Za-z][A-Za-z0-9]*=/.test(call)) return;
  throw new InvalidSettingsError(
    `npm took "-c ${call}" for its own option (it passes no -c on, and keeps only the last one).\n` +
      `Put the settings after --:  npm start -- -c ${call}`,
  );
}

/** The settings that differ from their defaults (the twin's own defaults included), as `key=value`. */
function changedSettings(context: Record<string, unknown>): string {
  const now = readSettings((key) => context[key], Object.keys(context)) as Record<string, unknown>;
  const defaults = readSettings(() => undefined) as Record<string, unknown>;
  const changed = Object.keys(now).filter((key) => JSON.stringify(now[key]) !== JSON.stringify(defaults[key]));
  const shown = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value));
  return changed.length ? changed.map((key) => `${key}=${shown(now[key])}`).join(' ') : 'all as default';
}

async function main(): Promise<void> {
  const { context, faults } = parseArgs(process.argv.slice(2));
  const print = (line: string) => console.log(line);

  // Signals are taken from the first moment: one that comes while the twin starts stops what has
  // started so far. A second one does not wait for a clean stop.
  const starting = new AbortController();
  const started: { twin?: Twin } = {};
  const stop = (why: string) => {
    if (stopRequested) process.exit(1);
    stopRequested = true;
    console.log(`\n${why}: stopping the twin…`);
    starting.abort(new Error(why));
    if (started.twin) {
      started.twin.stop().then(
        () => {
          console.log('The twin stopped: functions, pollers, schedules and the emulator.');
          process.exit(0);
        },
        (error: Error) => {
          console.error(`The twin did not stop cleanly: ${error.stack ?? error.message}`);
          process.exit(1);
        },
      );
    }
    // Otherwise startTwin stops what it started and rejects, and main's caller exits.
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  watchLaunchers((why) => stop(why));

  // The checks, and moto loading once its version is right, go on while the rest of the code loads.
  const port = Number(process.env.PORT || 3000);
  const loading = import('./twin.ts');
  loading.catch(() => {}); // awaited below, unless a check fails first
  const checked = await preflight({ port, context });
  const { startTwin } = await loading;
  console.log('Starting the Feedback Loops twin: emulator, synth, deploy…');
  const twin = (started.twin = await startTwin({
    port,
    context,
    adminApiKey: process.env.ADMIN_API_KEY || undefined,
    print,
    signal: starting.signal,
    checked,
    faults,
  }));

  console.log(
    [
      '',
      // From this process's start (tsx loading included), as a person waits for it.
      `Feedback Loops twin ready in ${(performance.now() / 1000).toFixed(1)} s`,
      `  Dashboard  ${twin.apiUrl}/            (sign in with the admin key, or an account's key)`,
      `  API        ${twin.apiUrl}/v1          (health: ${twin.apiUrl}/v1/health)`,
      process.env.ADMIN_API_KEY
        ? '  Admin key  taken from ADMIN_API_KEY (not printed)'
        : `  Admin key  ${twin.adminKey}`,
      `  Settings   ${changedSettings(checked.context)}   (npm start -- -c key=value changes one)`,
      `  Emulator   ${twin.emulator.endpoint}    (stack ${twin.stackName}; function logs in ${twin.logDir})`,
      process.env.AWS_ENDPOINT_URL
        ? '  AWS CLI    with your own AWS_* credentials (AWS_ENDPOINT_URL names the emulator)'
        : `  AWS CLI    AWS_ACCESS_KEY_ID=${twin.emulator.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${twin.emulator.credentials.secretAccessKey} AWS_DEFAULT_REGION=${twin.emulator.region} aws --endpoint-url ${twin.emulator.endpoint} …   (allowed everything)`,
      `  SES        aws --endpoint-url ${twin.emulator.endpoint} events put-events --entries file://examples/ses-open.json   (docs/ses.md)`,
      `  Schedules  ${twin.controlUrl}/schedules   (POST …/schedules/<rule> runs one now)`,
      `  Faults     ${twin.controlUrl}/faults      (${faults?.rules.length ? `failing ${faults.rules.map((r) => `${r.service}:${r.action}=${r.rate}`).join(',')}, seed ${faults.seed}` : 'none'}; …/functions/<name>/crash, …/pollers/<name>/pause)`,
      'One line per invocation follows. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

let stopRequested = false;

main().catch((error: Error) => {
  if (stopRequested) {
    console.log('The twin stopped before it was ready.'); // stopped while it started, as asked
    process.exit(0);
  }
  const plain = error instanceof InvalidSettingsError || error instanceof SetupError || error instanceof FaultSpecError;
  console.error(plain ? error.message : `The twin could not start: ${error.stack ?? error.message}`);
  process.exit(1);
});
