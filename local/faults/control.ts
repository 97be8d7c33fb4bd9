import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAULT_KINDS, type FaultKind, type FaultProxy, FaultSpecError, parseFaultSpec } from './faults.ts';
import type { LocalFunction } from '../lambda/runtime.ts';
import type { SqsPoller } from '../triggers/sqs-poller.ts';

export interface Controlled {
  faults: FaultProxy;
  functions: Map<string, LocalFunction>;
  pollers: SqsPoller[];
}

/**
 * The twin's controls for breaking things (on its control port, next to the schedules):
 *   POST   /faults                     `{"spec": "sqs:SendMessageBatch=0.2,dynamodb:*=0.05", "seed"?: 1,
 *                                      "kind"?: "throttle"|"error"|"timeout"|"mixed"}` fails a share of
 *                                      the functions' AWS calls; GET /faults shows it and what it failed;
 *   DELETE /faults                     stops failing them;
 *   POST   /functions/<name>/crash     `{"at"?: "sqs:SendMessageBatch", "armed"?: true}` kills the function's
 *                                      process at its next AWS call of an invocation (answers once it has,
 *                                      or with `armed`, once it is set); GET …/crash says whether it still is;
 *   POST   /pollers/<name>/pause       a queue's poller takes no more messages (answers once it has
 *                                      stopped), …/resume starts it again; GET /pollers lists them.
 * A function or poller is named by its logical id, physical name, or a unique part of either
 * (`fanout`, `DeliveriesQueue`). Answers true when it handled the request.
 */
export async function handleControl(
  request: IncomingMessage,
  response: ServerResponse,
  twin: Controlled,
): Promise<boolean> {
  const url = request.url ?? '';
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
    return true;
  };
  const { method } = request;

  if (url === '/faults') {
    if (method === 'GET')
      return reply(200, { ...twin.faults.current, injected: Object.fromEntries(twin.faults.counts) });
    if (method === 'DELETE') return reply(200, twin.faults.configure({ rules: [] }));
    if (method !== 'POST') return reply(405, { error: 'GET, POST or DELETE /faults' });
    const body = await readJson(request);
    const kind = (body?.kind ?? 'mixed') as FaultKind;
    const seed = body?.seed ?? 1;
    if (typeof body?.spec !== 'string' || !FAULT_KINDS.includes(kind) || !Number.isInteger(seed))
      return reply(400, { error: `Send {"spec": "service:Action=rate,…", "seed"?: integer, "kind"?: ${FAULT_KINDS}}` });
    try {
      const rules = parseFaultSpec(body.spec);
      return reply(200, twin.faults.configure({ rules, seed: seed as number, kind }));
    } catch (error) {
      if (error instanceof FaultSpecError) return reply(400, { error: error.message });
      throw error;
    }
  }

  const crash = /^\/functions\/([^/]+)\/crash$/.exec(url);
  if (crash && (method === 'POST' || method === 'GET')) {
    const fn = named(twin.functions.values(), decodeURIComponent(crash[1]!), (f) => [f.spec.logicalId, f.spec.name]);
    if (typeof fn === 'string') return reply(404, { error: fn });
    if (method === 'GET') return reply(200, { function: fn.spec.name, armed: fn.crashArmed });
    const body = await readJson(request);
    const [service, action] = typeof body?.at === 'string' ? body.at.split(':') : [];
    const crashed = fn.crashAt({ service, action: action === '*' ? undefined : action });
    // `"armed": true` answers once the crash is set (GET tells when it has happened); otherwise once it happened.
    if (body?.armed === true) return reply(200, { armed: fn.spec.name });
    await crashed;
    return reply(200, { crashed: fn.spec.name });
  }

  if (url === '/pollers' && method === 'GET')
    return reply(200, { pollers: twin.pollers.map((p) => ({ name: p.name, paused: p.isPaused })) });
  const poller = /^\/pollers\/([^/]+)\/(pause|resume)$/.exec(url);
  if (poller && method === 'POST') {
    const found = named(twin.pollers, decodeURIComponent(poller[1]!), (p) => [p.name, ...p.functionNames]);
    if (typeof found === 'string') return reply(404, { error: found });
    if (poller[2] === 'pause') await found.pause();
    else found.resume();
    return reply(200, { poller: found.name, paused: found.isPaused });
  }
  return false;
}

/** The one item that `name` names exactly, or, failing that, the one whose names contain it. */
function named<T>(items: Iterable<T>, name: string, namesOf: (item: T) => string[]): T | string {
  const all = [...items];
  const exact = all.filter((item) => namesOf(item).includes(name));
  const partial = all.filter((item) => namesOf(item).some((n) => n.toLowerCase().includes(name.toLowerCase())));
  const found = exact.length ? exact : partial;
  if (found.length === 1) return found[0]!;
  return found.length ? `"${name}" names ${found.length}: be more precise` : `nothing named "${name}"`;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
