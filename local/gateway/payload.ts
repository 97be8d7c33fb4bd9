import type { IncomingMessage } from 'node:http';
import type { LocalFunction } from '../lambda/runtime.ts';

/** What API Gateway makes of requests and answers in payload format 2.0, and of an authoriser's answer. */

export type AuthorizerResult =
  { kind: 'allow'; context: Record<string, unknown> | undefined } | { kind: 'deny' } | { kind: 'error' };

export function authorizerResult(
  outcome: Awaited<ReturnType<LocalFunction['invoke']>> | 'timeout',
  simple: boolean,
): AuthorizerResult {
  if (outcome === 'timeout' || !outcome.ok) return { kind: 'error' };
  const result = outcome.result as Record<string, unknown> | undefined;
  if (simple) {
    if (typeof result?.isAuthorized !== 'boolean') return { kind: 'error' };
    return result.isAuthorized
      ? { kind: 'allow', context: result.context as Record<string, unknown> | undefined }
      : { kind: 'deny' };
  }
  const statements = (result?.policyDocument as { Statement?: { Effect?: string }[] } | undefined)?.Statement ?? [];
  const allowed = statements.length > 0 && statements.every((statement) => statement.Effect === 'Allow');
  return allowed
    ? { kind: 'allow', context: result?.context as Record<string, unknown> | undefined }
    : { kind: 'deny' };
}

/**
 * Payload 2.0 lower-cases header names and joins repeated values with commas. Objects without a
 * prototype, so that a header or parameter named `__proto__` reaches the function as any other.
 */
export function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return headers;
}

export function joinedQuery(params: URLSearchParams): Record<string, string> {
  const joined: Record<string, string> = Object.create(null);
  for (const [name, value] of params) joined[name] = joined[name] === undefined ? value : `${joined[name]},${value}`;
  return joined;
}

export function identityValue(
  source: string,
  headers: Record<string, string>,
  query: Record<string, string>,
): string | undefined {
  const header = /^\$request\.header\.(.+)$/.exec(source);
  if (header) return headers[header[1]!.toLowerCase()] || undefined;
  const querystring = /^\$request\.querystring\.(.+)$/.exec(source);
  if (querystring) return query[querystring[1]!] || undefined;
  return source;
}

export function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i.test(
    contentType.trim(),
  );
}

/** What API Gateway makes of a payload 2.0 answer, including the shorthand of returning a plain value. */
export function mapResult(result: unknown): {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
} {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const answer = result as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
      isBase64Encoded?: boolean;
      cookies?: string[];
    };
    const headers: Record<string, string | string[]> = { ...answer.headers };
    if (answer.cookies?.length) headers['set-cookie'] = answer.cookies;
    const body = Buffer.from(answer.body ?? '', answer.isBase64Encoded ? 'base64' : 'utf8');
    return { status: answer.statusCode, headers, body };
  }
  const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
}
