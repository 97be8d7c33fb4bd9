import http from 'node:http';
import type { Socket } from 'node:net';
import { expect, inject } from 'vitest';
import { call } from '../support/twin-api.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';
import { sleep } from '../support/wait.ts';

/**
 * What the outage and crash scenarios share: a receiver that can refuse, fail or hang, an account
 * with one verified loop on it, the counts of each scenario, and the twin's controls.
 */

/**
 * How the receiver answers webhook POSTs: 200, connection refused, 500, or not at all. It is not
 * test/support/loopback.ts: it closes its port to refuse and holds answers to hang.
 */
export type Mode = 'ok' | 'refuse' | 'error' | 'hang';

export async function startFaultyReceiver() {
  let mode: Mode = 'ok';
  const files = new Map<string, string>();
  /** webhook-id → the POSTs answered 2xx. */
  const delivered = new Map<string, number>();
  let lastDeliveredAt = 0;
  const sockets = new Set<Socket>();
  const hung = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'GET') {
        const body = files.get(request.url ?? '');
        response.writeHead(body === undefined ? 404 : 200).end(body ?? '');
        return;
      }
      if (mode === 'hang') return void hung.add(response);
      if (mode === 'error') return void response.writeHead(500).end();
      const id = String(request.headers['webhook-id']);
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
      lastDeliveredAt = Date.now();
      response.writeHead(200).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () => {
    for (const socket of sockets) socket.destroy();
    hung.clear();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await listen(0);
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    delivered,
    lastDeliveredAt: () => lastDeliveredAt,
    serve: (path: string, file: { body?: string }) => void files.set(path, file.body ?? ''),
    async setMode(next: Mode) {
      if (next === mode) return;
      if (mode === 'refuse') await listen(port);
      if (next === 'refuse') await close();
      if (mode === 'hang') for (const response of hung) response.destroy();
      mode = next;
    },
    close: () => (mode === 'refuse' ? Promise.resolve() : close()),
  };
}
export type FaultyReceiver = Awaited<ReturnType<typeof startFaultyReceiver>>;

/** An account with one verified loop (open and click) on the receiver. */
export async function seedLoop(receiver: FaultyReceiver, name: string) {
  const { apiKey } = await createAccount(name);
  const loop = await createVerifiedLoop(apiKey, receiver, { path: `/hooks/${name}.php`, events: ['open', 'click'] });
  return { apiKey, loopId: loop.id as string };
}

/** One scenario's figures, as the table at the end shows them. */
export class Tally {
  readonly accepted = new Set<string>();
  readonly statuses = new Map<number, number>();
  failures = 0;
  recoveredMs: number | undefined;

  constructor(
    readonly scenario: string,
    readonly receiver: FaultyReceiver,
  ) {}

  /** POSTs one request of `count` events; counts its status and the ids it accepted. */
  async send(apiKey: string, count: number, tag: string, withIds = false) {
    const events = Array.from({ length: count }, (_, i) => ({
      ...(withIds ? { id: `${tag}-${i}` } : {}),
      type: i % 2 ? 'click' : 'open',
      message: `${tag}-${i}`,
    }));
    const answer = await call('POST', '/v1/events', { key: apiKey, body: { events } });
    this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
    if (answer.status === 202) for (const id of answer.body.ids as string[]) this.accepted.add(id);
    return answer;
  }

  get delivered() {
    return [...this.accepted].filter((id) => this.receiver.delivered.has(id)).length;
  }

  get duplicates() {
    return [...this.accepted].reduce((sum, id) => sum + Math.max(0, (this.receiver.delivered.get(id) ?? 0) - 1), 0);
  }

  get lost() {
    return this.accepted.size - this.delivered;
  }

  /** Waits until every accepted event has been delivered (or the time is up); notes the time to recover from `since`. */
  async allDelivered(since: number, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (this.lost > 0 && Date.now() < deadline) await sleep(250);
    this.recoveredMs = Math.max(0, this.receiver.lastDeliveredAt() - since);
    expect(this.lost, `${this.scenario}: accepted but not delivered`).toBe(0);
  }
}

export const tallies: Tally[] = [];

export function printTable(): void {
  const header = ['scenario', 'accepted', 'delivered', 'duplicates', 'failures', 'lost', 'recovery s', 'answers'];
  const rows = tallies.map((tally) => [
    tally.scenario,
    String(tally.accepted.size),
    String(tally.delivered),
    String(tally.duplicates),
    String(tally.failures),
    String(tally.lost),
    tally.recoveredMs === undefined ? '-' : (tally.recoveredMs / 1000).toFixed(1),
    [...tally.statuses].map(([status, count]) => `${count}×${status}`).join(' '),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  console.log(['', line(header), ...rows.map(line), ''].join('\n'));
}

/** The loop's failures, all of them (at most 200 here). */
export async function failuresOf(apiKey: string, loopId: string): Promise<{ eventId: string }[]> {
  const answer = await call('GET', `/v1/loops/${loopId}/failures?limit=200`, { key: apiKey });
  expect(answer.status).toBe(200);
  return answer.body.failures;
}

/** A request to the twin's control port. */
export async function control(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${inject('twin').controlUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const answer = await response.json();
  expect(response.status, JSON.stringify(answer)).toBe(200);
  return answer;
}

/** The ids of the records in today's log file of one type (`opens`, `clicks` …), as its JSON download lists them. */
export async function loggedIds(apiKey: string, type: string): Promise<string[]> {
  const name = `${type}.${new Date().toISOString().slice(0, 10)}`;
  const answer = await call('GET', `/v1/logfiles/${name}?format=json&redirect=false`, { key: apiKey });
  // 404: no file yet; 503: the API's own AWS calls failed (the minute of injected faults may overlap).
  if (answer.status === 404 || answer.status === 503) return [];
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const text = await (await fetch(answer.body.url)).text();
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => (JSON.parse(line) as { id: string }).id);
}
