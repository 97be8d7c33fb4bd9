import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/**
 * The one HTTP client for every outbound request (deliveries, verification fetches, tests).
 * It never follows redirects, bounds the whole exchange by a timeout and reads at most
 * `maxResponseBytes` of the answer.
 */
export interface OutboundPolicy {
  /** Plain http:// targets are allowed (deployment setting `allowHttpTargets`). */
  allowHttp: boolean;
}

export interface OutboundRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `maxResponseBytes` of the body; `truncated` says whether there was more. */
  body: string;
  truncated: boolean;
}

export type OutboundFailure = 'blocked' | 'timeout' | 'connection';

export class OutboundError extends Error {
  constructor(
    readonly failure: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export function checkUrl(policy: OutboundPolicy, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('blocked', 'not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new OutboundError('blocked', `${url.protocol.replace(':', '')} URLs are not allowed; use https`);
  }
  if (url.username || url.password) throw new OutboundError('blocked', 'URLs with user info are not allowed');
  return url;
}

export function send(policy: OutboundPolicy, request: OutboundRequest): Promise<OutboundResponse> {
  const url = checkUrl(policy, request.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.request(url, { method: request.method, headers: request.headers }, (incoming) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      incoming.on('data', (chunk: Buffer) => {
        if (size >= request.maxResponseBytes) {
          truncated = true;
          incoming.destroy();
          finish();
          return;
        }
        chunks.push(chunk.subarray(0, request.maxResponseBytes - size));
        size += Math.min(chunk.length, request.maxResponseBytes - size);
      });
      const finish = () => {
        clearTimeout(timer);
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          truncated,
        });
      };
      incoming.on('end', finish);
      incoming.on('error', finish);
    });
    const timer = setTimeout(() => {
      outgoing.destroy(new OutboundError('timeout', `no complete answer within ${request.timeoutMs} ms`));
    }, request.timeoutMs);
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      reject(error instanceof OutboundError ? error : new OutboundError('connection', error.message));
    });
    outgoing.end(request.body);
  });
}
