import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { attempt, signedRequest } from '#shared/delivery/attempt.ts';
import { toRecord } from '#shared/delivery/webhook-body.ts';
import { OutboundError, type OutboundPolicy, type OutboundRequest, send } from '#shared/outbound/client.ts';
import { IDLE_TIMEOUT_MS, MAX_TARGETS, connectionStats, resetConnections } from '#shared/outbound/connections.ts';
import { loopRecord, mailEvent } from '../support/factories.ts';

/**
 * Connection reuse in the guarded client (connections.ts): what is reused, and what never is. The
 * receivers count the connections they accept; the resolver is injected (no real DNS is asked).
 */

interface Receiver {
  host: string;
  port: number;
  /** Connections accepted (TLS: handshakes completed), in order; each says whether it has closed. */
  connections: { socket: Socket; closed: Promise<void> }[];
  requests: { path: string; host?: string; servername?: string | false | null; local: string }[];
  close: () => Promise<void>;
}

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;
const answerOk: Handler = (request, response) => {
  request.resume();
  request.on('end', () => response.end('ok'));
};

const receivers: Receiver[] = [];

async function startReceiver(
  host: string,
  {
    port = 0,
    tlsOptions,
    handle = answerOk,
  }: { port?: number; tlsOptions?: https.ServerOptions; handle?: Handler } = {},
): Promise<Receiver> {
  const receiver: Receiver = { host, port, connections: [], requests: [], close: async () => {} };
  const onRequest: Handler = (request, response) => {
    const socket = request.socket as Socket & Partial<tls.TLSSocket>;
    receiver.requests.push({
      path: request.url!,
      host: request.headers.host,
      servername: socket.servername,
      local: socket.localAddress!,
    });
    handle(request, response);
  };
  const server = tlsOptions ? https.createServer(tlsOptions, onRequest) : http.createServer(onRequest);
  server.on(tlsOptions ? 'secureConnection' : 'connection', (socket: Socket) => {
    receiver.connections.push({ socket, closed: new Promise((resolve) => socket.on('close', () => resolve())) });
  });
  server.listen(port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
  receiver.port = (server.address() as AddressInfo).port;
  receiver.close = async () => {
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  };
  receivers.push(receiver);
  return receiver;
}

afterEach(async () => {
  resetConnections();
  vi.restoreAllMocks();
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const post = (url: string, overrides: Partial<OutboundRequest> = {}): OutboundRequest => ({
  method: 'POST',
  url,
  body: 'a=1',
  timeoutMs: 2000,
  maxResponseBytes: 1024,
  ...overrides,
});

/** A resolver that answers in turn, the last answer from then on. */
const answering = (...answers: string[][]) => {
  const resolve = vi.fn<(hostname: string) => Promise<string[]>>();
  for (const answer of answers) resolve.mockResolvedValueOnce(answer);
  return resolve.mockResolvedValue(answers.at(-1)!);
};

async function failure(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OutboundError);
  return error as OutboundError;
}

const LOOPBACK: OutboundPolicy = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] };

describe('reuse', () => {
  it('sends two deliveries to the same receiver over one connection', async () => {
    const receiver = await startReceiver('127.0.0.1');
    const loop = loopRecord({ url: `http://127.0.0.1:${receiver.port}/hooks/feedback.php`, format: 'form' });
    for (const message of ['m1', 'm2']) {
      const now = new Date();
      const request = signedRequest(loop, toRecord(mailEvent({ type: 'open', message })), now, 2000);
      expect(await attempt((outbound) => send(LOOPBACK, outbound), request, now)).toMatchObject({
        ok: true,
        status: 200,
      });
    }
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.connections).toHaveLength(1);
    expect(connectionStats()).toEqual({ targets: 1, idle: 1, busy: 0 });
  });

  it('keeps one connection per concurrent request, and reuses them all', async () => {
    const receiver = await startReceiver('127.0.0.1');
    const url = `http://127.0.0.1:${receiver.port}/hook`;
    for (let round = 0; round < 3; round++) {
      const responses = await Promise.all([1, 2, 3, 4].map(() => send(LOOPBACK, post(url))));
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    }
    expect(receiver.requests).toHaveLength(12);
    expect(receiver.connections).toHaveLength(4);
  });

  it('does not reuse a connection whose answer was cut at maxResponseBytes', async () => {
    const receiver = await startReceiver('127.0.0.1', {
      handle: (request, response) => {
        request.resume();
        request.on('end', () => response.end(request.url === '/big' ? 'x'.repeat(100_000) : 'ok'));
      },
    });
    const origin = `http://127.0.0.1:${receiver.port}`;
    expect(await send(LOOPBACK, post(`${origin}/big`))).toMatchObject({ status: 200, truncated: true });
    await receiver.connections[0]!.closed;
    expect(await send(LOOPBACK, post(`${origin}/small`))).toMatchObject({ status: 200, body: 'ok' });
    expect(await send(LOOPBACK, post(`${origin}/small`))).toMatchObject({ status: 200, body: 'ok' });
    expect(receiver.connections).toHaveLength(2);
  });
});

describe('a changed DNS answer', () => {
  /** Receivers on 127.0.0.1 and ::1 with the same port, so that one URL can lead to either. */
  async function twoAddresses(): Promise<[Receiver, Receiver]> {
    for (let tries = 0; ; tries++) {
      const v4 = await startReceiver('127.0.0.1');
      try {
        return [v4, await startReceiver('::1', { port: v4.port })];
      } catch (error) {
        if (tries >= 10) throw error;
        await v4.close(); // ::1 has that port taken: try another
        receivers.splice(receivers.indexOf(v4), 1);
      }
    }
  }

  it('is checked before any connection is reused; an allowed new answer gets a connection of its own', async () => {
    const [v4, v6] = await twoAddresses();
    const resolve = answering(['127.0.0.1'], ['10.0.0.1'], ['127.0.0.1', '169.254.169.254'], ['::1'], ['127.0.0.1']);
    const policy: OutboundPolicy = { allowHttp: true, allowedCidrs: ['127.0.0.1/32', '::1/128'], resolve };
    const url = `http://receiver.test:${v4.port}/hook`;

    expect((await send(policy, post(url))).status).toBe(200);
    expect(v4.connections).toHaveLength(1);
    expect(connectionStats().idle).toBe(1); // a pooled connection to 127.0.0.1 exists…

    // …but the name now points elsewhere: refused, and the pooled connection is not used.
    expect(await failure(send(policy, post(url)))).toMatchObject({
      failure: 'blocked',
      message: 'receiver.test resolves to 10.0.0.1 (private network)',
    });
    expect(await failure(send(policy, post(url)))).toMatchObject({
      failure: 'blocked',
      message: 'receiver.test resolves to 169.254.169.254 (link-local (includes the cloud metadata address))',
    });
    expect(v4.requests).toHaveLength(1);

    // Another allowed address: a new connection, to that address.
    expect((await send(policy, post(url))).status).toBe(200);
    expect(v6.connections).toHaveLength(1);
    expect(v6.requests).toEqual([expect.objectContaining({ local: '::1', host: `receiver.test:${v4.port}` })]);

    // Back to the first answer, checked again: its connection is reused.
    expect((await send(policy, post(url))).status).toBe(200);
    expect(v4.connections).toHaveLength(1);
    expect(v4.requests).toHaveLength(2);
    expect(resolve).toHaveBeenCalledTimes(5);
  });

  it('keeps connections for different names apart even when they resolve to the same address', async () => {
    const receiver = await startReceiver('127.0.0.1');
    const policy: OutboundPolicy = { ...LOOPBACK, resolve: answering(['127.0.0.1']) };
    for (const name of ['a.test', 'b.test', 'a.test', 'b.test']) {
      expect((await send(policy, post(`http://${name}:${receiver.port}/hook`))).status).toBe(200);
    }
    expect(receiver.connections).toHaveLength(2);
    expect(receiver.requests.map((request) => request.host)).toEqual(
      ['a.test', 'b.test', 'a.test', 'b.test'].map((name) => `${name}:${receiver.port}`),
    );
    expect(connectionStats()).toMatchObject({ targets: 2, idle: 2 });
  });
});

describe('TLS on reused connections', () => {
  // The self-signed certificate for receiver.test of outbound-guard-connect.test.ts (valid 2020–2120).
  const CERT = `-----BEGIN CERTIFICATE-----
MIIBaTCCARCgAwIBAgIBATAKBggqhkjOPQQDAjAYMRYwFAYDVQQDDA1yZWNlaXZl
ci50ZXN0MCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAwMDAwWjAYMRYwFAYD
VQQDDA1yZWNlaXZlci50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEdLCF
SIVTraGDln7YaG/SEgDO/bS3nMoyj7hXikIZifsVKtK6aSAo2OrUkXIKd+xF6UiG
txCrdusUQbhZzYPwHaNJMEcwGAYDVR0RBBEwD4INcmVjZWl2ZXIudGVzdDAMBgNV
HRMBAf8EAjAAMB0GA1UdDgQWBBRt8KPhzkleQL3tAA7VGG74b/jr3DAKBggqhkjO
PQQDAgNHADBEAiAmB0SRSPeWxizfATi36d9Ls1VKaHM76W1oKxO87OBoAgIgcVet
4FrMAkhoCENrsShxDsUy5NF9J/DqY44Yc5+Ldfg=
-----END CERTIFICATE-----
`;
  const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8jFSB7kEtzEMSfyq
Ku/qeEcXlaj1nXl9xRcNvaCTCTyhRANCAAR0sIVIhVOtoYOWfthob9ISAM79tLec
yjKPuFeKQhmJ+xUq0rppICjY6tSRcgp37EXpSIa3EKt26xRBuFnNg/Ad
-----END PRIVATE KEY-----
`;
  let defaultCas: string[];
  beforeAll(() => {
    defaultCas = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...defaultCas, CERT]);
  });
  afterAll(() => tls.setDefaultCACertificates(defaultCas));

  it('reuses a connection only for the name its certificate was verified against', async () => {
    const secure = await startReceiver('127.0.0.1', { tlsOptions: { cert: CERT, key: KEY } });
    const policy: OutboundPolicy = {
      allowHttp: false,
      allowedCidrs: ['127.0.0.0/8'],
      resolve: answering(['127.0.0.1']),
    };
    const url = (host: string) => `https://${host}:${secure.port}/hook`;

    expect((await send(policy, post(url('receiver.test')))).status).toBe(200);
    expect((await send(policy, post(url('receiver.test')))).status).toBe(200);
    expect(secure.connections).toHaveLength(1);
    expect(secure.requests.map((request) => request.servername)).toEqual(['receiver.test', 'receiver.test']);

    // The same address under another name: its own handshake, named other.test, which the certificate does not cover.
    const otherName = await failure(send(policy, post(url('other.test'))));
    expect(otherName.failure).toBe('connection');
    expect(otherName.message).toMatch(/Host: other\.test\. is not in the cert's altnames: DNS:receiver\.test/);
    // And the address itself: no SNI, verified against the address.
    const literal = await failure(send(policy, post(url('127.0.0.1'))));
    expect(literal.message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
    expect(secure.requests).toHaveLength(2);

    expect((await send(policy, post(url('receiver.test')))).status).toBe(200);
    expect(secure.connections).toHaveLength(1);
    expect(secure.requests.at(-1)).toMatchObject({ servername: 'receiver.test', host: `receiver.test:${secure.port}` });
  });
});

describe('connections that must not be reused', () => {
  it('destroys the connection of a request that timed out; the next request works on a new one', async () => {
    const receiver = await startReceiver('127.0.0.1', {
      handle: (request, response) => {
        request.resume();
        if (request.url !== '/never') request.on('end', () => response.end('ok'));
      },
    });
    const origin = `http://127.0.0.1:${receiver.port}`;
    expect((await send(LOOPBACK, post(`${origin}/first`))).status).toBe(200);

    const timeout = await failure(send(LOOPBACK, post(`${origin}/never`, { timeoutMs: 100 })));
    expect(timeout).toMatchObject({ failure: 'timeout', message: 'no complete answer within 100 ms' });
    expect(receiver.connections).toHaveLength(1); // the request went over the pooled connection…
    await receiver.connections[0]!.closed; // …which is closed
    expect(connectionStats().idle).toBe(0);

    expect(await send(LOOPBACK, post(`${origin}/after`))).toMatchObject({ status: 200, body: 'ok' });
    expect(receiver.connections).toHaveLength(2);
    expect(receiver.requests.map((request) => request.path)).toEqual(['/first', '/never', '/after']);
  });

  it('sends once more on a new connection when a reused one was closed under it, unanswered', async () => {
    // The receiver drops a connection, unanswered, when a second request arrives on it (as a server
    // does when it closes an idle connection just as it is reused).
    const served = new WeakMap<Socket, number>();
    const receiver = await startReceiver('127.0.0.1', {
      handle: (request, response) => {
        const count = (served.get(request.socket) ?? 0) + 1;
        served.set(request.socket, count);
        if (count > 1) return request.socket.destroy();
        answerOk(request, response);
      },
    });
    const url = `http://127.0.0.1:${receiver.port}/hook`;
    expect((await send(LOOPBACK, post(url))).status).toBe(200);
    expect((await send(LOOPBACK, post(url))).status).toBe(200);
    expect(receiver.connections).toHaveLength(2);
    expect(receiver.requests).toHaveLength(3);

    // Only once: a new connection that fails is a failure.
    const dropAll = await startReceiver('127.0.0.1', { handle: (request) => request.socket.destroy() });
    const error = await failure(send(LOOPBACK, post(`http://127.0.0.1:${dropAll.port}/hook`)));
    expect(error).toMatchObject({ failure: 'connection', message: 'socket hang up' });
    expect(dropAll.requests).toHaveLength(1);
  });

  it('closes a connection idle past its time before reuse, even if no timer ran (a frozen instance)', async () => {
    const receiver = await startReceiver('127.0.0.1');
    const url = `http://127.0.0.1:${receiver.port}/hook`;
    expect((await send(LOOPBACK, post(url))).status).toBe(200);
    const thawed = Date.now() + IDLE_TIMEOUT_MS;
    vi.spyOn(Date, 'now').mockReturnValue(thawed);

    expect((await send(LOOPBACK, post(url))).status).toBe(200);
    await receiver.connections[0]!.closed;
    expect(receiver.connections).toHaveLength(2);
    expect(receiver.requests).toHaveLength(2);
  });

  it('keeps agents for at most MAX_TARGETS targets, closing the idle connections of the least recently used', async () => {
    const receiver = await startReceiver('127.0.0.1');
    const policy: OutboundPolicy = { ...LOOPBACK, resolve: answering(['127.0.0.1']) };
    const url = (i: number) => `http://host-${i}.test:${receiver.port}/hook`;
    for (let i = 0; i <= MAX_TARGETS; i++) expect((await send(policy, post(url(i)))).status).toBe(200);

    expect(connectionStats()).toEqual({ targets: MAX_TARGETS, idle: MAX_TARGETS, busy: 0 });
    await receiver.connections[0]!.closed; // host-0's, the least recently used
    expect((await send(policy, post(url(MAX_TARGETS)))).status).toBe(200);
    expect(receiver.connections).toHaveLength(MAX_TARGETS + 1);
  });
});
