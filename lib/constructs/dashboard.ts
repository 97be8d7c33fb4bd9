import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stage } from 'aws-cdk-lib';
import { buildSync } from 'esbuild';
import { Construct } from 'constructs';
import { AppFunction, type AppFunctionProps } from './app-function.ts';

const SOURCE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboard');

/**
 * The dashboard's function (`functions/dashboard`), with the browser app built now, at synth time:
 * esbuild bundles `dashboard/src` into content-hashed files under `assets/`, `index.html` names them,
 * and the bundling copies both into the function's asset. The files travel with the code they
 * belong to (one asset, one deploy), and the function's asset hash changes whenever they do.
 */
export class Dashboard extends Construct {
  readonly fn: AppFunction;

  constructor(scope: Construct, id: string, props: Pick<AppFunctionProps, 'observability'>) {
    super(scope, id);
    this.fn = new AppFunction(this, 'Function', {
      name: 'dashboard',
      description: 'GET / and /assets/*: the browser dashboard, which calls this API',
      timeout: Duration.seconds(5),
      memorySize: 128,
      observability: props.observability,
      // Built into the cloud assembly's folder, beside the bundles it ends up in.
      publicFiles: buildDashboard(path.join(Stage.of(this)!.outdir, 'dashboard.build')),
    });
  }
}

/**
 * Builds the browser app into `outdir` (emptied first): `index.html` and `assets/<name>-<hash>.{js,css,svg}`
 * (the icon too, so that the browser's favicon request finds one rather than a 404).
 */
export function buildDashboard(outdir: string): string {
  rmSync(outdir, { recursive: true, force: true });
  const result = buildSync({
    entryPoints: [path.join(SOURCE_DIR, 'src', 'main.ts')],
    outdir: path.join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const [script, output] = Object.entries(result.metafile.outputs).find(([, out]) => out.entryPoint)!;
  const name = (file: string) => `/assets/${path.basename(file)}`;
  const page = readFileSync(path.join(SOURCE_DIR, 'index.html'), 'utf8')
    .replace('%SCRIPT%', name(script))
    .replace('%STYLE%', name(output.cssBundle!));
  const icon = readFileSync(path.join(SOURCE_DIR, 'favicon.svg'));
  const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8).toUpperCase()}.svg`;
  writeFileSync(path.join(outdir, 'assets', iconName), icon);
  writeFileSync(path.join(outdir, 'index.html'), page.replace('%ICON%', `/assets/${iconName}`));
  return outdir;
}
