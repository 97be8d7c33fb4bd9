import fc from 'fast-check';
import { ROUTES, type RouteSpec, routeKey } from '#shared/http/routes.ts';
import { type BodyCase, type BodySpec, bodyCases } from './bodies.ts';
import { type Auth, type Expect, type FuzzRequest, NO_SUCH } from './model.ts';
import { accountBody, eventsBody, loopChangeBody, newLoopBody, replayBody, sesSourceBody } from './route-bodies.ts';
import {
  DEFAULT_KEY,
  DOT_SEGMENT,
  FOREIGN_ACCOUNTS,
  FOREIGN_LOOPS,
  fill,
  junkSegment,
  unknownPath,
  withQuery,
  wrongMethod,
} from './paths.ts';
import { type Query, cursorQueries, limitQueries, logfileQueries } from './queries.ts';

/**
 * Every route, attacked from every side: its key, its path parameters, its method, its query and
 * its body, one thing wrong at a time (so the fitting status is known), plus valid requests.
 */

const BODIES: Partial<Record<string, BodySpec>> = {
  'POST /v1/accounts': accountBody,
  'POST /v1/events': eventsBody,
  'POST /v1/loops': newLoopBody,
  'PATCH /v1/loops/{loopId}': loopChangeBody,
  'POST /v1/loops/{loopId}/failures/replay': replayBody,
  'POST /v1/sources/ses': sesSourceBody,
};

/** Routes whose valid use changes the snapshot (loops, keys, accounts); the others are inert. */
const WRITES = new Set([
  'POST /v1/accounts',
  'POST /v1/accounts/{accountId}/keys',
  'DELETE /v1/accounts/{accountId}/keys/{keyId}',
  'POST /v1/loops',
  'PATCH /v1/loops/{loopId}',
  'DELETE /v1/loops/{loopId}',
  'POST /v1/loops/{loopId}/verify',
  'POST /v1/loops/{loopId}/secret/rotate',
  'POST /v1/tracking/secret/rotate',
]);

/** The parameters a valid request uses, per route: own loops the route may act on. */
const VALID_PARAMS: Record<string, Record<string, string[]>> = {
  'GET /v1/accounts/{accountId}/keys': { accountId: ['{{A.accountId}}', '{{B.accountId}}'] },
  'POST /v1/accounts/{accountId}/keys': { accountId: ['{{A.accountId}}', '{{B.accountId}}'] },
  'DELETE /v1/accounts/{accountId}/keys/{keyId}': { accountId: ['{{A.accountId}}'], keyId: ['{{A.createdKey}}'] },
  'GET /v1/loops/{loopId}': { loopId: ['{{A.verified}}', '{{A.unverified}}', '{{A.scratch}}'] },
  'PATCH /v1/loops/{loopId}': { loopId: ['{{A.scratch}}'] },
  'DELETE /v1/loops/{loopId}': { loopId: ['{{A.created}}'] },
  'POST /v1/loops/{loopId}/verify': { loopId: ['{{A.verified}}', '{{A.unverified}}'] },
  'POST /v1/loops/{loopId}/secret/rotate': { loopId: ['{{A.scratch}}'] },
  'POST /v1/loops/{loopId}/test': { loopId: ['{{A.verified}}'] },
  'GET /v1/loops/{loopId}/failures': { loopId: ['{{A.verified}}', '{{A.unverified}}'] },
  'POST /v1/loops/{loopId}/failures/replay': { loopId: ['{{A.verified}}'] },
  'DELETE /v1/sources/ses/{configurationSet}': { configurationSet: ['fz-a-unmapped'] },
  'GET /t/o/{token}': { token: ['{{A.openToken}}'] },
  'GET /t/c/{token}': { token: ['{{A.clickToken}}'] },
  'GET /v1/logfiles/{name}': {
    name: ['opens.{{today}}', 'abuses.{{today}}', 'loop-errors.{{today}}', 'sent.{{yesterday}}'],
  },
};

/** A's click token with each part changed (fixture.ts), and unsigned: a 404 on either tracking route. */
const TAMPERED_TOKENS = ['keyId', 'account', 'message', 'url', 'signature', 'unsigned'].map(
  (part) => `{{A.clickToken.${part}}}`,
);

/** The request a valid client would send, before anything is made wrong. */
function base(
  route: RouteSpec,
  params: Record<string, string>,
  what: string,
  expect: Expect,
  statuses?: number[],
): FuzzRequest {
  return {
    route: routeKey(route),
    what,
    method: route.method,
    target: fill(route.path, params),
    auth: DEFAULT_KEY[route.access],
    expect,
    ...(statuses ? { statuses } : {}),
  };
}

function validParams(route: RouteSpec): fc.Arbitrary<Record<string, string>> {
  const choices = VALID_PARAMS[routeKey(route)] ?? {};
  return fc.record(
    Object.fromEntries(Object.entries(choices).map(([name, values]) => [name, fc.constantFrom(...values)])),
  );
}

const withBody = (request: FuzzRequest, body: BodyCase): FuzzRequest => ({
  ...request,
  what: body.what,
  ...(body.body !== undefined ? { body: body.body } : {}),
  ...(body.contentType !== undefined ? { contentType: body.contentType } : {}),
});

function routeRequests(route: RouteSpec): fc.WeightedArbitrary<FuzzRequest>[] {
  const key = routeKey(route);
  const expectValid: Expect = WRITES.has(key) ? 'write' : 'inert';
  const params = validParams(route);
  const bodySpec = BODIES[key];
  const arbitraries: fc.WeightedArbitrary<FuzzRequest>[] = [];
  const add = (weight: number, arbitrary: fc.Arbitrary<FuzzRequest>) => arbitraries.push({ weight, arbitrary });

  // Valid requests, or (with a body) one of every kind of body. B sends events of its own.
  const keys: Auth[] =
    route.access === 'admin'
      ? ['admin']
      : key === 'POST /v1/events'
        ? ['A', 'A2', 'B']
        : route.access === 'account'
          ? ['A', 'A2']
          : ['none', 'A', 'admin', 'revoked', { header: 'Bearer nonsense' }];
  const auth = fc.constantFrom(...keys);
  if (bodySpec) {
    add(
      8,
      fc.tuple(params, bodyCases(bodySpec), auth).map(([values, body, who]) => {
        const request = { ...withBody(base(route, values, '', expectValid), body), auth: who };
        return body.valid !== false
          ? request
          : { ...request, expect: 'refused' as const, ...(body.statuses ? { statuses: body.statuses } : {}) };
      }),
    );
  } else {
    add(
      3,
      fc.tuple(params, auth).map(([values, who]) => ({ ...base(route, values, 'valid', expectValid), auth: who })),
    );
  }

  // The wrong key, or none.
  if (route.access !== 'public') {
    const wrongAuth = fc.oneof(
      fc.constantFrom<[Auth, number]>(
        ['none', 401],
        ['revoked', 401],
        [route.access === 'admin' ? 'A' : 'admin', 403],
        [route.access === 'admin' ? 'B' : 'admin', 403],
      ),
      fc
        .constantFrom(
          'Bearer',
          'Bearer ',
          'bearer',
          'Basic YWRtaW46YWRtaW4=',
          'Bearer null',
          'Bearer undefined',
          'Bearer {{key:A}}x',
          'Bearer x{{key:A}}',
          'Bearer {{key:A|cut:1}}',
          'Bearer {{key:A}} {{key:A}}',
          'Bearer {{key:A|upper}}',
          '{{key:A}}',
          'Token {{key:admin}}',
          'Bearer {{key:admin}}{{key:admin}}',
          `Bearer ${'k'.repeat(4000)}`,
          'Bearer \u00ff\u00fe',
          'Bearer a,Bearer {{key:A}}',
        )
        .map((header): [Auth, number] => [{ header }, 401]),
      fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((text): [Auth, number] => [{ header: `Bearer ${text}` }, 401]),
    );
    add(
      2,
      fc.tuple(params, wrongAuth).map(([values, [auth, status]]) => {
        const request = base(
          route,
          values,
          `auth ${typeof auth === 'string' ? auth : JSON.stringify(auth.header.slice(0, 40))}`,
          'refused',
          [status],
        );
        const body = bodySpec ? { body: '{}', contentType: 'application/json' } : {};
        return { ...request, auth, ...body };
      }),
    );
  }

  // Path parameters that name nothing of the caller's: 404, never 403.
  const paramNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  if (paramNames.length) {
    const foreign = (name: string) =>
      fc.oneof(
        fc.constantFrom(
          ...(name === 'loopId'
            ? FOREIGN_LOOPS
            : name === 'accountId'
              ? FOREIGN_ACCOUNTS
              : name === 'keyId'
                ? [NO_SUCH.key, '{{A.keyId}}', '{{B.keyId}}', '{{A.verified}}']
                : name === 'token'
                  ? [...TAMPERED_TOKENS, key.startsWith('GET /t/c/') ? '{{A.openToken}}' : '{{A.clickToken}}']
                  : ['opens.2026-13-01', 'opens', 'opens.{{today}}.json', '..%2Fopens.{{today}}', 'OPENS.{{today}}']),
        ),
        junkSegment,
      );
    add(
      3,
      fc.tuple(params, fc.constantFrom(...paramNames)).chain(([values, name]) =>
        foreign(name).map((value) => {
          // A's key listed under B's account, B's under A's: still not theirs.
          const swapped: Record<string, string> =
            name === 'keyId' && value === '{{A.keyId}}'
              ? { accountId: '{{B.accountId}}' }
              : name === 'keyId' && value === '{{B.keyId}}'
                ? { accountId: '{{A.accountId}}' }
                : {};
          const filled = { ...values, ...swapped, [name]: value };
          const request = DOT_SEGMENT.test(fill(route.path, filled))
            ? base(route, filled, `${name} ${value}`, 'inert')
            : base(route, filled, `${name} ${value.slice(0, 60)}`, 'refused', [404]);
          return bodySpec
            ? { ...request, body: key.startsWith('PATCH') ? '{"enabled":true}' : '{}', contentType: 'application/json' }
            : request;
        }),
      ),
    );
  }

  // The query of the routes that read one.
  const queries: fc.Arbitrary<Query> | undefined =
    key === 'GET /v1/accounts'
      ? fc.oneof(limitQueries, cursorQueries('accounts'))
      : key === 'GET /v1/loops'
        ? fc.oneof(limitQueries, cursorQueries('loops'))
        : key === 'GET /v1/loops/{loopId}/failures'
          ? fc.oneof(limitQueries, cursorQueries('failures'))
          : key.startsWith('GET /v1/logfiles')
            ? logfileQueries(key.endsWith('{name}'))
            : undefined;
  if (queries) {
    add(
      4,
      fc.tuple(params, queries).map(([values, query]) => {
        const request = base(
          route,
          values,
          `query ${query.query.slice(0, 60)}`,
          query.valid ? 'inert' : 'refused',
          query.statuses,
        );
        return { ...request, target: withQuery(request.target, query.query) };
      }),
    );
  }
  return arbitraries;
}

/** One request of the fuzz run: every route about equally often, plus wrong methods and paths. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  ...ROUTES.map((route) => ({
    weight: BODIES[routeKey(route)] ? 20 : 10,
    arbitrary: fc.oneof(...routeRequests(route)),
  })),
  { weight: 8, arbitrary: wrongMethod },
  { weight: 4, arbitrary: unknownPath },
);
