import { lookup } from 'node:dns/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { type TargetPolicy, addressAllowed, blockedReason, checkTargetUrl, hostOf, parseIp } from './guard.ts';

/**
 * The one HTTP client for every outbound request (deliveries, verification fetches, tests), guarded
 * against SSRF (SPEC §7): the URL is checked, the host resolved once, every address it resolves to
 * checked, and the connection made to a checked address (no second lookup, so no DNS rebinding).
 * It never follows redirects, bounds the whole exchange (lookup included) by a timeout and reads at
 * most `maxResponseBytes` of the answer.
 */
export interface OutboundPolicy extends TargetPolicy {
  /** Resolves a host name to its addresses; injectable for tests. Default: the system resolver (`dns.lookup`). */
  resolve?: (hostname: string) => Promise<string[]>;
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

/** The URL, if it may be a target at all (see `checkTargetUrl`); otherwise a 'blocked' OutboundError. */
export function checkUrl(policy: OutboundPolicy, raw: string): URL {
  const problem = checkTargetUrl(raw, policy);
  if (problem) throw new OutboundError('blocked', problem);
  return new URL(raw);
}

export async function send(policy: OutboundPolicy, request: OutboundRequest): Promise<OutboundResponse> {
  const url = checkUrl(policy, request.url);
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new OutboundError('timeout', `no complete answer within ${request.timeoutMs} ms`)),
    request.timeoutMs,
  );
  try {
    const addresses = await untilAborted(checkedAddresses(policy, url), deadline.signal);
    return await exchange(url, addresses, request, deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

const systemResolve = async (hostname: string) =>
  (await lookup(hostname, { all: true, order: 'verbatim' })).map((answer) => answer.address);

/** The addresses to connect to: the literal address, or every address the host resolves to, each one allowed. */
async function checkedAddresses(policy: OutboundPolicy, url: URL): Promise<string[]> {
  const host = hostOf(url);
  if (parseIp(host)) return [host]; // checkUrl has checked it
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

/** A `lookup` for the socket that answers the checked addresses instead of asking DNS again. */
function pinnedLookup(addresses: string[]): LookupFunction {
  const answers = addresses.map((address) => ({ address, family: parseIp(address)!.version }));
  return (_hostname, options, callback) => {
    const wanted = answers.filter((answer) => !options.family || answer.family === options.family);
    if (wanted.length === 0) return callback(new OutboundError('connection', `no IPv${options.family} address`), '');
    // Node asks for all addresses when it tries them in turn (happy eyeballs); they are all checked.
    if (options.all) return callback(null, wanted);
    return callback(null, wanted[0]!.address, wanted[0]!.family);
  };
}

function exchange(
  url: URL,
  addresses: string[],
  request: OutboundRequest,
  deadline: AbortSignal,
): Promise<OutboundResponse> {
  const client = url.protocol === 'https:' ? https : http;
  const host = hostOf(url);
  return new Promise((resolve, reject) => {
    if (deadline.aborted) return reject(deadline.reason);
    const outgoing = client.request(
      url,
      {
        method: request.method,
        headers: request.headers,
        lookup: pinnedLookup(addresses),
        // TLS names and verifies the host name, not the address connected to (no SNI for an IP literal).
        ...(parseIp(host) ? {} : { servername: host }),
        // A fresh agent: a pooled socket could lead to an address checked under another policy.
        agent: false,
      },
      (incoming) => {
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
            incoming.destroy();
            finish();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        incoming.on('end', finish);
        incoming.on('error', finish);
      },
    );
    const onDeadline = () => {
      reject(deadline.reason);
      outgoing.destroy();
    };
    deadline.addEventListener('abort', onDeadline, { once: true });
    outgoing.on('close', () => deadline.removeEventListener('abort', onDeadline));
    outgoing.on('error', (error) => reject(new OutboundError('connection', error.message)));
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
