import { requireEnv } from '../shared/config.ts';
import { ApiError, notFound } from '../shared/errors.ts';
import { type ApiEvent, type ApiResult, apiHandler } from '../shared/http.ts';

/** Every `METHOD /path` the API has, from the stack, to tell a wrong method (405) from a wrong path (404). */
const ROUTE_KEYS: string[] = JSON.parse(requireEnv('ROUTE_KEYS'));

const routes: Record<string, (event: ApiEvent) => Promise<ApiResult>> = {
  'GET /v1/health': async () => ({ status: 200, body: { status: 'ok' } }),
};

export const handler = apiHandler(async (event) => {
  const route = routes[event.routeKey];
  if (route) return route(event);
  // `$default`: nothing matched. Same path with another method → 405 with the methods it has.
  const path = event.rawPath;
  const allowed = ROUTE_KEYS.filter((key) => pathMatches(key.split(' ')[1]!, path)).map((key) => key.split(' ')[0]!);
  if (allowed.length) {
    throw new ApiError(405, 'method_not_allowed', `${event.requestContext.http.method} is not allowed on ${path}; use ${allowed.join(' or ')}.`, {
      headers: { allow: allowed.join(', ') },
    });
  }
  throw notFound(`There is no ${path} in this API.`);
});

/** Matches an API Gateway route path such as `/v1/loops/{loopId}` against a request path. */
function pathMatches(template: string, path: string): boolean {
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+');
  return new RegExp(`^${pattern}$`).test(path);
}
