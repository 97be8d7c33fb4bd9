import { describe, expect, it } from 'vitest';
import { ApiError } from '#shared/http/errors.ts';
import { ROUTES, type RouteSpec, pathParams, routeKey } from '#shared/http/routes.ts';
import { openApiDocument } from '../../functions/api/openapi.ts';
import { queryParams, routeRequest } from '../../functions/api/request.ts';
import { apiEvent } from '../support/factories.ts';

const routes: readonly RouteSpec[] = ROUTES;
const route = (key: string) => routes.find((candidate) => routeKey(candidate) === key)!;

/** What `work` throws, as the API would answer it. */
function refusal(work: () => unknown) {
  try {
    work();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { status: error.status, ...error.toBody() };
  }
  throw new Error('expected a refusal');
}

describe('the route table', () => {
  it('has one record per method and path, each with its own Object_method operation name', () => {
    expect(new Set(routes.map(routeKey)).size).toBe(routes.length);
    expect(new Set(routes.map((each) => each.operation)).size).toBe(routes.length);
    for (const each of routes) expect(each.operation).toMatch(/^[A-Z][A-Za-z]*_[a-z][A-Za-z]*$/);
  });

  it('pages only lists, and takes bodies only on POST and PATCH', () => {
    for (const each of routes) {
      if (each.paged) expect(each.method).toBe('GET');
      if (each.body) expect(['POST', 'PATCH']).toContain(each.method);
    }
    expect(routes.filter((each) => each.paged).map(routeKey)).toEqual([
      'GET /v1/accounts',
      'GET /v1/accounts/{accountId}/keys',
      'GET /v1/loops',
      'GET /v1/loops/{loopId}/failures',
      'GET /v1/sources/ses',
    ]);
  });

  it('names the path parameters of a template', () => {
    expect(pathParams(route('DELETE /v1/accounts/{accountId}/keys/{keyId}'))).toEqual(['accountId', 'keyId']);
    expect(pathParams(route('GET /v1/loops'))).toEqual([]);
  });
});

describe('queryParams', () => {
  const download = route('GET /v1/logfiles/{name}').query!;
  const list = route('GET /v1/logfiles').query!;
  const query = (queryStringParameters?: Record<string, string>) =>
    apiEvent(queryStringParameters ? { queryStringParameters } : {});

  it('gives the defaults of what is absent', () => {
    expect(queryParams(query(), download)).toEqual({ format: 'json', redirect: true });
    expect(queryParams(query(), list)).toEqual({ date: undefined });
  });

  it('gives what the values mean', () => {
    expect(queryParams(query({ format: 'csv', redirect: 'false' }), download)).toEqual({
      format: 'csv',
      redirect: false,
    });
    expect(queryParams(query({ date: '2026-11-21' }), list)).toEqual({ date: '2026-11-21' });
  });

  it.each([
    [{ format: 'pdf' }, 'format', 'must be one of json, csv, xml'],
    [{ format: '' }, 'format', 'must be one of json, csv, xml'],
    [{ redirect: 'TRUE' }, 'redirect', 'must be true or false'],
    [{ redirect: '1' }, 'redirect', 'must be true or false'],
  ])('refuses %o: %s %s', (values, path, message) => {
    expect(refusal(() => queryParams(query(values), download))).toEqual({
      status: 400,
      error: { code: 'invalid_request', message: `${path} ${message}.`, details: [{ path, message }] },
    });
  });

  it('refuses a date that is not YYYY-MM-DD', () => {
    expect(refusal(() => queryParams(query({ date: '21.11.2026' }), list)).error.message).toBe(
      'date must be a date as YYYY-MM-DD.',
    );
  });

  it('refuses a parameter the route does not take, naming those it does', () => {
    expect(refusal(() => queryParams(query({ format: 'csv', limit: '5' }), download))).toEqual({
      status: 400,
      error: { code: 'invalid_request', message: 'Unknown query parameter limit; this takes format, redirect.' },
    });
  });
});

describe('routeRequest', () => {
  const replay = route('POST /v1/loops/{loopId}/failures/replay');
  const post = (body?: string) =>
    apiEvent({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });

  it('reads nothing until the handler asks', () => {
    expect(() => routeRequest(replay, post('not json'))).not.toThrow();
  });

  it('parses the body with the route’s schema', () => {
    const request = routeRequest(replay, post('{"eventIds":["evt_1"]}')) as { body(): unknown };
    expect(request.body()).toEqual({ eventIds: ['evt_1'] });
    const refused = refusal(() => (routeRequest(replay, post('{"eventIds":[]}')) as { body(): unknown }).body());
    expect(refused.error.code).toBe('invalid_request');
  });

  it('takes no body at all as {} where the body is optional, and only there', () => {
    expect((routeRequest(replay, post()) as { body(): unknown }).body()).toEqual({});
    expect((routeRequest(replay, post('')) as { body(): unknown }).body()).toEqual({});
    const create = route('POST /v1/loops');
    expect(refusal(() => (routeRequest(create, post()) as { body(): unknown }).body()).error.code).toBe(
      'malformed_json',
    );
  });

  it('pages a list', () => {
    const list = route('GET /v1/loops');
    const request = routeRequest(list, apiEvent({ queryStringParameters: { limit: '5', cursor: 'abc' } }));
    expect((request as { page(): unknown }).page()).toEqual({ limit: 5, cursor: 'abc' });
  });
});

describe('the OpenAPI document', () => {
  const document = openApiDocument('https://api.example.com');
  type Operation = {
    operationId: string;
    parameters?: { name: string; in: string; required: boolean; schema: object }[];
  };
  const operation = (method: string, path: string) =>
    (document.paths[path] as Record<string, Operation>)[method.toLowerCase()]!;

  it('lists every record under its operation name', () => {
    for (const each of routes) expect(operation(each.method, each.path).operationId).toBe(each.operation);
  });

  it('describes query parameters by what they mean', () => {
    expect(operation('GET', '/v1/logfiles/{name}').parameters).toEqual([
      { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
      {
        name: 'format',
        in: 'query',
        required: false,
        schema: { type: 'string', enum: ['json', 'csv', 'xml'], default: 'json' },
      },
      { name: 'redirect', in: 'query', required: false, schema: { type: 'boolean', default: true } },
    ]);
    expect(operation('GET', '/v1/logfiles').parameters).toEqual([
      { name: 'date', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
    ]);
  });
});
