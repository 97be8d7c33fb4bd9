/**
 * Every route of the HTTP API, one record each: the stack creates an API Gateway route for each, the
 * api function dispatches, checks access, validates requests and answers 405s from it, and the
 * OpenAPI document describes it. A record holds only data and schemas, no handler: the CDK app
 * imports this table, and must not load function code.
 */
import type * as z from 'zod';
import { eventsRequestSchema } from '#shared/events/mail-event.ts';
import { createLoopSchema, loopListSchema, loopSchema, secretSchema, updateLoopSchema } from '#shared/loops/schemas.ts';
import { createAccountSchema, downloadQuery, logListQuery, replayRequestSchema } from './requests.ts';
import {
  rotateTrackingKeyRequestSchema,
  trackingSecretSchema,
  trackingUrlsRequestSchema,
  trackingUrlsSchema,
} from './tracking-schemas.ts';
import {
  acceptedSchema,
  accountListSchema,
  apiKeyListSchema,
  apiKeySchema,
  createdAccountSchema,
  downloadSchema,
  failureListSchema,
  healthSchema,
  logListSchema,
  replayedSchema,
  testResultSchema,
} from './responses.ts';
import { createSesSourceSchema, sesSourceListSchema, sesSourceSchema } from '#shared/events/ses-sources.ts';

export type RouteAccess = 'public' | 'admin' | 'account';
/** The folder under functions/ whose handler answers the route. */
export type RouteFunction = 'api' | 'ingest' | 'tracking';
export type RouteMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A query parameter's schema: it takes the raw value, a string or undefined when absent. */
export type QuerySchema = z.ZodType<unknown, string | undefined>;

export interface RouteSpec {
  method: RouteMethod;
  path: string;
  access: RouteAccess;
  fn: RouteFunction;
  /** A name for the operation, `Resource_verb`: the OpenAPI operationId, and for other bindings. */
  operation: string;
  summary: string;
  /** The JSON body and its schema; `optional`: no body at all stands for `{}`. */
  body?: { schema: z.ZodType; optional?: boolean };
  /** The query parameters it takes, each with its schema; any other is refused. */
  query?: Readonly<Record<string, QuerySchema>>;
  /** A list: it takes `?limit=` and `?cursor=` (and no other parameter), and answers `nextCursor`. */
  paged?: boolean;
  /** The status of a success. */
  status: number;
  /** The body of a success. */
  response?: z.ZodType;
  /** Also answers 302 to a URL in `Location`: what that URL is. */
  redirect?: string;
  /** The media type of a success when it is not JSON (and errors are not the JSON error shape either). */
  answers?: string;
  /** Also answers HEAD (API Gateway matches HEAD only on a route of its own). */
  head?: true;
  /**
   * `false`: not an operation of the SOAP API (docs/soap.md), e.g. the tracking routes, which a mail
   * client's browser fetches. A SOAP binding skips such records.
   */
  soap?: false;
  /** A success holds a key or a secret: it is answered with `Cache-Control: no-store` (docs/api.md §2). */
  holdsSecret?: true;
}

export const ROUTES = [
  {
    method: 'GET',
    path: '/v1/health',
    access: 'public',
    fn: 'api',
    operation: 'Health_get',
    summary: 'Is the API up?',
    soap: false,
    status: 200,
    response: healthSchema,
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    access: 'public',
    fn: 'api',
    operation: 'OpenApi_get',
    summary: 'This API as an OpenAPI 3.1 document',
    soap: false,
    status: 200,
  },
  {
    method: 'POST',
    path: '/v1/accounts',
    access: 'admin',
    fn: 'api',
    operation: 'Account_create',
    summary: 'Create an account and its first API key',
    body: { schema: createAccountSchema },
    status: 201,
    response: createdAccountSchema,
    holdsSecret: true,
  },
  {
    method: 'GET',
    path: '/v1/accounts',
    access: 'admin',
    fn: 'api',
    operation: 'Account_list',
    summary: 'List accounts',
    paged: true,
    status: 200,
    response: accountListSchema,
  },
  {
    method: 'GET',
    path: '/v1/accounts/{accountId}/keys',
    access: 'admin',
    fn: 'api',
    operation: 'Key_list',
    summary: "List an account's API keys (ids and creation times only)",
    paged: true,
    status: 200,
    response: apiKeyListSchema,
  },
  {
    method: 'POST',
    path: '/v1/accounts/{accountId}/keys',
    access: 'admin',
    fn: 'api',
    operation: 'Key_create',
    summary: 'Issue another API key for an account',
    status: 201,
    response: apiKeySchema,
    holdsSecret: true,
  },
  {
    method: 'DELETE',
    path: '/v1/accounts/{accountId}/keys/{keyId}',
    access: 'admin',
    fn: 'api',
    operation: 'Key_revoke',
    summary: 'Revoke an API key',
    status: 204,
  },
  {
    method: 'POST',
    path: '/v1/events',
    access: 'account',
    fn: 'ingest',
    operation: 'Event_send',
    summary: 'Send one event or a batch of events',
    body: { schema: eventsRequestSchema },
    status: 202,
    response: acceptedSchema,
  },
  {
    method: 'POST',
    path: '/v1/loops',
    access: 'account',
    fn: 'api',
    operation: 'Loop_create',
    summary: 'Create a feedback loop',
    body: { schema: createLoopSchema },
    status: 201,
    response: loopSchema,
    holdsSecret: true,
  },
  {
    method: 'GET',
    path: '/v1/loops',
    access: 'account',
    fn: 'api',
    operation: 'Loop_list',
    summary: 'List feedback loops',
    paged: true,
    status: 200,
    response: loopListSchema,
  },
  {
    method: 'GET',
    path: '/v1/loops/{loopId}',
    access: 'account',
    fn: 'api',
    operation: 'Loop_get',
    summary: 'Get a feedback loop',
    status: 200,
    response: loopSchema,
  },
  {
    method: 'PATCH',
    path: '/v1/loops/{loopId}',
    access: 'account',
    fn: 'api',
    operation: 'Loop_update',
    summary: 'Change a feedback loop',
    body: { schema: updateLoopSchema },
    status: 200,
    response: loopSchema,
  },
  {
    method: 'DELETE',
    path: '/v1/loops/{loopId}',
    access: 'account',
    fn: 'api',
    operation: 'Loop_delete',
    summary: 'Delete a feedback loop',
    status: 204,
  },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/verify',
    access: 'account',
    fn: 'api',
    operation: 'Loop_verify',
    summary: 'Check the verification file now',
    status: 200,
    response: loopSchema,
  },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/secret/rotate',
    access: 'account',
    fn: 'api',
    operation: 'Loop_rotateSecret',
    summary: 'Rotate the signing secret',
    status: 200,
    response: secretSchema,
    holdsSecret: true,
  },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/test',
    access: 'account',
    fn: 'api',
    operation: 'Loop_test',
    summary: 'Send one signed test event now and say what the receiver answered',
    status: 200,
    response: testResultSchema,
  },
  {
    method: 'GET',
    path: '/v1/loops/{loopId}/failures',
    access: 'account',
    fn: 'api',
    operation: 'Failure_list',
    summary: 'List the deliveries that failed for good, newest first',
    paged: true,
    status: 200,
    response: failureListSchema,
  },
  {
    method: 'POST',
    path: '/v1/loops/{loopId}/failures/replay',
    access: 'account',
    fn: 'api',
    operation: 'Failure_replay',
    summary: 'Queue failed deliveries again (all, or some by event id)',
    body: { schema: replayRequestSchema, optional: true },
    status: 202,
    response: replayedSchema,
  },
  {
    method: 'GET',
    path: '/v1/logfiles',
    access: 'account',
    fn: 'api',
    operation: 'Logfile_list',
    summary: 'The dates that have log files, newest first; with ?date=, the files of that day',
    query: logListQuery,
    status: 200,
    response: logListSchema,
  },
  {
    method: 'GET',
    path: '/v1/logfiles/{name}',
    access: 'account',
    fn: 'api',
    operation: 'Logfile_getUrl',
    summary: 'Download a log file (json, csv or xml) through a presigned URL',
    query: downloadQuery,
    status: 200,
    response: downloadSchema,
    redirect: 'Found: `Location` is a presigned URL of the file',
  },
  {
    method: 'POST',
    path: '/v1/sources/ses',
    access: 'account',
    fn: 'api',
    operation: 'SesSource_create',
    summary: "Take an SES configuration set's events as this account's (200 when it is already)",
    body: { schema: createSesSourceSchema },
    status: 201,
    response: sesSourceSchema,
  },
  {
    method: 'GET',
    path: '/v1/sources/ses',
    access: 'account',
    fn: 'api',
    operation: 'SesSource_list',
    summary: "List the SES configuration sets whose events are this account's",
    paged: true,
    status: 200,
    response: sesSourceListSchema,
  },
  {
    method: 'DELETE',
    path: '/v1/sources/ses/{configurationSet}',
    access: 'account',
    fn: 'api',
    operation: 'SesSource_delete',
    summary: "Stop taking an SES configuration set's events",
    status: 204,
  },
  {
    method: 'POST',
    path: '/v1/tracking/urls',
    access: 'account',
    fn: 'api',
    operation: 'Tracking_createUrls',
    summary: "Signed open-pixel and click URLs for a message's links",
    body: { schema: trackingUrlsRequestSchema },
    status: 200,
    response: trackingUrlsSchema,
  },
  {
    method: 'POST',
    path: '/v1/tracking/secret/rotate',
    access: 'account',
    fn: 'api',
    operation: 'Tracking_rotateSecret',
    summary: 'Create or rotate the tracking key (shown only here); earlier keys keep verifying for trackingLinkDays',
    body: { schema: rotateTrackingKeyRequestSchema, optional: true },
    status: 200,
    response: trackingSecretSchema,
  },
  {
    method: 'GET',
    path: '/t/o/{token}',
    access: 'public',
    fn: 'tracking',
    operation: 'Tracking_open',
    summary:
      'The open pixel: a 1×1 transparent GIF; records an open (404, an HTML page, for a token that does not verify)',
    status: 200,
    answers: 'image/gif',
    head: true,
    soap: false,
  },
  {
    method: 'GET',
    path: '/t/c/{token}',
    access: 'public',
    fn: 'tracking',
    operation: 'Tracking_click',
    summary:
      'A click: records it and redirects to the signed URL (404, an HTML page, for a token that does not verify)',
    status: 302,
    redirect: 'Found: `Location` is the original URL the token signs',
    answers: 'text/html',
    head: true,
    soap: false,
  },
] as const satisfies readonly RouteSpec[];

export type Route = (typeof ROUTES)[number];
/** `METHOD /path` of one route record (of each, for a union). */
export type KeyOf<R extends RouteSpec> = R extends RouteSpec ? `${R['method']} ${R['path']}` : never;
type RoutesByKey = { [R in Route as KeyOf<R>]: R };
export type RouteKey = keyof RoutesByKey;
/** The record of one route, by its key. */
export type RouteOf<K extends RouteKey> = RoutesByKey[K];

export const routeKey = (route: RouteSpec) => `${route.method} ${route.path}`;

/** The names in a path template: `/v1/loops/{loopId}` → `['loopId']`. */
export const pathParams = (route: RouteSpec): string[] =>
  [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);

// ---- what a handler receives ----

/** `?limit=` and `?cursor=` of a list, checked. */
export interface Page {
  limit: number;
  cursor: string | undefined;
}

type BodyOf<R> = R extends { body: { schema: infer S extends z.ZodType } } ? z.output<S> : never;
type QueryOf<R> = R extends { query: infer Q extends Readonly<Record<string, QuerySchema>> }
  ? { [N in keyof Q]: z.output<Q[N]> }
  : never;

/**
 * A request checked against its route's record, each part when the handler asks for it, so that the
 * checks the handler makes first (the loop exists, say) still answer first. What fails is a 400 in
 * the API's shape (415 and 413 for a body that is not JSON or too large).
 */
export type RouteRequest<R> = (R extends { body: object } ? { body(): BodyOf<R> } : unknown) &
  (R extends { query: object } ? { query(): QueryOf<R> } : unknown) &
  (R extends { paged: true } ? { page(): Page } : unknown);

/** What the handler of the route `K` receives besides the event. */
export type RequestOf<K extends RouteKey> = RouteRequest<RouteOf<K>>;
