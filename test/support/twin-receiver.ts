import http from 'node:http';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers for a GET of a path it serves (a verification file, a redirect…). */
export interface Served {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

/**
 * A webhook receiver on this machine: records every request; `answer` decides the status of POSTs
 * (default 200), so a test can make it fail, then recover; `serve` puts files in place for GETs.
 */
export async function startReceiver(answer: (request: Received, index: number) => number = () => 200) {
  const received: Received[] = [];
  const files = new Map<string, Served>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method!,
        path: request.url!,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      const served = request.method === 'GET' ? files.get(request.url!) : undefined;
      if (request.method === 'GET') {
        const reply = () => {
          response.writeHead(served?.status ?? (served ? 200 : 404), served?.headers);
          response.end(served?.body ?? '');
        };
        if (served?.delayMs) setTimeout(reply, served.delayMs);
        else reply();
        return;
      }
      response.writeHead(answer(entry, received.filter((r) => r.method !== 'GET').length - 1));
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** The webhook POSTs received so far. */
    posts: () => received.filter((request) => request.method === 'POST'),
    serve: (path: string, served: Served) => files.set(path, served),
    unserve: (path: string) => files.delete(path),
    /** Waits until `count` POSTs match, or fails after `timeoutMs`. */
    async waitFor(match: (request: Received) => boolean, count = 1, timeoutMs = 30_000): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter((request) => request.method === 'POST' && match(request));
        if (matching.length >= count) return matching;
        if (Date.now() > deadline)
          throw new Error(`expected ${count} matching requests within ${timeoutMs} ms, got ${matching.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
