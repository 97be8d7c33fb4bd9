import { requireBoolEnv, requireListEnv } from '#shared/runtime/config.ts';
import type { OutboundPolicy } from './client.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/** The deployment's outbound settings (allowHttpTargets, allowedTargetCidrs), as the stack set them. */
export function outboundPolicyFromEnv(): OutboundPolicy {
  return {
    allowHttp: requireBoolEnv(ENV.ALLOW_HTTP_TARGETS),
    allowedCidrs: requireListEnv(ENV.ALLOWED_TARGET_CIDRS, { allowEmpty: true }),
  };
}
