import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { zipSync } from 'fflate';
import type { Emulator } from '../emulator/emulator.ts';
import type { Assembly } from './synth.ts';
import { prop, resourcesOfType } from '../template.ts';

export interface Deployment {
  /** Logical id → physical id (name, URL or ARN, as CloudFormation reports it). */
  physicalIds: Map<string, string>;
  /** Logical ids of resources the emulator's CloudFormation does not create (the twin stands in). */
  skipped: { id: string; type: string }[];
  /** Secret name → value, for the secrets the twin created. */
  secrets: Map<string, string>;
}

export const clientConfig = (emulator: Emulator) => ({
  endpoint: emulator.endpoint,
  region: emulator.region,
  credentials: emulator.credentials,
  forcePathStyle: true,
});

/**
 * Deploys the synthesized stack as `cdk deploy` would into a bootstrapped account: the bootstrap
 * version parameter, the asset zips in the assets bucket, then CloudFormation.
 */
export async function deploy(
  emulator: Emulator,
  assembly: Assembly,
  options: { adminApiKey?: string },
): Promise<Deployment> {
  const config = clientConfig(emulator);
  const cloudformation = new CloudFormationClient(config);

  const s3 = new S3Client(config);
  const assetsBucket = `cdk-hnb659fds-assets-${emulator.accountId}-${emulator.region}`;
  // The bootstrap parameter and the assets do not wait for each other.
  await Promise.all([
    new SSMClient(config).send(
      new PutParameterCommand({
        Name: '/cdk-bootstrap/hnb659fds/version',
        Value: '30',
        Type: 'String',
        Overwrite: true,
      }),
    ),
    s3
      .send(new CreateBucketCommand({ Bucket: assetsBucket }))
      .catch((error: Error) => {
        if (error.name !== 'BucketAlreadyOwnedByYou') throw error;
      })
      .then(() =>
        Promise.all(
          [...assembly.assetDirs].map(([hash, dir]) =>
            s3.send(new PutObjectCommand({ Bucket: assetsBucket, Key: `${hash}.zip`, Body: zipFolder(dir) })),
          ),
        ),
      ),
  ]);

  await cloudformation.send(
    new CreateStackCommand({
      StackName: assembly.stackName,
      TemplateBody: JSON.stringify(withoutOutputs(JSON.parse(readFileSync(assembly.templateFile, 'utf8')))),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
    }),
  );
  await waitForStack(cloudformation, assembly.stackName);

  const physicalIds = new Map<string, string>();
  const skipped: Deployment['skipped'] = [];
  let nextToken: string | undefined;
  do {
    const page = await cloudformation.send(
      new ListStackResourcesCommand({ StackName: assembly.stackName, NextToken: nextToken }),
    );
    for (const summary of page.StackResourceSummaries ?? []) {
      if (summary.LogicalResourceId && summary.PhysicalResourceId)
        physicalIds.set(summary.LogicalResourceId, summary.PhysicalResourceId);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  for (const [id, resource] of Object.entries(assembly.template.Resources)) {
    if (!physicalIds.has(id) && resource.Type !== 'AWS::CDK::Metadata') skipped.push({ id, type: resource.Type });
  }

  const secrets = await createSkippedSecrets(emulator, assembly, physicalIds, options.adminApiKey);
  return { physicalIds, skipped, secrets };
}

/**
 * moto's CloudFormation fails the whole stack on an output that points at a resource type it lacks
 * (the API's URL). Outputs are for people; the twin reads them from the template, so it leaves them out.
 */
function withoutOutputs(template: Record<string, unknown>): Record<string, unknown> {
  const { Outputs: _outputs, ...rest } = template;
  return rest;
}

async function waitForStack(cloudformation: CloudFormationClient, stackName: string): Promise<void> {
  for (;;) {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const status = Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
    if (status === 'CREATE_COMPLETE') return;
    if (!status.endsWith('_IN_PROGRESS')) {
      const { StackEvents } = await cloudformation.send(new DescribeStackEventsCommand({ StackName: stackName }));
      const reasons = (StackEvents ?? [])
        .filter((event) => event.ResourceStatusReason)
        .map((event) => `${event.LogicalResourceId}: ${event.ResourceStatusReason}`);
      throw new Error(`Deploying ${stackName} into the emulator ended in ${status}:\n${reasons.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The emulator's CloudFormation skips Secrets Manager secrets; the twin creates each one under the
 * name the template gives it (the stack refers to secrets by name), with a value made the way
 * GenerateSecretString asks, or ADMIN_API_KEY for the admin key.
 */
async function createSkippedSecrets(
  emulator: Emulator,
  assembly: Assembly,
  physicalIds: Map<string, string>,
  adminApiKey: string | undefined,
): Promise<Map<string, string>> {
  const client = new SecretsManagerClient(clientConfig(emulator));
  const adminSecretName = assembly.template.Outputs?.AdminSecretName?.Value;
  const created = new Map<string, string>();
  for (const [id, secret] of resourcesOfType(assembly.template, 'AWS::SecretsManager::Secret')) {
    if (physicalIds.has(id)) continue;
    const name = prop<string>(secret, 'Name');
    if (!name)
      throw new Error(`Secret ${id} has no Name: the stack must name its secrets for the twin to create them.`);
    const generate =
      prop<{ PasswordLength?: number; ExcludePunctuation?: boolean }>(secret, 'GenerateSecretString') ?? {};
    const value =
      name === adminSecretName && adminApiKey
        ? adminApiKey
        : randomPassword(generate.PasswordLength ?? 32, !generate.ExcludePunctuation);
    await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    created.set(name, value);
  }
  return created;
}

function randomPassword(length: number, punctuation: boolean): string {
  const alphabet =
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789' +
    (punctuation ? '!#$%&()*+,-.:;<=>?@[]^_{|}~' : '');
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

function zipFolder(dir: string): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const full = path.join(folder, name);
      if (statSync(full).isDirectory()) walk(full);
      else files[path.relative(dir, full).split(path.sep).join('/')] = readFileSync(full);
    }
  };
  walk(dir);
  return zipSync(files);
}
