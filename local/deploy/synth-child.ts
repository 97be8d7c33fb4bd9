import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApp } from '../../lib/app.ts';
import { InvalidSettingsError } from '../../lib/settings.ts';
import { ASSEMBLY_SUMMARY, type AssemblySummary, type SynthRequest, type SynthResult } from './synth.ts';

/**
 * The twin's synth, in a process of its own (local/synth.ts starts it): synthesizing is synchronous
 * and takes seconds, so here it runs while the twin starts the emulator and still answers signals.
 */
function synthesize({ outdir, context }: SynthRequest): AssemblySummary {
  // The template is the one `cdk synth` makes; the built-in template validation only warns, costs
  // seconds on every start, and runs in test:cdk and at `cdk deploy` anyway.
  const { app, stack } = createApp({ outdir, context, builtinCloudFormationValidation: false });
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const manifest = JSON.parse(readFileSync(path.join(outdir, `${artifact.stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const summary: AssemblySummary = {
    stackName: artifact.stackName,
    templateFile: artifact.templateFile,
    assetDirs: Object.entries(manifest.files)
      .filter(([, file]) => file.source.packaging === 'zip')
      .map(([hash, file]) => [hash, file.source.path]),
  };
  // Read back by a twin that reuses this assembly without synthesizing.
  writeFileSync(path.join(outdir, ASSEMBLY_SUMMARY), JSON.stringify(summary));
  return summary;
}

// The twin is gone: nothing will read the result.
process.on('disconnect', () => process.exit(0));
process.once('message', (request: SynthRequest) => {
  let result: SynthResult;
  try {
    result = { ok: true, summary: synthesize(request) };
  } catch (error) {
    const settings = error instanceof InvalidSettingsError;
    result = { ok: false, settings, message: settings ? error.message : String((error as Error).stack ?? error) };
  }
  process.send!(result, () => process.exit(0));
});
