import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { synth } from './synth.ts';

const run = promisify(execFile);

describe('compliance of the synthesized stack', () => {
  const { templateFile, outdir } = synth();

  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    // cdk-nag 3 reports through CDK's policy validation; synth() above throws on a failure.
    const reportFile = path.join(outdir, 'policy-validation-report.json');
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: { summary: { status: string; pluginName: string }; violations: unknown[] }[] };
    const nag = report.pluginReports.find((plugin) => /AwsSolutions/i.test(plugin.summary.pluginName));
    expect(nag, 'the AwsSolutions plugin ran').toBeDefined();
    expect(nag!.violations).toEqual([]);
    expect(nag!.summary.status).toBe('success');
  });

  it('passes cfn-lint', async () => {
    const result = await run('cfn-lint', [templateFile]).catch((error: { stdout: string; stderr: string }) => error);
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
