import type { LocalFunction } from '../lambda/runtime.ts';
import { type Template, prop, referencedId, resourcesOfType } from '../template.ts';
import { type Clock, RouteThrottle, readThrottling } from './throttle.ts';

export interface Authorizer {
  fn: LocalFunction;
  identitySource: string[];
  ttlSeconds: number;
  simpleResponses: boolean;
}

export interface Route {
  routeKey: string;
  method: string;
  pattern: RegExp | undefined;
  paramNames: string[];
  /** Fewer parameters and a longer literal path win, as in API Gateway. */
  specificity: number;
  fn: LocalFunction;
  authorizer: Authorizer | undefined;
  /** Takes the route's throttling token (the stage's limits in the template). */
  throttle: () => ReturnType<RouteThrottle['take']>;
}

/**
 * Reads the HTTP API's routes, integrations, authorisers and throttling from the template; `clock`
 * (milliseconds) drives the throttling's token buckets.
 */
export function readRoutes(template: Template, functions: Map<string, LocalFunction>, clock?: Clock): Route[] {
  const throttle = new RouteThrottle(readThrottling(template), clock);
  const fnOf = (value: unknown, what: string) => {
    const id = referencedId(value);
    const fn = id ? functions.get(id) : undefined;
    if (!fn) throw new Error(`${what} does not point at a function of the stack`);
    return fn;
  };
  const integrations = new Map(
    resourcesOfType(template, 'AWS::ApiGatewayV2::Integration').map(([id, integration]) => {
      if (prop(integration, 'PayloadFormatVersion') !== '2.0')
        throw new Error(`Integration ${id}: the twin speaks payload format 2.0 only`);
      return [id, fnOf(prop(integration, 'IntegrationUri'), `Integration ${id}`)];
    }),
  );
  const authorizers = new Map(
    resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer').map(([id, authorizer]): [string, Authorizer] => [
      id,
      {
        fn: fnOf(prop(authorizer, 'AuthorizerUri'), `Authorizer ${id}`),
        identitySource: prop<string[]>(authorizer, 'IdentitySource') ?? [],
        ttlSeconds: prop<number>(authorizer, 'AuthorizerResultTtlInSeconds') ?? 0,
        simpleResponses: prop<boolean>(authorizer, 'EnableSimpleResponses') ?? false,
      },
    ]),
  );
  return resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
    .map(([id, route]): Route => {
      const routeKey = prop<string>(route, 'RouteKey')!;
      const fn = integrations.get(referencedId(prop(route, 'Target')) ?? '');
      if (!fn) throw new Error(`Route ${routeKey} (${id}) has no Lambda integration`);
      const authorizer =
        prop(route, 'AuthorizationType') === 'CUSTOM'
          ? authorizers.get(referencedId(prop(route, 'AuthorizerId')) ?? '')
          : undefined;
      const common = { routeKey, fn, authorizer, throttle: () => throttle.take(routeKey) };
      if (routeKey === '$default')
        return { ...common, method: 'ANY', pattern: undefined, paramNames: [], specificity: -1 };
      const [method, path] = routeKey.split(' ') as [string, string];
      const paramNames: string[] = [];
      const source = path
        .split('/')
        .map((segment) => {
          const param = /^\{([^}+]+)(\+?)\}$/.exec(segment);
          if (!param) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          paramNames.push(param[1]!);
          return param[2] ? '(.+)' : '([^/]+)';
        })
        .join('/');
      const specificity = path.length - paramNames.length * 1000;
      return { ...common, method, pattern: new RegExp(`^${source}$`), paramNames, specificity };
    })
    .sort((a, b) => b.specificity - a.specificity);
}

/** The most specific route for a request, or the `$default` route. */
export function match(routes: Route[], method: string, path: string) {
  for (const route of routes) {
    if (!route.pattern) continue;
    if (route.method !== 'ANY' && route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (!found) continue;
    const pathParameters = Object.fromEntries(
      route.paramNames.map((name, index) => [name, decodePathSegment(found[index + 1]!)]),
    );
    return { route, pathParameters };
  }
  const fallback = routes.find((route) => route.routeKey === '$default');
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

/** A path parameter as the integration sees it; malformed percent-encoding stays as it came. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
