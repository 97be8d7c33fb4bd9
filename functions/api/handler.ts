import { requireEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { ApiError, notFound } from '#shared/http/errors.ts';
import { type ApiEvent, type ApiResult, apiHandler, requireAccount, requireAdmin } from '#shared/http/api-handler.ts';
import { ROUTES, type RequestOf, type KeyOf, type Route, type RouteSpec, routeKey } from '#shared/http/routes.ts';
import { deleteKey, getAccounts, getKeys, postAccount, postKey } from './accounts.ts';
import { getFailures, replayFailures } from './failures.ts';
import { downloadLogFile, getLogFiles } from './logfiles.ts';
import { testLoop } from './trial-delivery.ts';
import { getLoops, getOneLoop, patchLoop, postLoop, removeLoop, rotateSecret, verifyLoop } from './loops.ts';
import { openApiDocument } from './openapi.ts';
import { makeTrackingUrls, rotateTrackingKey } from './tracking.ts';
import { routeRequest } from './request.ts';
import { deleteSesSource, getSesSources, postSesSource } from './ses-sources.ts';

type ApiRoute = Extract<Route, { fn: 'api' }>;
type ApiRouteKey = KeyOf<ApiRoute>;

/** The management API: every `fn: 'api'` route of the table has its handler here (the type says so). */
const handlers: { [K in ApiRouteKey]: (event: ApiEvent, request: RequestOf<K>) => Promise<ApiResult> } = {
  'GET /v1/health': async () => ({ status: 200, body: { status: 'ok' } }),
  'GET /v1/openapi.json': async () => ({ status: 200, body: openApiDocument(requireEnv(ENV.API_URL)) }),
  'POST /v1/accounts': postAccount,
  'GET /v1/accounts': getAccounts,
  'GET /v1/accounts/{accountId}/keys': getKeys,
  'POST /v1/accounts/{accountId}/keys': postKey,
  'DELETE /v1/accounts/{accountId}/keys/{keyId}': deleteKey,
  'POST /v1/loops': postLoop,
  'GET /v1/loops': getLoops,
  'GET /v1/loops/{loopId}': getOneLoop,
  'PATCH /v1/loops/{loopId}': patchLoop,
  'DELETE /v1/loops/{loopId}': removeLoop,
  'POST /v1/loops/{loopId}/verify': verifyLoop,
  'POST /v1/loops/{loopId}/secret/rotate': rotateSecret,
  'POST /v1/loops/{loopId}/test': testLoop,
  'GET /v1/loops/{loopId}/failures': getFailures,
  'POST /v1/loops/{loopId}/failures/replay': replayFailures,
  'GET /v1/logfiles': getLogFiles,
  'GET /v1/logfiles/{name}': downloadLogFile,
  'POST /v1/sources/ses': postSesSource,
  'GET /v1/sources/ses': getSesSources,
  'DELETE /v1/sources/ses/{configurationSet}': deleteSesSource,
  'POST /v1/tracking/urls': makeTrackingUrls,
  'POST /v1/tracking/secret/rotate': rotateTrackingKey,
};

export const handler = apiHandler(async (event) => {
  const route = ROUTES.find((candidate) => routeKey(candidate) === event.routeKey);
  if (!route || route.fn !== 'api') return notMatched(event);
  // Access is checked here, from the route table, so that no route can forget it.
  if (route.access === 'admin') requireAdmin(event);
  if (route.access === 'account') requireAccount(event);
  const answer = handlers[routeKey(route) as ApiRouteKey] as (event: ApiEvent, request: unknown) => Promise<ApiResult>;
  const result = await answer(event, routeRequest(route, event));
  if (!(route as RouteSpec).holdsSecret) return result;
  return { ...result, headers: { ...result.headers, 'cache-control': 'no-store' } };
});

/** `$default`: nothing matched. The same path with another method → 405 with the methods it has. */
function notMatched(event: ApiEvent): never {
  const path = event.rawPath;
  const allowed = ROUTES.filter((route) => pathMatches(route.path, path)).map((route) => route.method);
  if (allowed.length) {
    throw new ApiError(
      405,
      'method_not_allowed',
      `${event.requestContext.http.method} is not allowed on ${path}; use ${allowed.join(' or ')}.`,
      {
        headers: { allow: allowed.join(', ') },
      },
    );
  }
  throw notFound(`There is no ${path} in this API.`);
}

/** Matches a route path such as `/v1/loops/{loopId}` against a request path. */
function pathMatches(template: string, path: string): boolean {
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+');
  return new RegExp(`^${pattern}$`).test(path);
}
