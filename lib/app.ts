import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FeedbackLoopsStack } from './feedback-loops-stack.ts';
import { readSettings } from './settings.ts';

export const DEFAULT_STACK_NAME = 'FeedbackLoops';

export interface CreateAppOptions {
  /** Context values as `-c key=value` would give them; they win over cdk.json. */
  context?: Record<string, unknown>;
  outdir?: string;
}

/**
 * The CDK app: settings read from context, the stack, and cdk-nag's AwsSolutions checks. Used by
 * `cdk` (bin/app.ts), by the local twin and by the tests, so all three build the same thing.
 */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: FeedbackLoopsStack } {
  const app = new App({ context: options.context, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const stack = new FeedbackLoopsStack(app, app.node.tryGetContext('stackName') ?? DEFAULT_STACK_NAME, {
    settings,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
