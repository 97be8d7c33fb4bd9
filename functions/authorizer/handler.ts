import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { logger } from '#shared/runtime/logger.ts';
import { type AuthorizerContext, type Principal, principalToContext } from '#shared/http/principal.ts';
import { bearerKey, resolveKey } from '#shared/http/key-resolver.ts';

/**
 * Lets every request through with the caller in its context; each route refuses what it must, so
 * refusals carry the API's error shape (API Gateway's own 401/403 bodies do not).
 */
export const handler = middy<
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>
>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    const header = event.headers?.authorization ?? event.headers?.Authorization;
    const key = bearerKey(header);
    if (!key) {
      const principal: Principal = { kind: 'anonymous', reason: header ? 'invalid' : 'missing' };
      return { isAuthorized: true, context: principalToContext(principal) };
    }
    return { isAuthorized: true, context: principalToContext(await resolveKey(key)) };
  });
