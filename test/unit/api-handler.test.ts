import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '#shared/http/api-handler.ts';
import type { AuthorizerContext } from '#shared/http/principal.ts';
import { apiEvent, callers, lambdaContext } from '../support/factories.ts';
import { functionEnvironment } from '../support/function-environment.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

type Handler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;

beforeAll(async () => {
  // What the management routes read at import; none of these tests reaches the table.
  functionEnvironment('api');
  ({ handler } = (await import('../../functions/api/handler.ts')) as unknown as { handler: Handler });
});

const context = lambdaContext('api');

/** The methods in an `allow` header, in any order. */
const allowed = (response: { headers?: Record<string, unknown> }) =>
  String(response.headers?.allow ?? '')
    .split(',')
    .map((method) => method.trim())
    .filter(Boolean)
    .sort();

/** A request as API Gateway passes it: `routeKey` is the matched route, or `$default` when none matched. */
async function call(routeKey: string, method: string, path: string, caller: AuthorizerContext = callers.none()) {
  const response = await handler(apiEvent({ routeKey, method, path, caller }), context);
  return { ...response, status: response.statusCode!, json: response.body ? JSON.parse(response.body) : undefined };
}

function expectError(response: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers?.['content-type']).toBe(JSON_TYPE);
  expect(response.json).toEqual({ error: { code, message: expect.any(String) } });
  expect(response.json.error.message.length).toBeGreaterThan(0);
}

describe('api: health', () => {
  it('answers GET /v1/health with 200 {"status":"ok"} as JSON', async () => {
    const response = await call('GET /v1/health', 'GET', '/v1/health');
    expect(response.status).toBe(200);
    expect(response.headers?.['content-type']).toBe(JSON_TYPE);
    expect(response.json).toEqual({ status: 'ok' });
  });
});

describe('api: paths and methods it does not have', () => {
  it('answers a wrong method on /v1/events with 405 and allow: POST', async () => {
    const response = await call('$default', 'DELETE', '/v1/events');
    expectError(response, 405, 'method_not_allowed');
    expect(response.headers?.allow).toBe('POST');
    expect(response.json.error.message).toContain('POST');
  });

  it("answers a wrong method on a loop with 405 and allow: the loop's methods (docs/api.md §3: GET, PATCH, DELETE)", async () => {
    const response = await call('$default', 'PUT', '/v1/loops/loop_123');
    expectError(response, 405, 'method_not_allowed');
    expect(allowed(response)).toEqual(['DELETE', 'GET', 'PATCH']);
    expect(allowed(response)).not.toContain('PUT');
  });

  it('answers PUT /v1/loops with 405 and allow: GET, POST', async () => {
    const response = await call('$default', 'PUT', '/v1/loops');
    expectError(response, 405, 'method_not_allowed');
    expect(allowed(response)).toEqual(['GET', 'POST']);
  });

  it('answers POST /v1/health with 405 and allow: GET', async () => {
    const response = await call('$default', 'POST', '/v1/health');
    expectError(response, 405, 'method_not_allowed');
    expect(response.headers?.allow).toBe('GET');
  });

  it.each([
    '/v1/unknown',
    '/v1/loops/',
    '/v1/loops/loop_123/extra',
    '/v1/events/x',
    '/v1/health/',
    '/',
    '/v2/events',
    '/V1/HEALTH',
  ])('answers %s with 404 not_found', async (path) => {
    const response = await call('$default', 'GET', path);
    expectError(response, 404, 'not_found');
    expect(response.headers?.allow).toBeUndefined();
  });

  it('treats the characters of a path literally, not as a pattern', async () => {
    expectError(await call('$default', 'GET', '/v1Xhealth'), 404, 'not_found');
    expectError(await call('$default', 'PUT', '/v1/loops/a.b'), 405, 'method_not_allowed');
  });
});

describe('api: who may call what', () => {
  it('answers an operator route without a key with 401', async () => {
    expectError(await call('GET /v1/accounts', 'GET', '/v1/accounts'), 401, 'unauthorized');
    expectError(await call('GET /v1/accounts', 'GET', '/v1/accounts', callers.none('invalid')), 401, 'unauthorized');
  });

  it('answers an operator route with an account key with 403', async () => {
    expectError(await call('POST /v1/accounts', 'POST', '/v1/accounts', callers.account()), 403, 'forbidden');
  });

  it('answers an account route without a key with 401, and with the admin key with 403', async () => {
    expectError(await call('GET /v1/loops', 'GET', '/v1/loops'), 401, 'unauthorized');
    expectError(await call('GET /v1/loops/{loopId}', 'GET', '/v1/loops/loop_123', callers.admin()), 403, 'forbidden');
  });

  it('answers the health check for anyone', async () => {
    expect((await call('GET /v1/health', 'GET', '/v1/health', callers.none('invalid'))).status).toBe(200);
  });
});
