/**
 * Who is calling, as the authoriser resolved it from the API key and passed to every route in its
 * context. The authoriser lets every request through; the route decides (401, 403) so that refusals
 * carry the API's error shape.
 */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'account'; accountId: string; keyId: string }
  | { kind: 'anonymous'; reason: 'missing' | 'invalid' }
  /** The key could not be checked just now (the table or the secret was unreachable). */
  | { kind: 'unavailable' };

/** The flat string map the authoriser returns as its context (API Gateway allows only scalars). */
export type AuthorizerContext = { kind: string; accountId?: string; keyId?: string; reason?: string };

export function principalFromContext(context: AuthorizerContext | undefined): Principal {
  if (context?.kind === 'admin') return { kind: 'admin' };
  if (context?.kind === 'unavailable') return { kind: 'unavailable' };
  if (context?.kind === 'account' && context.accountId && context.keyId) {
    return { kind: 'account', accountId: context.accountId, keyId: context.keyId };
  }
  return { kind: 'anonymous', reason: context?.reason === 'missing' ? 'missing' : 'invalid' };
}

export function principalToContext(principal: Principal): AuthorizerContext {
  return { ...principal };
}
