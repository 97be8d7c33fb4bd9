import { parseArgs } from 'node:util';
import { startTwin } from '../../local/twin.ts';
import { runFuzz } from './runner.ts';

/**
 * `npm run fuzz [-- --seed N --runs N]`: starts a twin of its own, sends `runs` (default 10,000)
 * generated requests over every route, prints the figures and every finding, and exits 1 on any.
 * The same seed generates the same requests again.
 */
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    runs: { type: 'string', default: '10000' },
    round: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
  },
});
const number = (name: keyof typeof values, min: number, max: number) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}, not ${values[name]}`);
    process.exit(2);
  }
  return value;
};
const seed = number('seed', -(2 ** 31), 2 ** 31 - 1);
const runs = number('runs', 1, 1_000_000);
const round = number('round', 10, 10_000);
const concurrency = number('concurrency', 1, 8);

console.log(`fuzz: seed ${seed} (again: npm run fuzz -- --seed ${seed} --runs ${runs}); starting a twin…`);
const twin = await startTwin({
  port: 0,
  // The twin's failed invocations (a function past its timeout, a crash) say what a gateway 500 was.
  print: (line) => {
    if (/ ERR /.test(line)) console.log(`twin: ${line}`);
  },
  context: { retrySchedule: '1,1,1', deliveryTimeoutSeconds: '2', logFlushSeconds: '10' },
});
let failed: boolean;
try {
  console.log(
    `fuzz: twin up in ${(twin.startupMs / 1000).toFixed(1)} s at ${twin.apiUrl}; function logs in ${twin.logDir}`,
  );
  const tally = await runFuzz(
    {
      apiUrl: twin.apiUrl,
      adminKey: twin.adminKey,
      endpoint: twin.emulator.endpoint,
      region: twin.emulator.region,
      credentials: twin.emulator.credentials,
      resources: Object.fromEntries(twin.resources),
    },
    { seed, runs, round, concurrency, log: (line) => console.log(line) },
  );
  console.log(tally.report());
  failed = tally.findings.length > 0;
  console.log(failed ? `fuzz: ${tally.findings.length} findings (seed ${seed})` : `fuzz: no findings (seed ${seed})`);
} finally {
  await twin.stop();
}
process.exit(failed ? 1 : 0);
