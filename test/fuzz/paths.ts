import fc from 'fast-check';
import { ROUTES, type RouteSpec, routeKey } from '#shared/http/routes.ts';
import { type Auth, type FuzzRequest, NO_SUCH } from './model.ts';

/** Paths: ids that name nothing of the caller's, junk segments, wrong methods, paths no route has. */

/** Ids that name nothing of the caller's: another account's, none at all, or not an id. */
export const FOREIGN_LOOPS = [
  '{{B.verified}}',
  '{{B.unverified}}',
  NO_SUCH.loop,
  '{{A.verified|lower}}',
  '{{A.accountId}}',
  '{{A.keyId}}',
  '{{A.verified}}x',
];
export const FOREIGN_ACCOUNTS = [
  NO_SUCH.account,
  '{{A.accountId|lower}}',
  '{{A.keyId}}',
  '{{A.verified}}',
  'acc_',
  'ACCOUNT#x',
];
export const junkSegment = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom(
    '%',
    '%zz',
    '%E0%A4%A',
    '%ED%A0%80',
    '%00',
    '%2F',
    '..',
    '.',
    '%2e%2e',
    '%252F',
    '*',
    '$',
    ' '.replace(' ', '%20'),
  ),
  fc.integer({ min: 1000, max: 8000 }).map((length) => 'x'.repeat(length)),
);

/** `.` and `..` segments: a URL parser removes them, so the request may reach another route (or the dashboard). */
export const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|\?|$)/i;
export const fill = (path: string, params: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');
export const withQuery = (path: string, query?: string) => (query === undefined ? path : `${path}?${query}`);

export const DEFAULT_KEY: Record<RouteSpec['access'], Auth> = { public: 'none', admin: 'admin', account: 'A' };

/** Paths with a method they do not have (405 and `Allow`), and paths no route has (404). */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'SEARCH', 'MKCOL', 'LOCK'];
export const wrongMethod = fc.constantFrom(...ROUTES).chain((route) => {
  const path = fill(route.path, {
    loopId: '{{A.verified}}',
    accountId: '{{A.accountId}}',
    keyId: NO_SUCH.key,
    name: 'opens.{{today}}',
    configurationSet: 'fz-a-unmapped',
    token: '{{A.openToken}}',
  });
  const has = (ROUTES as readonly RouteSpec[])
    .filter((other) => other.path === route.path)
    .flatMap((other) => [other.method as string, ...(other.head ? ['HEAD'] : [])]);
  return fc.constantFrom(...METHODS.filter((method) => !has.includes(method))).map((method): FuzzRequest => ({
    route: routeKey(route),
    what: `method ${method}`,
    method,
    target: path,
    auth: DEFAULT_KEY[route.access],
    expect: 'refused',
    statuses: [405],
  }));
});
const UNKNOWN_PATHS = [
  '/v1',
  '/v1/',
  '/v2/loops',
  '/v1/loop',
  '/v1/LOOPS',
  '/v1/loops/',
  '/v1//loops',
  '/v1/./loops',
  '/v1/loops/{{A.verified}}/',
  '/v1/loops/{{A.verified}}/nope',
  '/v1/accounts/{{A.accountId}}',
  '/v1/accounts/{{A.accountId}}/keys/{{A.keyId}}/x',
  '/v1/events/x',
  '/v1/health/',
  '/v1/openapi.yaml',
  '/v1/%2e%2e/v1/loops',
  '/v1/loops%2F{{A.verified}}',
];
export const unknownPath = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...UNKNOWN_PATHS),
      junkSegment.map((segment) => `/v1/${segment}`),
    ),
    fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH'),
    fc.constantFrom<Auth>('A', 'admin', 'none'),
  )
  .map(([target, method, auth]): FuzzRequest =>
    DOT_SEGMENT.test(target)
      ? { route: '(none)', what: `path ${target.slice(0, 60)}`, method, target, auth, expect: 'inert' }
      : {
          route: '(none)',
          what: `path ${target.slice(0, 60)}`,
          method,
          target,
          auth,
          expect: 'refused',
          statuses: [404, 405],
        },
  );
