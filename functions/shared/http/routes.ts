/**
 * Every route of the HTTP API, in one place: the stack creates an API Gateway route for each, the
 * api function dispatches and answers 405s from it, and the OpenAPI document lists it.
 */
export type RouteAccess = 'public' | 'admin' | 'account';
/** The folder under functions/ whose handler answers the route. */
export type RouteFunction = 'api' | 'ingest';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  access: RouteAccess;
  fn: RouteFunction;
  summary: string;
}

export const ROUTES = [
  { method: 'GET', path: '/v1/health', access: 'public', fn: 'api', summary: 'Is the API up?' },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    access: 'public',
    fn: 'api',
    summary: 'This API as an OpenAPI 3.1 document',
  },
  {
    method: 'POST',
    path: '/v1/accounts',
    access: 'admin',
    fn: 'api',
    summary: 'Create an account and its first API key',
  },
  { method: 'GET', path: '/v1/accounts', access: 'admin', fn: 'api', summary: 'List accounts' },
  {
    method: 'POST',
    path: '/v1/accounts/{accountId}/keys',
    access: 'admin',
    fn: 'api',
    summary: 'Issue another API key for an account',
  },
  {
    method: 'DELETE',
    path: '/v1/accounts/{accountId}/keys/{keyId}',
    access: 'admin',
    fn: 'api',
    summary: 'Revoke an API key',
  },
  {
    method: 'POST',
    path: '/v1/events',
    access: 'account',
    fn: 'ingest',
    summary: 'Send one event or a batch of events',
  },
  { method: 'POST', path: '/v1/loops', access: 'account', fn: 'api', summary: 'Create a feedback loop' },
  { method: 'GET', path: '/v1/loops', access: 'account', fn: 'api', summary: 'List feedback loops' },
  { method: 'GET', path: '/v1/loops/{loopId}', access: 'account', fn: 'api', summary: 'Get a feedback loop' },
  { method: 'PATCH', path: '/v1/loops/{loopId}', access: 'account', fn: 'api', summary: 'Change a feedback loop' },
  { method: 'DELETE', path: '/v1/loops/{loopId}', access: 'account', fn: 'api', summary: 'Delete a feedback loop' },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/verify',
    access: 'account',
    fn: 'api',
    summary: 'Check the verification file now',
  },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/secret/rotate',
    access: 'account',
    fn: 'api',
    summary: 'Rotate the signing secret',
  },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/test',
    access: 'account',
    fn: 'api',
    summary: 'Send one signed test event now and say what the receiver answered',
  },
  {
    method: 'GET',
    path: '/v1/loops/{loopId}/failures',
    access: 'account',
    fn: 'api',
    summary: 'List the deliveries that failed for good, newest first',
  },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/failures/replay',
    access: 'account',
    fn: 'api',
    summary: 'Queue failed deliveries again (all, or some by event id)',
  },
  {
    method: 'GET',
    path: '/v1/logfiles',
    access: 'account',
    fn: 'api',
    summary: 'The dates that have log files, newest first; with ?date=, the files of that day',
  },
  {
    method: 'GET',
    path: '/v1/logfiles/{name}',
    access: 'account',
    fn: 'api',
    summary: 'Download a log file (json, csv or xml) through a presigned URL',
  },
] as const satisfies readonly RouteSpec[];

export type RouteKey = `${(typeof ROUTES)[number]['method']} ${(typeof ROUTES)[number]['path']}`;

export const routeKey = (route: RouteSpec) => `${route.method} ${route.path}`;
