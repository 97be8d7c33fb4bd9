import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../lib/app.ts';

/** Synthesizes the app as `cdk synth` would (cdk-nag included) into a fresh folder. */
export function synth(context: Record<string, string> = {}) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'fl-synth-'));
  const { app, stack } = createApp({ outdir, context });
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  return {
    template: Template.fromStack(stack),
    json: artifact.template,
    templateFile: path.join(outdir, artifact.templateFile),
    outdir,
  };
}

/** The logical id of the function whose code lives in `functions/<name>/`. */
export function functionId(json: { Resources: Record<string, { Type: string }> }, logicalPrefix: string): string {
  const id = Object.keys(json.Resources).find(
    (key) => key.startsWith(logicalPrefix) && json.Resources[key]!.Type === 'AWS::Lambda::Function',
  );
  if (!id) throw new Error(`no function ${logicalPrefix}`);
  return id;
}
