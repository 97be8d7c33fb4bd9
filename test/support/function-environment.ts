/**
 * The environment a handler test runs its function with: the function's `Environment.Variables`
 * from the synthesized template, each CloudFormation reference (a queue's URL, the table's name, an
 * ARN) replaced by a plausible fixed value. The unit project's global setup
 * (test/unit/global-setup.ts) synthesizes once and provides them; a test calls
 * `functionEnvironment('deliver', overrides)` before it imports the handler. The bench reads the
 * same from its own synth (bench/stack.ts).
 */
import { inject } from 'vitest';
import { prop, type Template } from '../../local/template.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** A function's folder under functions/ → its environment variables, references resolved. */
export type FunctionEnvironments = Record<string, Record<string, string>>;

/**
 * What Lambda itself sets, or a test may (they are in no template): the region, and the log levels
 * (a handler test runs silent unless it says otherwise).
 */
const RUNTIME_VARIABLES = ['AWS_REGION', 'POWERTOOLS_LOG_LEVEL', 'AWS_LAMBDA_LOG_LEVEL'];

/** `DeadLettersFunction1E128675` → `dead-letters`, the function's folder under functions/. */
export function functionFolder(logicalId: string): string | undefined {
  const name = /^([A-Z][A-Za-z0-9]*?)Function[0-9A-F]{8}$/.exec(logicalId)?.[1];
  return name?.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase();
}

/** Every function's environment in `template`, by its folder under functions/. */
export function functionEnvironments(template: Template): FunctionEnvironments {
  const environments: FunctionEnvironments = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const folder = functionFolder(id);
    if (!folder) continue;
    const variables = prop<{ Variables?: Record<string, unknown> }>(resource, 'Environment')?.Variables ?? {};
    environments[folder] = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, resolve(template, value, `${folder} ${name}`)]),
    );
  }
  return environments;
}

/** A fixed stand-in for what CloudFormation would put in place of `value`. */
function resolve(template: Template, value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const node = (value ?? {}) as Record<string, unknown>;
  if (typeof node.Ref === 'string') return reference(template, node.Ref, where);
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return attribute(template, String(getAtt[0]), String(getAtt[1]), where);
  const join = node['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, unknown[]];
    return parts.map((part) => resolve(template, part, where)).join(separator);
  }
  throw new Error(`${where}: no stand-in for ${JSON.stringify(value)}`);
}

function reference(template: Template, id: string, where: string): string {
  const pseudo: Record<string, string> = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::Partition': 'aws',
    'AWS::StackName': 'FeedbackLoops',
  };
  if (pseudo[id]) return pseudo[id];
  const type = template.Resources[id]?.Type;
  switch (type) {
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/FeedbackLoops-${id}`;
    case 'AWS::DynamoDB::Table':
      return `FeedbackLoops-${id}`;
    case 'AWS::S3::Bucket':
      return `feedbackloops-${id.toLowerCase()}`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:FeedbackLoops-${id}`;
    case 'AWS::ApiGatewayV2::Api':
      return id.slice(-8).toLowerCase();
    default:
      throw new Error(`${where}: no stand-in for a Ref to ${id} (${type ?? 'not in the template'})`);
  }
}

function attribute(template: Template, id: string, name: string, where: string): string {
  const type = template.Resources[id]?.Type;
  if (name === 'Arn' && type === 'AWS::SQS::Queue') return `arn:aws:sqs:${REGION}:${ACCOUNT}:FeedbackLoops-${id}`;
  if (name === 'QueueName' && type === 'AWS::SQS::Queue') return `FeedbackLoops-${id}`;
  if (name === 'Arn' && type === 'AWS::DynamoDB::Table')
    return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/FeedbackLoops-${id}`;
  if (name === 'Arn' && type === 'AWS::S3::Bucket') return `arn:aws:s3:::feedbackloops-${id.toLowerCase()}`;
  throw new Error(`${where}: no stand-in for ${id}.${name} (${type ?? 'not in the template'})`);
}

/**
 * `environment` with `overrides` on top, checked: an override must name a variable the function
 * has (or one Lambda sets), so a test cannot set what nothing reads. `undefined` leaves one unset.
 */
export function withOverrides(
  name: string,
  environment: Record<string, string>,
  overrides: Record<string, string | undefined>,
): Record<string, string | undefined> {
  for (const variable of Object.keys(overrides)) {
    if (!(variable in environment) && !RUNTIME_VARIABLES.includes(variable))
      throw new Error(`function ${name} has no environment variable ${variable} in the template`);
  }
  return { AWS_REGION: REGION, POWERTOOLS_LOG_LEVEL: 'SILENT', ...environment, ...overrides };
}

/**
 * Sets `process.env` as function `name` (its folder under functions/) gets it from the stack, with
 * `overrides` on top; returns what it set. Call it before importing the handler, which reads its
 * environment when loaded.
 */
export function functionEnvironment(
  name: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const environment = inject('functionEnvironments')[name];
  if (!environment) throw new Error(`no function ${name} in the synthesized template`);
  const set = withOverrides(name, environment, overrides);
  for (const [variable, value] of Object.entries(set)) {
    if (value === undefined) delete process.env[variable];
    else process.env[variable] = value;
  }
  return set;
}

declare module 'vitest' {
  export interface ProvidedContext {
    functionEnvironments: FunctionEnvironments;
  }
}
