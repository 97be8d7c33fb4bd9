import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboundError, type OutboundPolicy, type OutboundRequest, send } from '#shared/outbound/client.ts';

/** The test servers listen on loopback, which only an allowed range opens (as the twin does). */
const LOOPBACK = ['127.0.0.0/8'];
const HTTP_ALLOWED: OutboundPolicy = { allowHttp: true, allowedCidrs: LOOPBACK };
const HTTPS_ONLY: OutboundPolicy = { allowHttp: false, allowedCidrs: LOOPBACK };
const MiB = 1024 * 1024;

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const servers: http.Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  }
});

/** A server on 127.0.0.1 with a free port; `received` lists every request it got, with its body. */
async function startServer(answer: (request: http.IncomingMessage, response: http.ServerResponse) => void) {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method!,
        url: request.url!,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(request, response);
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, received };
}

/** A free port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const request = (url: string, overrides: Partial<OutboundRequest> = {}): OutboundRequest => ({
  method: 'GET',
  url,
  timeoutMs: 2_000,
  maxResponseBytes: 64 * 1024,
  ...overrides,
});

/** The OutboundError a request fails with, whether send throws at once or rejects. */
async function failure(policy: OutboundPolicy, outbound: OutboundRequest): Promise<OutboundError> {
  try {
    const response = await send(policy, outbound);
    throw new Error(`expected a failure, got HTTP ${response.status}`);
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundError);
    return error as OutboundError;
  }
}

describe('outbound http: answers', () => {
  it('returns a 2xx answer with its status, headers and body, and sends the request as given', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(201, { 'content-type': 'text/plain', 'x-receiver': 'yes' });
      response.end('thanks');
    });

    const response = await send(
      HTTP_ALLOWED,
      request(`${server.url}/hooks/receive.php?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'webhook-id': 'evt_1' },
        body: 'type=open&message=m1',
      }),
    );

    expect(response).toEqual({
      status: 201,
      headers: expect.objectContaining({ 'x-receiver': 'yes' }),
      body: 'thanks',
      truncated: false,
    });
    expect(server.received).toEqual([
      {
        method: 'POST',
        url: '/hooks/receive.php?x=1',
        headers: expect.objectContaining({
          'content-type': 'application/x-www-form-urlencoded',
          'webhook-id': 'evt_1',
        }),
        body: 'type=open&message=m1',
      },
    ]);
  });

  it('returns other statuses as they are, with their body', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(503, { 'retry-after': '120' });
      response.end('busy');
    });
    const response = await send(HTTP_ALLOWED, request(server.url));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('120');
    expect(response.body).toBe('busy');
  });

  it('returns a 302 as 302 and does not follow it', async () => {
    const target = await startServer((_request, response) => response.end('you should not be here'));
    const redirecting = await startServer((_request, response) => {
      response.writeHead(302, { location: `${target.url}/elsewhere` });
      response.end();
    });

    const response = await send(HTTP_ALLOWED, request(`${redirecting.url}/hook`, { method: 'POST', body: 'x=1' }));

    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`${target.url}/elsewhere`);
    expect(redirecting.received).toHaveLength(1);
    // Give a follow-up request, if one were made, time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(target.received).toHaveLength(0);
  });

  it('reads at most maxResponseBytes of a 1 MiB answer and says it was truncated', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('a'.repeat(MiB));
    });

    const response = await send(HTTP_ALLOWED, request(server.url, { maxResponseBytes: 64 * 1024 }));

    expect(response.status).toBe(200);
    expect(response.truncated).toBe(true);
    expect(response.body).toBe('a'.repeat(64 * 1024));
  });

  it('truncates an answer that arrives in one piece bigger than maxResponseBytes', async () => {
    const server = await startServer((_request, response) => response.end('c'.repeat(150)));
    const response = await send(HTTP_ALLOWED, request(server.url, { maxResponseBytes: 100 }));
    expect(response).toMatchObject({ status: 200, body: 'c'.repeat(100), truncated: true });
  });

  it('does not call an answer of exactly maxResponseBytes truncated', async () => {
    const server = await startServer((_request, response) => response.end('b'.repeat(4096)));
    const response = await send(HTTP_ALLOWED, request(server.url, { maxResponseBytes: 4096 }));
    expect(response).toMatchObject({ status: 200, body: 'b'.repeat(4096), truncated: false });
  });
});

describe('outbound http: failures', () => {
  it('gives up with failure "timeout" on a server slower than timeoutMs, within about the timeout', async () => {
    const server = await startServer(() => {
      // Never answers.
    });
    const started = performance.now();

    const error = await failure(HTTP_ALLOWED, request(server.url, { method: 'POST', body: 'x', timeoutMs: 300 }));

    const elapsed = performance.now() - started;
    expect(error.failure).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('also times out when the headers come in time but the body does not end', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200);
      response.write('partial');
    });
    const started = performance.now();

    const error = await failure(HTTP_ALLOWED, request(server.url, { timeoutMs: 300 }));

    expect(error.failure).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('fails with "connection" when nothing listens', async () => {
    const port = await closedPort();
    const error = await failure(HTTP_ALLOWED, request(`http://127.0.0.1:${port}/hook`));
    expect(error.failure).toBe('connection');
  });

  it('refuses http:// when plain http is not allowed, without connecting', async () => {
    const server = await startServer((_request, response) => response.end('ok'));

    const error = await failure(HTTPS_ONLY, request(`${server.url}/hook`));

    expect(error.failure).toBe('blocked');
    expect(error.message).toMatch(/http/);
    expect(server.received).toHaveLength(0);
  });

  it.each([
    'ftp://127.0.0.1/file',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/plain,hi',
    'gopher://127.0.0.1:70/',
  ])('refuses the %s scheme even where http is allowed', async (url) => {
    expect((await failure(HTTP_ALLOWED, request(url))).failure).toBe('blocked');
  });

  it('refuses a URL with user info, without connecting', async () => {
    const server = await startServer((_request, response) => response.end('ok'));
    const withUser = server.url.replace('http://', 'http://user:secret@');
    const withUserOnly = server.url.replace('http://', 'http://user@');

    for (const url of [withUser, withUserOnly, 'https://user:pw@example.com/hook']) {
      const error = await failure(HTTP_ALLOWED, request(url));
      expect(error.failure).toBe('blocked');
      expect(error.message).toMatch(/user info/);
    }
    expect(server.received).toHaveLength(0);
  });

  it('refuses loopback unless an allowed range opens it, without connecting', async () => {
    const server = await startServer((_request, response) => response.end('ok'));

    const error = await failure({ allowHttp: true }, request(`${server.url}/hook`));

    expect(error.failure).toBe('blocked');
    expect(error.message).toMatch(/loopback/);
    expect(server.received).toHaveLength(0);
  });

  it('connects to the address the host name was checked as, without a second lookup', async () => {
    const server = await startServer((_request, response) => response.end('pinned'));
    const lookups: string[] = [];
    const policy: OutboundPolicy = {
      ...HTTP_ALLOWED,
      resolve: async (hostname) => {
        lookups.push(hostname);
        return ['127.0.0.1'];
      },
    };

    const response = await send(policy, request(`http://receiver.test:${server.port}/hook`));

    expect(response.body).toBe('pinned');
    expect(lookups).toEqual(['receiver.test']);
    expect(server.received[0]!.headers.host).toBe(`receiver.test:${server.port}`);
  });

  it.each([[['10.0.0.7']], [['169.254.169.254']], [['93.184.216.34', '192.168.1.1']], [['::ffff:127.0.0.1']]])(
    'refuses a host name that resolves to %j',
    async (addresses) => {
      const policy: OutboundPolicy = { allowHttp: true, resolve: async () => addresses };
      const error = await failure(policy, request('http://receiver.test/hook'));
      expect(error.failure).toBe('blocked');
    },
  );

  it('counts a lookup that never ends against the timeout', async () => {
    const policy: OutboundPolicy = { ...HTTP_ALLOWED, resolve: () => new Promise(() => undefined) };
    const started = performance.now();
    const error = await failure(policy, request('http://receiver.test/hook', { timeoutMs: 200 }));
    expect(error.failure).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it.each(['not a url', '', '/relative/path', 'https://', 'http://[::1', '://example.com'])(
    'refuses the non-URL %j',
    async (url) => {
      const error = await failure(HTTP_ALLOWED, request(url));
      expect(error.failure).toBe('blocked');
    },
  );
});
