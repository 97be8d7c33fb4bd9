import { lookup } from 'node:dns/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import packageJson from '../../../package.json' with { type: 'json' };
import { type PinnedAgent, agentFor } from './connections.ts';
import { type TargetPolicy, addressAllowed, blockedReason, checkTargetUrl, hostOf, parseIp } from './guard.ts';

/**
 * The one HTTP client for every outbound request (deliveries, verification fetches, tests), guarded
 * against SSRF (docs/api.md §7): the URL is checked, the host resolved for every request, every address it
 * resolves to checked, and the connection made to a checked address (no second lookup, so no DNS
 * rebinding). Connections are kept alive within an instance, but only for the same host, port and
 * checked answer (connections.ts): a changed answer is checked before it gets a connection. It
 * never follows redirects, bounds the whole exchange (lookup included) by a timeout and reads at
 * most `maxResponseBytes` of the answer.
 */
export interface OutboundPolicy extends TargetPolicy {
  /** Resolves a host name to its addresses; injectable for tests. Default: the system resolver (`dns.lookup`). */
  resolve?: (hostname: string) => Promise<string[]>;
}

/** How every request we send (a delivery, a verification fetch, a test) names its sender. */
export const USER_AGENT = `FeedbackLoops/${packageJson.version}`;

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

/** The URL, if it may be a target at all (see `checkTargetUrl`); otherwise a 'blocked' OutboundError. */
export function checkUrl(policy: OutboundPolicy, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('blocked', 'not a valid URL');
  }
  const problem = checkTargetUrl(url, policy);
  if (problem) throw new OutboundError('blocked', problem);
  return url;
}

export async function send(policy: OutboundPolicy, request: OutboundRequest): Promise<OutboundResponse> {
  const url = checkUrl(policy, request.url);
  const host = hostOf(url);
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new OutboundError('timeout', `no complete answer within ${request.timeoutMs} ms`)),
    request.timeoutMs,
  );
  try {
    // An address literal is its own answer, checked by checkUrl.
    const addresses = parseIp(host) ? [host] : await untilAborted(resolvedAddresses(policy, host), deadline.signal);
    return await exchange(url, addresses, request, deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

const systemResolve = async (hostname: string) =>
  (await lookup(hostname, { all: true, order: 'verbatim' })).map((answer) => answer.address);

/** Every address the host name resolves to, each one allowed. */
async function resolvedAddresses(policy: OutboundPolicy, host: string): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await (policy.resolve ?? systemResolve)(host);
  } catch (error) {
    throw new OutboundError(
      'connection',
      `${host} cannot be resolved: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (addresses.length === 0) throw new OutboundError('connection', `${host} resolves to no address`);
  const refused = addresses.find((address) => !addressAllowed(address, policy.allowedCidrs));
  if (refused !== undefined)
    throw new OutboundError('blocked', `${host} resolves to ${refused} (${blockedReason(refused)})`);
  return addresses;
}

/** The exchange over a pooled connection; once more over a new one when a reused connection turns out dead. */
async function exchange(
  url: URL,
  addresses: string[],
  request: OutboundRequest,
  deadline: AbortSignal,
): Promise<OutboundResponse> {
  const secure = url.protocol === 'https:';
  const agent = agentFor({
    protocol: secure ? 'https:' : 'http:',
    host: hostOf(url),
    port: Number(url.port) || (secure ? 443 : 80),
    addresses,
  });
  try {
    return await exchangeOnce(url, agent, request, deadline);
  } catch (error) {
    if (!(error instanceof DeadConnection) || deadline.aborted) throw error;
    // The server closed the idle connection as it was reused (a keep-alive race, or an instance
    // thawed after a while): no answer came, so the request is sent once more, on a new
    // connection (delivery is at least once). Its idle siblings are likely dead too.
    agent.closeIdle();
    return await exchangeOnce(url, agent, request, deadline);
  }
}

/** A reused connection failed before any answer came. */
class DeadConnection extends OutboundError {}

function exchangeOnce(
  url: URL,
  agent: PinnedAgent,
  request: OutboundRequest,
  deadline: AbortSignal,
): Promise<OutboundResponse> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    if (deadline.aborted) return reject(deadline.reason);
    let answered = false;
    // The agent pins its connections to the checked addresses and TLS to the host name (connections.ts).
    const outgoing = client.request(url, { method: request.method, headers: request.headers, agent }, (incoming) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () =>
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          truncated,
        });
      incoming.on('data', (chunk: Buffer) => {
        const room = request.maxResponseBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          // The rest is not read, so the connection cannot carry another request: destroyed, not pooled.
          incoming.destroy();
          finish();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      incoming.on('end', finish);
      incoming.on('error', finish);
    });
    const onDeadline = () => {
      reject(deadline.reason);
      // Destroys the socket too: a connection with an exchange cut short is never pooled.
      outgoing.destroy();
    };
    deadline.addEventListener('abort', onDeadline, { once: true });
    outgoing.on('close', () => deadline.removeEventListener('abort', onDeadline));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      const dead = outgoing.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      reject(new (dead ? DeadConnection : OutboundError)('connection', error.message));
    });
    outgoing.end(request.body);
  });
}

/** The promise, or a rejection with the signal's reason as soon as it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
