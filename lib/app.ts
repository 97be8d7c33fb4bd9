import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FeedbackLoopsStack } from './feedback-loops-stack.ts';
import { readSettings } from './settings.ts';

export const DEFAULT_STACK_NAME = 'FeedbackLoops';

export interface CreateAppOptions {
  /** Context values as `-c key=value` would give them; they win over cdk.json. */
  context?: Record<string, unknown>;
  outdir?: string;
  /**
   * Keep CDK's "Bundling asset …" line for each function on stderr. Off by default: tests and the
   * twin synthesize many times and the lines say nothing there; `cdk` (bin/app.ts) keeps them.
   */
  bundlingMessages?: boolean;
  /**
   * CDK's built-in CloudFormation template validation (on by default). It only warns and costs
   * seconds; the twin, which synthesizes on every start, turns it off.
   */
  builtinCloudFormationValidation?: boolean;
}

/**
 * The CDK app: settings read from context, the stack, and cdk-nag's AwsSolutions checks. Used by
 * `cdk` (bin/app.ts), by the local twin and by the tests, so all three build the same thing.
 */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: FeedbackLoopsStack } {
  const app = new App({
    context: options.context,
    ...(options.outdir ? { outdir: options.outdir } : {}),
    ...(options.builtinCloudFormationValidation === false ? { builtinCloudFormationValidation: false } : {}),
  });
  // Every key, so that a misspelt setting is refused rather than ignored.
  const settings = readSettings((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  // Functions are bundled as their stack is built (NodejsFunction stages its code in its constructor).
  const build = () =>
    new FeedbackLoopsStack(app, app.node.tryGetContext('stackName') ?? DEFAULT_STACK_NAME, {
      settings,
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    });
  const stack = options.bundlingMessages ? build() : withoutBundlingMessages(build);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const BUNDLING_MESSAGE = /^Bundling asset \S+\.\.\.\r?\n$/;

/** CDK writes "Bundling asset <path>..." straight to process.stderr; bundling is synchronous. */
function withoutBundlingMessages<T>(run: () => T): T {
  const stderr = process.stderr;
  const write = stderr.write;
  stderr.write = function (this: typeof stderr, chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk === 'string' && BUNDLING_MESSAGE.test(chunk)) return true;
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stderr.write;
  try {
    return run();
  } finally {
    stderr.write = write;
  }
}
