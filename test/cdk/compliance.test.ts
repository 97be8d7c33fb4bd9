import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { synth } from './synth.ts';

const run = promisify(execFile);

describe('compliance of the synthesized stack', () => {
  const { templateFile, outdir } = synth();

  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    // cdk-nag 3 reports through CDK's policy validation: synth() above would have thrown on a finding.
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    expect(report.pluginReports).toEqual([]);
  });

  it('really runs cdk-nag: an unencrypted queue fails the synth', () => {
    const { app, stack } = createApp({ outdir: mkdtempSync(path.join(tmpdir(), 'fl-nag-')) });
    new Queue(stack, 'PlainQueue', { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/SQS Queue does not have server-side encryption/);
  });

  it('passes cfn-lint', async () => {
    const result = await run('cfn-lint', ['--config-file', '.cfnlintrc.yaml', templateFile]).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(result.stdout + result.stderr).toBe('');
  });

  it('refuses a bad setting at synth with a clear message, through the cdk entry point', async () => {
    const failure = await run(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), 'bin/app.ts'], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ retrySchedule: '5,soon' }), CDK_OUTDIR: outdir },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('Invalid deployment settings');
    expect(failure?.stderr).toContain('retrySchedule');
  });
});
