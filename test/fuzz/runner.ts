import fc from 'fast-check';
import { ROUTES, routeKey } from '#shared/http/routes.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { type FindingKind, checkAnswer } from './check.ts';
import { Fixture, TRACKED_MESSAGE } from './fixture.ts';
import { RawClient, type TwinAccess } from './http.ts';
import type { FuzzRequest } from './model.ts';
import { fuzzRequest } from './requests.ts';
import { StateReader, differences } from './state.ts';
import { Tally, type Finding } from './tally.ts';

export interface FuzzOptions {
  seed: number;
  runs: number;
  /** Requests between two state checks. */
  round?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

/**
 * The fuzz run: `runs` requests generated from `seed` (fast-check), sent raw to the twin in rounds.
 * Within a round the refused and inert requests go out side by side (≤ `concurrency` in flight) and
 * the state must be the same after them as before; the round's valid writes then go one by one and
 * the state is read anew. At the end, every event the receivers got must come from an accepted request.
 */
export async function runFuzz(twin: TwinAccess, options: FuzzOptions): Promise<Tally> {
  const log = options.log ?? (() => {});
  const roundSize = options.round ?? 200;
  const client = new RawClient(twin.apiUrl, options.concurrency ?? 8);
  const receiver = await startLoopback();
  const tally = new Tally(options.seed, options.runs, log);
  try {
    const fixture = await Fixture.create(client, receiver, twin.adminKey);
    const state = new StateReader(client, fixture, twin);
    await checkRouteList(client, tally);
    const accepted = new Set<string>();
    let baseline = await state.snapshot();
    for (let start = 0; start < options.runs; start += roundSize) {
      const count = Math.min(roundSize, options.runs - start);
      // Each round has its own seed, derived from the run's: the same seed gives the same requests.
      const requests = fc.sample(fuzzRequest, {
        seed: (options.seed + Math.imul(start / roundSize + 1, 0x9e3779b1)) | 0,
        numRuns: count,
      });
      const numbered = requests.map((request, index) => ({ request, index: start + index }));
      const send = (item: { request: FuzzRequest; index: number }) =>
        sendOne(client, fixture, item.request, item.index, tally, accepted);
      await inParallel(
        numbered.filter(({ request }) => request.expect !== 'write'),
        options.concurrency ?? 8,
        send,
      );
      const after = await state.snapshot().catch((error: Error) => error);
      if (after instanceof Error) {
        tally.add({
          kind: '5xx',
          index: start + count - 1,
          request: undefined,
          detail: `reading the state after requests ${start}–${start + count - 1}: ${after.message}`,
        });
        break;
      }
      const changed = differences(baseline, after);
      if (changed.length) {
        const suspects = numbered.filter(({ request }) => request.expect !== 'write' && request.method !== 'GET');
        tally.add({
          kind: 'state',
          index: start,
          request: suspects[0]?.request ?? numbered[0]!.request,
          detail: `after requests ${start}–${start + count - 1} (refused and inert): ${changed.join('; ')}; suspects: ${suspects
            .map(
              ({ index, request }) =>
                `#${index} ${request.method} ${request.target.slice(0, 60)} (${request.what.slice(0, 40)})`,
            )
            .slice(0, 20)
            .join(', ')}`,
        });
      }
      for (const item of numbered.filter(({ request }) => request.expect === 'write')) await send(item);
      try {
        baseline = await state.snapshot();
      } catch (error) {
        // The API no longer answers the plain reads of the snapshot: a finding, and the end of the run.
        tally.add({
          kind: '5xx',
          index: start + count - 1,
          request: undefined,
          detail: `reading the state after requests ${start}–${start + count - 1}: ${(error as Error).message}`,
        });
        break;
      }
      log(`fuzz: ${start + count}/${options.runs} requests, ${tally.findings.length} findings`);
    }
    await checkDeliveries(receiver, accepted, tally, log);
    tally.finish();
    return tally;
  } finally {
    await client.close();
    await receiver.close();
  }
}

async function sendOne(
  client: RawClient,
  fixture: Fixture,
  request: FuzzRequest,
  index: number,
  tally: Tally,
  accepted: Set<string>,
) {
  const marker = `fz${index.toString(36).padStart(5, '0')}`;
  const target = fixture.resolve(request.target, marker);
  const headers: Record<string, string> = { ...request.headers };
  const { auth } = request;
  if (typeof auth === 'object') headers.authorization = fixture.resolve(auth.header, marker);
  else if (auth !== 'none') headers.authorization = `Bearer ${fixture.keys[auth]}`;
  if (request.contentType !== undefined && request.contentType !== null) headers['content-type'] = request.contentType;
  const body = typeof request.body === 'string' ? Buffer.from(fixture.resolve(request.body, marker)) : request.body;
  const started = performance.now();
  const sendIt = () =>
    client.send({ method: request.method, path: target, headers, ...(body !== undefined ? { body } : {}) });
  let answer = await sendIt();
  tally.count(request, answer.status, performance.now() - started);
  // A 5xx the input causes comes again; one of a twin too busy to answer in time (a function past its
  // timeout) does not: the request is sent twice more, after pauses, and counted apart as transient.
  for (let attempt = 1; attempt <= 2 && (answer.status >= 500 || answer.transportError); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 5000 * attempt));
    const again = await sendIt();
    if (again.status < 500 && !again.transportError) {
      tally.transient.push(
        `#${index} ${request.method} ${target.slice(0, 80)}: ${answer.status || answer.transportError} then ${again.status}`,
      );
    }
    answer = again;
  }
  // Another account's ids may appear only where the request named them itself.
  const side = auth === 'A' || auth === 'A2' ? 'B' : auth === 'B' ? 'A' : undefined;
  const sent = `${target}\n${body?.toString('utf8') ?? ''}`;
  const foreign = side ? fixture.idsOf(side).filter((id) => !sent.includes(id)) : [];
  if (request.expect !== 'refused' && answer.status >= 400 && answer.status < 500)
    tally.refusedValid(request, answer.status, answer.text);
  for (const problem of checkAnswer(request, answer, foreign))
    tally.add({ ...problem, index, request: { ...request, target } });
  if (answer.status >= 200 && answer.status < 300) follow(fixture, request, answer.text, target, accepted, marker);
}

/** What a valid write created or removed, so that later requests can name it. */
function follow(
  fixture: Fixture,
  request: FuzzRequest,
  text: string,
  target: string,
  accepted: Set<string>,
  marker: string,
) {
  if (request.route === 'POST /v1/events') accepted.add(marker);
  if (request.route === 'POST /v1/loops') fixture.created.push(JSON.parse(text).id);
  if (request.route === 'DELETE /v1/loops/{loopId}')
    fixture.created.splice(fixture.created.indexOf(target.split('/').at(-1)!), 1);
  if (request.route === 'POST /v1/accounts/{accountId}/keys' && target.includes(fixture.ids['A.accountId']!))
    fixture.createdKeys.push(JSON.parse(text).id);
  if (request.route === 'DELETE /v1/accounts/{accountId}/keys/{keyId}')
    fixture.createdKeys.splice(fixture.createdKeys.indexOf(target.split('/').at(-1)!), 1);
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The OpenAPI document lists exactly the routes the fuzz covers (routes.ts). */
async function checkRouteList(client: RawClient, tally: Tally) {
  const document = await client.json('GET', '/v1/openapi.json', undefined);
  const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const covered = ROUTES.map(routeKey);
  const missing = listed.filter((route) => !covered.includes(route));
  if (missing.length) throw new Error(`the OpenAPI document has routes the fuzz does not know: ${missing.join(', ')}`);
  tally.routesInOpenApi = listed.length;
}

/**
 * Once the pipeline is quiet, every event delivered came from a request the API accepted (202): a
 * refused batch delivers nothing, not even its good events.
 */
async function checkDeliveries(receiver: Loopback, accepted: Set<string>, tally: Tally, log: (line: string) => void) {
  let seen = -1;
  for (let quiet = 0; quiet < 3;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const count = receiver.posts().length;
    quiet = count === seen ? quiet + 1 : 0;
    seen = count;
  }
  log(`fuzz: ${seen} webhook POSTs received, checking each came from an accepted request`);
  for (const post of receiver.posts()) {
    let event: { type?: string; message?: string };
    try {
      event = JSON.parse(post.body);
    } catch {
      event = Object.fromEntries(new URLSearchParams(post.body));
    }
    if (event.type === 'test') continue;
    // Opens and clicks of A's signed tracking URLs, at A's loop: what valid GETs of /t/o/ and /t/c/ record.
    if (
      post.path.startsWith('/a/') &&
      event.message === TRACKED_MESSAGE &&
      ['open', 'click'].includes(event.type ?? '')
    )
      continue;
    const marker = /^fz[0-9a-z]{5}/.exec(event.message ?? '')?.[0];
    if (!marker || !accepted.has(marker)) {
      tally.add({
        kind: 'delivery',
        index: -1,
        request: undefined,
        detail: `${post.path} got ${post.body.slice(0, 200)}, which no accepted request sent`,
      } as Finding);
    }
  }
}

export type { FindingKind };
