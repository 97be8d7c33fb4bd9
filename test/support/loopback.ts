/**
 * The one local HTTP(S) receiver of the tests and the bench, on 127.0.0.1: it records every request
 * with its body, serves files for GETs (a verification file, a redirect…) and answers the rest as the
 * test says. Unit tests and the bench point the real outbound client at it (open loopback with
 * ALLOW_HTTP_TARGETS=true and ALLOWED_TARGET_CIDRS=127.0.0.0/8, as the twin's settings do); twin
 * tests make it a loop's receiver; the delivery benches run it in a process of its own
 * (bench/receiver-child.ts), counting instead of recording.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answers only after this long. */
  delayMs?: number;
}

/** Decides the answer to a request: a status, or the whole answer. `index` counts the POSTs before it. */
export type Answering = (request: ReceivedRequest, index: number) => Answer | number | Promise<Answer | number>;

export interface LoopbackOptions {
  /** How it answers what no served file answers; default: 404 to a GET, 200 to anything else. */
  answer?: Answer | Answering;
  /** Serves HTTPS with this certificate instead of HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Keeps each request in `received` (default); false only counts them, for the bench's load. */
  record?: boolean;
}

export interface Loopback {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`) */
  origin: string;
  received: ReceivedRequest[];
  /** The webhook POSTs received so far. */
  posts: () => ReceivedRequest[];
  /** Counted whether or not requests are recorded; connections are TLS sessions over HTTPS. */
  counts: { requests: number; posts: number; connections: number };
  /** How it answers from now on what no served file answers. */
  answer: (answer: Answer | Answering) => void;
  /** Puts a file in place for GETs of `path`. */
  serve: (path: string, file: Partial<Answer>) => void;
  unserve: (path: string) => void;
  /** Waits until `count` POSTs match, or fails after `timeoutMs`. */
  waitFor: (
    match: (request: ReceivedRequest) => boolean,
    count?: number,
    timeoutMs?: number,
  ) => Promise<ReceivedRequest[]>;
  close: () => Promise<void>;
}

const DEFAULT_ANSWER: Answering = (request) => (request.method === 'GET' ? 404 : 200);

/**
 * Answers the webhook POSTs with `status(request, index)` (`index`: the POST's place), and a GET of a
 * file not served with 404, as a web server in front of the script would.
 */
export function answerPosts(status: (request: ReceivedRequest, index: number) => number): Answering {
  return (request, index) => (request.method === 'GET' ? 404 : status(request, index));
}

export async function startLoopback(options: LoopbackOptions = {}): Promise<Loopback> {
  const record = options.record ?? true;
  const received: ReceivedRequest[] = [];
  const counts = { requests: 0, posts: 0, connections: 0 };
  const files = new Map<string, Partial<Answer>>();
  const toAnswering = (answer: Answer | Answering): Answering => (typeof answer === 'function' ? answer : () => answer);
  let answering = toAnswering(options.answer ?? DEFAULT_ANSWER);

  const handle = (incoming: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    if (record) incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    else incoming.resume();
    incoming.on('end', async () => {
      const request: ReceivedRequest = {
        method: incoming.method!,
        path: incoming.url!,
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = counts.posts;
      counts.requests++;
      if (request.method === 'POST') counts.posts++;
      if (record) received.push(request);
      const file = request.method === 'GET' ? files.get(request.path) : undefined;
      const decided = file ? { status: 200, ...file } : await answering(request, index);
      const { status, headers, body, delayMs } = typeof decided === 'number' ? { status: decided } : decided;
      const reply = () => {
        response.writeHead(status, headers);
        response.end(body ?? '');
      };
      if (delayMs) setTimeout(reply, delayMs);
      else reply();
    });
  };
  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle);
  server.on(options.tls ? 'secureConnection' : 'connection', () => counts.connections++);
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const posts = () => received.filter((request) => request.method === 'POST');
  return {
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    received,
    posts,
    counts,
    answer: (answer) => {
      answering = toAnswering(answer);
    },
    serve: (path, file) => void files.set(path, file),
    unserve: (path) => void files.delete(path),
    async waitFor(match, count = 1, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = posts().filter(match);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline)
          throw new Error(`expected ${count} matching requests within ${timeoutMs} ms, got ${matching.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
