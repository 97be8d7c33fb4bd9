import { badRequest } from '#shared/http/errors.ts';
import { type ApiEvent, readJsonBody } from '#shared/http/api-handler.ts';
import { PAGE } from '#shared/http/requests.ts';
import type { Page, QuerySchema, RouteRequest, RouteSpec } from '#shared/http/routes.ts';
import { parseRequest } from '#shared/http/validation.ts';

/** Management requests are small; docs/api.md §4's 1 MiB is for event batches. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The request of `route` as its handler reads it: each part is checked against the route's record
 * when the handler asks for it, so that what the handler checks first (the loop exists) answers first.
 */
export function routeRequest<R extends RouteSpec>(route: R, event: ApiEvent): RouteRequest<R> {
  const request = {
    body: () => parseRequest(route.body!.schema, requestBody(event, route.body!.optional ?? false)),
    query: () => queryParams(event, route.query!),
    page: () => pageParams(event),
  };
  return request as unknown as RouteRequest<R>;
}

/** The body as parsed JSON; an optional one that is not there at all stands for `{}`. */
function requestBody(event: ApiEvent, optional: boolean): unknown {
  const absent = event.body === undefined || event.body === null || event.body === '';
  return optional && absent ? {} : readJsonBody(event, MAX_BODY_BYTES);
}

/** `?limit=` (1–200, default 50) and `?cursor=` of a list. */
export function pageParams(event: ApiEvent): Page {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).filter((name) => name !== 'limit' && name !== 'cursor');
  if (unknown.length) {
    throw badRequest('invalid_request', `Unknown query parameter ${unknown.join(', ')}; lists take limit and cursor.`);
  }
  let limit = PAGE.defaultLimit;
  if (query.limit !== undefined) {
    if (!/^\d{1,3}$/.test(query.limit) || Number(query.limit) < 1 || Number(query.limit) > PAGE.maxLimit) {
      throw badRequest('invalid_request', `limit must be a whole number from 1 to ${PAGE.maxLimit}.`, [
        { path: 'limit', message: `must be a whole number from 1 to ${PAGE.maxLimit}` },
      ]);
    }
    limit = Number(query.limit);
  }
  return { limit, cursor: query.cursor || undefined };
}

/**
 * The query parameters `schemas` names, each checked by its schema: 400 for one it does not name,
 * and for the first value its schema refuses (`<name> <message>.`).
 */
export function queryParams(event: ApiEvent, schemas: Readonly<Record<string, QuerySchema>>): Record<string, unknown> {
  const query = event.queryStringParameters ?? {};
  const names = Object.keys(schemas);
  const unknown = Object.keys(query).filter((name) => !names.includes(name));
  if (unknown.length) {
    throw badRequest(
      'invalid_request',
      `Unknown query parameter ${unknown.join(', ')}; this takes ${names.join(', ')}.`,
    );
  }
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const result = schema.safeParse(query[name]);
    if (!result.success) {
      const message = result.error.issues[0]!.message;
      throw badRequest('invalid_request', `${name} ${message}.`, [{ path: name, message }]);
    }
    values[name] = result.data;
  }
  return values;
}
