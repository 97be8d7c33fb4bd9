import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { synthesize, twinContext } from '../../local/deploy/synth.ts';
import { functionEnvironments } from '../support/function-environment.ts';
import { TWIN_TESTS_CONTEXT } from '../support/twin-info.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The functions' environments for the handler tests, from the app synthesized as the twin project
 * synthesizes it: the same settings and the same cache (.twin/synth), so in `npm test` whichever
 * setup runs first synthesizes and the other reuses it. A reused synth costs well under a second; a
 * first one (or one after a change under bin/, lib/, functions/ or dashboard/) the synth's seconds.
 */
export default async function setup(project: TestProject) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'fl-unit-synth-'));
  try {
    const assembly = await synthesize({
      outdir,
      cacheDir: path.join(ROOT, '.twin', 'synth'),
      context: twinContext(TWIN_TESTS_CONTEXT),
      log: (line) => console.log(line),
    });
    project.provide('functionEnvironments', functionEnvironments(assembly.template));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
