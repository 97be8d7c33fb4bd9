import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import {
  ApiError,
  badRequest,
  forbidden,
  fromDomainError,
  payloadTooLarge,
  serviceUnavailable,
  unauthorized,
  unsupportedMediaType,
} from '#shared/http/errors.ts';
import { logger } from '#shared/runtime/logger.ts';
import { type AuthorizerContext, principalFromContext } from './principal.ts';

/** An HTTP API (payload 2.0) request; public routes have no authoriser context. */
export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext | undefined>;
export type ApiResponse = APIGatewayProxyStructuredResultV2;

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** On every answer of the API: a browser takes the body as what `content-type` says, never guesses. */
const API_HEADERS = { 'x-content-type-options': 'nosniff' };

export function jsonResponse(status: number, body?: unknown, headers: Record<string, string> = {}): ApiResponse {
  if (body === undefined) return { statusCode: status, headers: { ...API_HEADERS, ...headers } };
  return {
    statusCode: status,
    headers: { 'content-type': JSON_TYPE, ...API_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(error: ApiError): ApiResponse {
  return jsonResponse(error.status, error.toBody(), error.headers);
}

/**
 * Wraps a route's handler: structured logs with the Lambda context, and every failure answered in
 * the API's error shape. An ApiError is the client's problem (4xx) or a named outage (503); anything
 * else is a bug, logged in full and answered without internals.
 */
export function apiHandler(route: (event: ApiEvent, context: Context) => Promise<ApiResult>) {
  return middy<ApiEvent, ApiResponse>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context) => {
      try {
        const result = await route(event, context);
        return jsonResponse(result.status, result.body, result.headers);
      } catch (error) {
        if (error instanceof ApiError) return errorResponse(error);
        const answer = fromDomainError(error);
        if (answer) return errorResponse(answer);
        if (isAwsOutage(error)) {
          logger.warn('An AWS service failed after the SDK’s retries; answered 503', { error: (error as Error).name });
          return errorResponse(awsUnavailable());
        }
        logger.error('Unhandled error', error as Error);
        return jsonResponse(500, {
          error: { code: 'internal_error', message: 'Something went wrong on our side; the request may be retried.' },
        });
      }
    });
}

/**
 * An AWS call that throttled, failed on the service's side or timed out, after the SDK's own retries:
 * an outage the client can wait out (503 with `Retry-After`), not a bug of ours (500).
 */
export function isAwsOutage(error: unknown): boolean {
  const failure = error as { name?: unknown; $fault?: unknown; $retryable?: unknown } | null;
  if (typeof failure !== 'object' || failure === null) return false;
  return (
    failure.$fault === 'server' ||
    failure.$retryable !== undefined ||
    /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|TimeoutError/.test(String(failure.name))
  );
}

const awsUnavailable = () => serviceUnavailable('A service the API depends on is failing just now; try again shortly.');

const keyCheckUnavailable = () => serviceUnavailable('The API key could not be checked just now; try again shortly.');

/** The calling account, or 401 (no valid key) / 403 (the admin key on an account route). */
export function requireAccount(event: ApiEvent): { accountId: string; keyId: string } {
  const principal = principalFromContext(event.requestContext.authorizer?.lambda);
  if (principal.kind === 'account') return principal;
  if (principal.kind === 'admin') throw forbidden('This route is for account keys; the admin key cannot use it.');
  if (principal.kind === 'unavailable') throw keyCheckUnavailable();
  throw unauthorized();
}

/** 401 without a valid key, 403 for an account key on an operator route. */
export function requireAdmin(event: ApiEvent): void {
  const principal = principalFromContext(event.requestContext.authorizer?.lambda);
  if (principal.kind === 'admin') return;
  if (principal.kind === 'account') throw forbidden("This route is for the operator's admin key.");
  if (principal.kind === 'unavailable') throw keyCheckUnavailable();
  throw unauthorized();
}

/**
 * The request body as parsed JSON: 415 unless it is declared as JSON, 413 beyond `maxBytes`,
 * 400 when it does not parse.
 */
export function readJsonBody(event: ApiEvent, maxBytes: number): unknown {
  const contentType = event.headers['content-type'] ?? '';
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') throw unsupportedMediaType();
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw payloadTooLarge(`The body is ${bytes.length} bytes; at most ${maxBytes} are accepted.`);
  }
  if (bytes.length === 0) throw badRequest('malformed_json', 'The body is empty; send a JSON document.');
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw badRequest('malformed_json', `The body is not valid JSON: ${(error as Error).message}.`);
  }
  const badText = findUnstorableText(body);
  if (badText !== undefined) {
    throw badRequest(
      'invalid_text',
      'The body holds text that cannot be stored or delivered: a lone surrogate or a control character (C0 or C1).',
      [
        {
          path: badText,
          message: 'must be valid Unicode without control characters (tab, line feed and carriage return are fine)',
        },
      ],
    );
  }
  return body;
}

/**
 * Text SQS and DynamoDB cannot carry, or receivers cannot decode: JSON escapes allow lone
 * surrogates (\ud800), control characters and U+FFFE/U+FFFF. C0 controls but tab, LF and CR (an SMTP
 * diagnostic may span lines) and the C1 controls U+0080–U+009F (NEL, CSI, …: terminals and logs act
 * on them) are refused. Returns the path of the first such string or key. Iterative, because a body
 * may nest deeper than the call stack.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u0080-\u009F\uFFFE\uFFFF]/;
function findUnstorableText(root: unknown): string | undefined {
  const pending: [unknown, string][] = [[root, '']];
  while (pending.length) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed() || UNSTORABLE.test(value)) return path || '(body)';
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push([item, `${path}[${index}]`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const itemPath = path ? `${path}.${key}` : key;
        if (!key.isWellFormed() || UNSTORABLE.test(key)) return itemPath;
        pending.push([item, itemPath]);
      }
    }
  }
  return undefined;
}
