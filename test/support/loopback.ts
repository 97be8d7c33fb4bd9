/**
 * A receiver on 127.0.0.1 for tests that send through the real outbound client: it records every
 * request with its body and answers as the test says. Open it to loopback with
 * ALLOW_HTTP_TARGETS=true and ALLOWED_TARGET_CIDRS=127.0.0.0/8, as the local twin does.
 */
import { once } from 'node:events';
import http from 'node:http';
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
}

export interface Loopback {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  received: ReceivedRequest[];
  /** What the receiver answers from now on (default 200). */
  answer: (answer: Answer | ((request: ReceivedRequest) => Answer | Promise<Answer>)) => void;
  close: () => Promise<void>;
}

export async function startLoopback(): Promise<Loopback> {
  const received: ReceivedRequest[] = [];
  let answerWith: (request: ReceivedRequest) => Answer | Promise<Answer> = () => ({ status: 200 });
  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      const request: ReceivedRequest = {
        method: incoming.method!,
        path: incoming.url!,
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const { status, headers, body } = await answerWith(request);
      response.writeHead(status, headers);
      response.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    answer: (answer) => {
      answerWith = typeof answer === 'function' ? answer : () => answer;
    },
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
