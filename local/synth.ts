import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createApp } from '../lib/app.ts';
import type { Template } from './template.ts';

export interface Assembly {
  stackName: string;
  template: Template;
  templateFile: string;
  /** Asset hash (the S3 key without `.zip`) → the bundled folder it was built from. */
  assetDirs: Map<string, string>;
}

/** The twin's defaults (SPEC §10): receivers on this machine can be tried. */
export const TWIN_CONTEXT = { allowHttpTargets: 'true', allowedTargetCidrs: '127.0.0.0/8,::1/128' };

/**
 * Synthesizes the app exactly as `cdk synth` would: cdk.json's context, then the twin's defaults,
 * then the settings given on the command line.
 */
export function synthesize(outdir: string, context: Record<string, string>): Assembly {
  const cdkJson = JSON.parse(readFileSync(path.resolve('cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const { app, stack } = createApp({ outdir, context: { ...cdkJson.context, ...TWIN_CONTEXT, ...context } });
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const manifest = JSON.parse(readFileSync(path.join(outdir, `${artifact.stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const assetDirs = new Map<string, string>();
  for (const [hash, file] of Object.entries(manifest.files)) {
    if (file.source.packaging === 'zip') assetDirs.set(hash, path.join(outdir, file.source.path));
  }
  return {
    stackName: artifact.stackName,
    template: artifact.template as Template,
    templateFile: path.join(outdir, artifact.templateFile),
    assetDirs,
  };
}
