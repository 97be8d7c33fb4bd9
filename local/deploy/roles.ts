import { IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { clientConfig, type Deployment } from './deploy.ts';
import type { Credentials, Emulator } from '../emulator/emulator.ts';
import type { Assembly } from './synth.ts';
import { prop, referencedId, resourcesOfType } from '../template.ts';

/**
 * Credentials for each function's role, so that every function calls AWS as itself and the
 * emulator's IAM decides. moto cannot assume a role whose trust policy names only a service
 * principal, so the twin trusts its own user with each role first (the role's permissions are
 * untouched), then assumes it.
 */
export async function assumeFunctionRoles(
  emulator: Emulator,
  assembly: Assembly,
  deployment: Deployment,
): Promise<Map<string, Credentials>> {
  const iam = new IAMClient(clientConfig(emulator));
  const sts = new STSClient(clientConfig(emulator));
  const byFunction = new Map<string, Credentials>();
  // One role after the other took a second of every start; they do not depend on each other.
  await Promise.all(
    resourcesOfType(assembly.template, 'AWS::Lambda::Function').map(async ([functionId, fn]) => {
      const roleId = referencedId(prop(fn, 'Role'));
      const roleName = roleId && deployment.physicalIds.get(roleId);
      if (!roleName) throw new Error(`Function ${functionId} has no role the emulator created.`);
      await iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: roleName,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: emulator.twinUserArn }, Action: 'sts:AssumeRole' }],
          }),
        }),
      );
      const { Credentials: assumed } = await sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${emulator.accountId}:role/${roleName}`,
          RoleSessionName: functionId.slice(0, 64),
          DurationSeconds: 43_200,
        }),
      );
      byFunction.set(functionId, {
        accessKeyId: assumed!.AccessKeyId!,
        secretAccessKey: assumed!.SecretAccessKey!,
        sessionToken: assumed!.SessionToken!,
      });
    }),
  );
  return byFunction;
}
