import { expect, inject, it } from 'vitest';
import { runFuzz } from '../fuzz/runner.ts';

/**
 * The short fuzz run (the full one is `npm run fuzz`): ~1,000 generated requests over every route of
 * the API, with a fixed seed unless FUZZ_SEED names another. No 5xx, every refusal in the error shape,
 * nothing changed by a refused request, no other account's ids in an answer, no refused event delivered.
 *
 * What it covers that bad-input.test.ts (the per-route suite of bad bodies) does not: every route
 * of the route table, reads included, and the route list itself; wrong keys, methods, path
 * parameters (other accounts' ids, junk and dot segments) and queries (limits, forged cursors, log
 * file dates and formats), not only bodies; valid writes interleaved with the bad requests, the
 * whole fixture's state compared before and after each round; and any seed, for longer runs.
 */
const seed = process.env.FUZZ_SEED === undefined ? 20261129 : Number(process.env.FUZZ_SEED);
const runs = 1000;

// About 25 s on the shared twin when the machine is quiet; the timeout leaves room for a busy one.
it(
  `answers ${runs} generated requests (seed ${seed}) without a 5xx, a shape violation or a state change`,
  { timeout: 300_000 },
  async () => {
    console.log(`fuzz: seed ${seed} (again: FUZZ_SEED=${seed} npx vitest run test/twin/fuzz.test.ts)`);
    const twin = inject('twin');
    const tally = await runFuzz(twin, { seed, runs, concurrency: 6 });
    console.log(tally.report());
    expect(tally.sent).toBe(runs);
    expect(
      tally.findings.map((finding) => `${finding.kind} #${finding.index}: ${finding.detail.slice(0, 300)}`),
    ).toEqual([]);
  },
);
