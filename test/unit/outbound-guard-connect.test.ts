import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OutboundError, type OutboundPolicy, type OutboundRequest, send } from '#shared/outbound/client.ts';

/**
 * The guard in the real client: servers on loopback, and an injected resolver for every host name
 * (no real DNS is ever asked; a stray system lookup of `receiver.test` would fail the test).
 */

interface Receiver {
  port: number;
  connections: number;
  requests: { headers: IncomingHttpHeaders; servername?: string | false | null }[];
  close: () => Promise<void>;
}

async function startReceiver(host: string, tlsOptions?: https.ServerOptions): Promise<Receiver> {
  const receiver: Receiver = { port: 0, connections: 0, requests: [], close: async () => {} };
  const handle: http.RequestListener = (request, response) => {
    const socket = request.socket as Partial<tls.TLSSocket>;
    receiver.requests.push({ headers: request.headers, servername: socket.servername });
    request.resume();
    response.end('ok');
  };
  const server = tlsOptions ? https.createServer(tlsOptions, handle) : http.createServer(handle);
  server.on(tlsOptions ? 'secureConnection' : 'connection', () => receiver.connections++);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}

const post = (url: string): OutboundRequest => ({
  method: 'POST',
  url,
  body: 'a=1',
  timeoutMs: 2000,
  maxResponseBytes: 1024,
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

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver('127.0.0.1');
});
afterAll(() => receiver.close());
afterEach(() => {
  receiver.connections = 0;
  receiver.requests = [];
});

describe('send to a host name', () => {
  it('refuses a name that resolves to a private address, and the server hears nothing', async () => {
    const resolve = answering(['127.0.0.1']);
    const policy: OutboundPolicy = { allowHttp: true, resolve };
    const error = await failure(send(policy, post(`http://receiver.test:${receiver.port}/hook`)));
    expect(error.failure).toBe('blocked');
    expect(error.message).toBe('receiver.test resolves to 127.0.0.1 (loopback)');
    expect(resolve).toHaveBeenCalledExactlyOnceWith('receiver.test');
    expect(receiver.connections).toBe(0);

    const metadata = await failure(
      send({ allowHttp: true, resolve: answering(['169.254.169.254']) }, post('http://receiver.test/')),
    );
    expect(metadata.message).toBe(
      'receiver.test resolves to 169.254.169.254 (link-local (includes the cloud metadata address))',
    );
  });

  it('checks every address the name resolves to, not only the first', async () => {
    const policy: OutboundPolicy = { allowHttp: true, resolve: answering(['8.8.8.8', '127.0.0.1']) };
    const error = await failure(send(policy, post(`http://receiver.test:${receiver.port}/hook`)));
    expect(error).toMatchObject({ failure: 'blocked', message: 'receiver.test resolves to 127.0.0.1 (loopback)' });

    const disguised = await failure(
      send(
        { allowHttp: true, resolve: answering(['2606:4700:4700::1111', '::ffff:10.0.0.1']) },
        post('http://receiver.test/'),
      ),
    );
    expect(disguised).toMatchObject({
      failure: 'blocked',
      message: 'receiver.test resolves to ::ffff:10.0.0.1 (IPv4-mapped IPv6)',
    });
    expect(receiver.connections).toBe(0);
  });

  it('connects to an address in allowedCidrs, keeping the name in the Host header', async () => {
    const resolve = answering(['127.0.0.1']);
    const policy: OutboundPolicy = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'], resolve };
    const response = await send(policy, post(`http://receiver.test:${receiver.port}/hook`));
    expect(response).toMatchObject({ status: 200, body: 'ok', truncated: false });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers.host).toBe(`receiver.test:${receiver.port}`);
    expect(resolve).toHaveBeenCalledExactlyOnceWith('receiver.test');
  });

  it('resolves once and connects to the address it checked (no DNS rebinding)', async () => {
    // The first answer is allowed; any later one points at the metadata service.
    const resolve = answering(['127.0.0.1'], ['169.254.169.254']);
    const policy: OutboundPolicy = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'], resolve };
    const response = await send(policy, post(`http://receiver.test:${receiver.port}/hook`));
    expect(response.status).toBe(200);
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(receiver.requests).toHaveLength(1);

    // The next request resolves again, and is checked again.
    const error = await failure(send(policy, post(`http://receiver.test:${receiver.port}/hook`)));
    expect(error.message).toBe(
      `receiver.test resolves to 169.254.169.254 (link-local (includes the cloud metadata address))`,
    );
    expect(resolve).toHaveBeenCalledTimes(2);
    expect(receiver.requests).toHaveLength(1);
  });

  it('counts the lookup in the timeout, and reports resolver failures as connection failures', async () => {
    const hanging: OutboundPolicy = { allowHttp: true, resolve: () => new Promise<string[]>(() => {}) };
    const timeout = await failure(send(hanging, { ...post('http://receiver.test/'), timeoutMs: 50 }));
    expect(timeout).toMatchObject({ failure: 'timeout', message: 'no complete answer within 50 ms' });

    const unknown: OutboundPolicy = {
      allowHttp: true,
      resolve: () => Promise.reject(new Error('getaddrinfo ENOTFOUND receiver.test')),
    };
    expect(await failure(send(unknown, post('http://receiver.test/')))).toMatchObject({
      failure: 'connection',
      message: 'receiver.test cannot be resolved: getaddrinfo ENOTFOUND receiver.test',
    });
    expect(
      await failure(send({ allowHttp: true, resolve: answering([]) }, post('http://receiver.test/'))),
    ).toMatchObject({
      failure: 'connection',
      message: 'receiver.test resolves to no address',
    });
  });
});

describe('send to an address literal', () => {
  const noLookup = () => Promise.reject(new Error('an address literal must not be resolved'));

  it('refuses 127.0.0.1 without allowedCidrs and connects with it, never resolving', async () => {
    const url = `http://127.0.0.1:${receiver.port}/hook`;
    const error = await failure(send({ allowHttp: true, resolve: noLookup }, post(url)));
    expect(error).toMatchObject({ failure: 'blocked', message: '127.0.0.1 is a blocked address (loopback)' });
    expect(receiver.connections).toBe(0);

    const response = await send({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'], resolve: noLookup }, post(url));
    expect(response.status).toBe(200);
    expect(receiver.requests[0]!.headers.host).toBe(`127.0.0.1:${receiver.port}`);
  });

  it('refuses other spellings of loopback before connecting', async () => {
    for (const host of ['2130706433', '0x7f.1', '127.1', '[::ffff:127.0.0.1]']) {
      const error = await failure(
        send({ allowHttp: true, resolve: noLookup }, post(`http://${host}:${receiver.port}/hook`)),
      );
      expect(error.failure).toBe('blocked');
    }
    expect(receiver.connections).toBe(0);
  });

  it('connects to [::1] when ::1/128 is allowed', async () => {
    const ipv6 = await startReceiver('::1');
    try {
      const url = `http://[::1]:${ipv6.port}/hook`;
      expect(await failure(send({ allowHttp: true }, post(url)))).toMatchObject({
        message: '::1 is a blocked address (loopback)',
      });
      expect(await send({ allowHttp: true, allowedCidrs: ['::1/128'] }, post(url))).toMatchObject({ status: 200 });
      expect(ipv6.requests[0]!.headers.host).toBe(`[::1]:${ipv6.port}`);
    } finally {
      await ipv6.close();
    }
  });
});

describe('send over TLS to a host name pinned to a checked address', () => {
  // A self-signed certificate for receiver.test only (valid 2020–2120), trusted for these tests.
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
  let secure: Receiver;
  let defaultCas: string[];
  beforeAll(async () => {
    defaultCas = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...defaultCas, CERT]);
    secure = await startReceiver('127.0.0.1', { cert: CERT, key: KEY });
  });
  afterAll(async () => {
    tls.setDefaultCACertificates(defaultCas);
    await secure.close();
  });

  const policy = (): OutboundPolicy => ({
    allowHttp: false,
    allowedCidrs: ['127.0.0.0/8'],
    resolve: answering(['127.0.0.1']),
  });

  it('names the host in SNI and verifies the certificate against it', async () => {
    const response = await send(policy(), post(`https://receiver.test:${secure.port}/hook`));
    expect(response.status).toBe(200);
    expect(secure.requests.at(-1)).toMatchObject({
      servername: 'receiver.test',
      headers: { host: `receiver.test:${secure.port}` },
    });
  });

  it('fails verification when the URL names the address, which the certificate does not cover', async () => {
    const error = await failure(send(policy(), post(`https://127.0.0.1:${secure.port}/hook`)));
    expect(error.failure).toBe('connection');
    expect(error.message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
  });
});
