import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { LocalFunction } from '../lambda/runtime.ts';
import {
  type AuthorizerResult,
  authorizerResult,
  identityValue,
  isTextual,
  joinedQuery,
  lowerCaseHeaders,
  mapResult,
} from './payload.ts';
import { type Route, match } from './routes.ts';
import { throttledAnswer } from './throttle.ts';

/** API Gateway's own limits for HTTP APIs. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 30_000;

export type GatewayLog = (entry: {
  function: string;
  trigger: string;
  durationMs: number;
  ok: boolean;
  summary: string;
}) => void;

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
    // The path as sent: `//other.host/v1/health` is that path (no route), not a URL of another host.
    const raw = request.url ?? '/';
    const url = raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
    const method = request.method ?? 'GET';
    const matched = match(routes, method, url.pathname);
    if (!matched) return send(response, 404, { message: 'Not Found' });
    const { route, pathParameters } = matched;
    // API Gateway throttles a request before its authoriser runs.
    const token = route.throttle();
    if (!token.ok) {
      const refused = throttledAnswer(token.retryAfterSeconds);
      const headers = { 'content-type': 'application/json; charset=utf-8', ...refused.headers };
      return send(response, refused.status, refused.toBody(), headers);
    }

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

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}
