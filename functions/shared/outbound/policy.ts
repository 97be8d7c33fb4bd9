import { requireBoolEnv, requireListEnv } from '#shared/runtime/config.ts';
import type { OutboundPolicy } from './client.ts';

/** The deployment's outbound settings (allowHttpTargets, allowedTargetCidrs), as the stack set them. */
export function outboundPolicyFromEnv(): OutboundPolicy {
  return {
    allowHttp: requireBoolEnv('ALLOW_HTTP_TARGETS'),
    allowedCidrs: requireListEnv('ALLOWED_TARGET_CIDRS', { allowEmpty: true }),
  };
}
