import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { LocalFunction } from './lambda-runtime.ts';
import { type Template, prop, referencedId, resourcesOfType } from './template.ts';

/** API Gateway's own limits for HTTP APIs. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 30_000;

interface Authorizer {
  fn: LocalFunction;
  identitySource: string[];
  ttlSeconds: number;
  simpleResponses: boolean;
}

interface Route {
  routeKey: string;
  method: string;
  pattern: RegExp | undefined;
  paramNames: string[];
  /** Fewer parameters and a longer literal path win, as in API Gateway. */
  specificity: number;
  fn: LocalFunction;
  authorizer: Authorizer | undefined;
}

export type GatewayLog = (entry: {
  function: string;
  trigger: string;
  durationMs: number;
  ok: boolean;
  summary: string;
}) => void;

/** Reads the HTTP API's routes, integrations and authorisers from the template. */
export function readRoutes(template: Template, functions: Map<string, LocalFunction>): Route[] {
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
      if (routeKey === '$default')
        return { routeKey, method: 'ANY', pattern: undefined, paramNames: [], specificity: -1, fn, authorizer };
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
      return { routeKey, method, pattern: new RegExp(`^${source}$`), paramNames, specificity, fn, authorizer };
    })
    .sort((a, b) => b.specificity - a.specificity);
}

/**
 * The HTTP API on this machine: matches a route, runs its authoriser (with API Gateway's caching when
 * the authoriser has an identity source and a TTL), invokes the integration with a payload 2.0
 * event, and maps the answer back as API Gateway does.
 */
export function startGateway(options: {
  routes: Route[];
  port: number;
  accountId: string;
  log: GatewayLog;
}): Promise<http.Server> {
  const { routes, accountId, log } = options;
  const authorizerCache = new Map<string, { result: AuthorizerResult; until: number }>();

  const invoke = async (fn: LocalFunction, event: unknown, trigger: string) => {
    const started = performance.now();
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), INTEGRATION_TIMEOUT_MS).unref(),
    );
    const outcome = await Promise.race([fn.invoke(event), timeout]);
    const durationMs = Math.round(performance.now() - started);
    return { outcome, durationMs, trigger };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, body: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const matched = match(routes, method, url.pathname);
    if (!matched) return send(response, 404, { message: 'Not Found' });
    const { route, pathParameters } = matched;

    // API Gateway tells the integration how the client reached it.
    const headers: Record<string, string> = {
      ...lowerCaseHeaders(request),
      'x-forwarded-for': (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      'x-forwarded-port': String(request.socket.localPort),
      'x-forwarded-proto': 'http',
    };
    const queryStringParameters = joinedQuery(url.searchParams);
    const requestContext = {
      accountId,
      apiId: 'twin',
      domainName: request.headers.host ?? 'localhost',
      domainPrefix: (request.headers.host ?? 'localhost').split('.')[0],
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    };
    const common = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      ...(request.headers.cookie ? { cookies: request.headers.cookie.split(/;\s*/) } : {}),
      headers,
      ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
      ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    };

    let authorizerContext: Record<string, unknown> | undefined;
    if (route.authorizer) {
      const { authorizer } = route;
      const identity = authorizer.identitySource.map((source) => identityValue(source, headers, queryStringParameters));
      if (identity.some((value) => value === undefined)) return send(response, 401, { message: 'Unauthorized' });
      const cacheKey = `${authorizer.fn.spec.name}\n${identity.join('\n')}`;
      const cached = authorizer.ttlSeconds > 0 && identity.length ? authorizerCache.get(cacheKey) : undefined;
      let result = cached && cached.until > Date.now() ? cached.result : undefined;
      if (!result) {
        const event = {
          ...common,
          type: 'REQUEST',
          routeArn: `arn:aws:execute-api:local:${accountId}:twin/$default/${route.routeKey.replace(' ', '')}`,
          identitySource: identity,
          requestContext,
        };
        const { outcome, durationMs } = await invoke(authorizer.fn, event, `authorise ${method} ${url.pathname}`);
        result = authorizerResult(outcome, authorizer.simpleResponses);
        log({
          function: authorizer.fn.spec.name,
          trigger: `authorise ${method} ${url.pathname}`,
          durationMs,
          ok: result.kind !== 'error',
          summary: result.kind,
        });
        if (result.kind !== 'error' && authorizer.ttlSeconds > 0 && identity.length) {
          authorizerCache.set(cacheKey, { result, until: Date.now() + authorizer.ttlSeconds * 1000 });
        }
      }
      if (result.kind === 'error') return send(response, 500, { message: 'Internal Server Error' });
      if (result.kind === 'deny') return send(response, 403, { message: 'Forbidden' });
      authorizerContext = result.context;
    }

    const binary = body.length > 0 && !isTextual(headers['content-type']);
    const event = {
      ...common,
      requestContext: {
        ...requestContext,
        ...(authorizerContext ? { authorizer: { lambda: authorizerContext } } : {}),
      },
      ...(body.length ? { body: body.toString(binary ? 'base64' : 'utf8') } : {}),
      isBase64Encoded: binary,
    };
    const trigger = `${method} ${url.pathname}`;
    const { outcome, durationMs } = await invoke(route.fn, event, trigger);
    if (outcome === 'timeout') {
      log({ function: route.fn.spec.name, trigger, durationMs, ok: false, summary: 'integration timed out → 503' });
      return send(response, 503, { message: 'Service Unavailable' });
    }
    if (!outcome.ok) {
      log({
        function: route.fn.spec.name,
        trigger,
        durationMs,
        ok: false,
        summary: `${outcome.error.errorType}: ${outcome.error.errorMessage} → 500`,
      });
      return send(response, 500, { message: 'Internal Server Error' });
    }
    const mapped = mapResult(outcome.result);
    log({ function: route.fn.spec.name, trigger, durationMs, ok: mapped.status < 500, summary: `→ ${mapped.status}` });
    response.writeHead(mapped.status, mapped.headers);
    response.end(mapped.body);
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      if (tooLarge) return send(response, 413, { message: 'Request Entity Too Large' });
      handle(request, response, Buffer.concat(chunks)).catch((error: Error) => {
        console.error(`gateway: ${error.stack}`);
        if (!response.headersSent) send(response, 500, { message: 'Internal Server Error' });
      });
    });
  });
  // Idle keep-alive connections stay open longer than clients keep them (undici: 4 s), as API
  // Gateway's do: a server closing first races a client's next request ("other side closed").
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve(server));
  });
}

type AuthorizerResult =
  { kind: 'allow'; context: Record<string, unknown> | undefined } | { kind: 'deny' } | { kind: 'error' };

function authorizerResult(
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

function match(routes: Route[], method: string, path: string) {
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

/** Payload 2.0 lower-cases header names and joins repeated values with commas. */
function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return headers;
}

function joinedQuery(params: URLSearchParams): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, value] of params) joined[name] = joined[name] === undefined ? value : `${joined[name]},${value}`;
  return joined;
}

function identityValue(
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

function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i.test(
    contentType.trim(),
  );
}

/** What API Gateway makes of a payload 2.0 answer, including the shorthand of returning a plain value. */
function mapResult(result: unknown): { status: number; headers: Record<string, string | string[]>; body: Buffer } {
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

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
