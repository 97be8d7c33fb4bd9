import { requireBoolEnv, requireListEnv } from './config.ts';
import type { OutboundPolicy } from './outbound-http.ts';

/** The deployment's outbound settings (allowHttpTargets, allowedTargetCidrs), as the stack set them. */
export function outboundPolicyFromEnv(): OutboundPolicy {
  return {
    allowHttp: requireBoolEnv('ALLOW_HTTP_TARGETS'),
    allowedCidrs: requireListEnv('ALLOWED_TARGET_CIDRS', { allowEmpty: true }),
  };
}
