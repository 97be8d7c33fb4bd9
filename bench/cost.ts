/**
 * The cost meter: the whole stack on the twin (the real bundles, moto with its request recorder on),
 * one account with one verified loop subscribed to every event type, and the realistic mix sent
 * twice: 100 events per ingest request, then one event per request. Each run lasts until every
 * event is delivered and its log records are written to S3; then every AWS request it caused (from
 * the recording), every Lambda invocation, its billed duration and its log bytes (from the twin's
 * meter) are priced per million events (cost-report.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EVENT_TYPES } from '#shared/events/event-types.ts';
import { type FunctionUsage, meterReading, resetMeter, startMeter } from './meter.ts';
import { type Twin, startTwin } from '../local/twin.ts';
import { type CostRun, priceRun, printRun } from './cost-report.ts';
import { mailing } from './mix.ts';
import { type RecordedRequest, readRecording } from './recording.ts';
import { type Loopback, startLoopback } from '../test/support/loopback.ts';
import { sleep, until } from '../test/support/wait.ts';

const BATCHED_MESSAGES = 150;
const SINGLE_MESSAGES = 30;
/** One at a time: a function's CPU time is its process's, which concurrent invocations would share. */
const SINGLE_CONCURRENCY = 1;

async function api(twin: Twin, method: string, route: string, key: string, body?: unknown) {
  const response = await fetch(`${twin.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
  return JSON.parse(text || '{}');
}

const sumOf = (reading: Map<string, FunctionUsage>, id: string | undefined, key: 'invocations' | 'records') =>
  id ? (reading.get(id)?.[key] ?? 0) : 0;

/** Runs one mix: sends it, waits for every delivery and for its log records to reach S3. */
async function runMix(
  twin: Twin,
  recordingFile: string,
  receiver: Loopback,
  apiKey: string,
  options: { name: string; messages: number; perRequest: number; concurrency: number; seed: number },
): Promise<CostRun> {
  const events = mailing(options.messages, options.seed);
  const endpoint = twin.emulator.endpoint;
  await fetch(`${endpoint}/moto-api/recorder/reset-recording`, { method: 'POST' });
  await fetch(`${endpoint}/moto-api/recorder/start-recording`, { method: 'POST' });
  resetMeter();
  const postsBefore = receiver.counts.posts;
  const started = performance.now();

  const requests: Record<string, unknown>[][] = [];
  for (let i = 0; i < events.length; i += options.perRequest) requests.push(events.slice(i, i + options.perRequest));
  let next = 0;
  let requestBytes = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const body = { events: requests[i] };
        requestBytes += Buffer.byteLength(JSON.stringify(body));
        await api(twin, 'POST', '/v1/events', apiKey, body);
      }
    }),
  );
  const progress = setInterval(() => {
    if (process.stdout.isTTY)
      process.stdout.write(`\r  ${options.name}: ${receiver.counts.posts - postsBefore}/${events.length} delivered`);
  }, 2000);
  await until('every delivery', () => receiver.counts.posts - postsBefore >= events.length, 240_000).finally(() =>
    clearInterval(progress),
  );
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');

  // The log path: every record fanout queued for the log writer has reached it (and S3).
  const logQueue = logQueueUrl(twin);
  const logWriter = functionId(twin, /^LogWriter/);
  const queuedLogMessages = () =>
    readRecording(recordingFile)
      .filter((request) => request.action === 'SendMessageBatch' && request.target === logQueue)
      .reduce((sum, request) => sum + ((request.body.Entries as unknown[]) ?? []).length, 0);
  const queued = queuedLogMessages();
  await until('the log flush', () => sumOf(meterReading(), logWriter, 'records') >= queued, 240_000);
  await sleep(1500); // the pollers' last deletes
  await fetch(`${endpoint}/moto-api/recorder/stop-recording`, { method: 'POST' });
  const seconds = (performance.now() - started) / 1000;
  return {
    name: options.name,
    events: events.length,
    eventBytes: events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event)), 0),
    apiRequests: requests.length,
    apiRequestBytes: requestBytes,
    delivered: receiver.counts.posts - postsBefore,
    seconds,
    requests: attribute(twin, readRecording(recordingFile)),
    functions: meterReading(),
  };
}

function functionId(twin: Twin, pattern: RegExp): string | undefined {
  return [...twin.functions.keys()].find((id) => pattern.test(id));
}

function logQueueUrl(twin: Twin): string {
  const id = [...twin.resources.keys()].find((logicalId) => /^LogQueue[0-9A-F]{8}$/.test(logicalId));
  return id ? twin.resources.get(id)! : '';
}

/** Who made each request: a function (its role's key), its event source mapping (receives and deletes), or the bench. */
function attribute(twin: Twin, requests: RecordedRequest[]): (RecordedRequest & { caller: string })[] {
  const byKey = new Map([...twin.roleCredentials].map(([id, credentials]) => [credentials.accessKeyId, id]));
  return requests.map((request) => {
    const fn = byKey.get(request.accessKeyId);
    if (!fn) return { ...request, caller: 'bench' };
    const poller = request.service === 'sqs' && ['ReceiveMessage', 'DeleteMessageBatch'].includes(request.action);
    return { ...request, caller: poller ? `${fn} (event source)` : fn };
  });
}

export interface CostFigures {
  batched: number;
  single: number;
}

export async function costBench(): Promise<CostFigures> {
  const recordingDir = mkdtempSync(path.join(tmpdir(), 'bench-recording-'));
  const recordingFile = path.join(recordingDir, 'moto_recording');
  // The launcher hands its environment to moto_server: the recorder writes here once started.
  process.env.MOTO_RECORDER_FILEPATH = recordingFile;
  const stopMeter = startMeter();
  const twin = await startTwin({
    port: 0,
    // Short flushes keep the run short; cost-report.ts prices the log writer as at the default.
    context: { logFlushSeconds: '20' },
    print: (line) => /ERR|WARN|ERROR/.test(line) && console.log(line),
  });
  // Counting, not recording: thousands of deliveries.
  const receiver = await startLoopback({ record: false });
  try {
    console.log(`\nCost per million events on the twin (started in ${(twin.startupMs / 1000).toFixed(1)} s)`);
    const account = await api(twin, 'POST', '/v1/accounts', twin.adminKey, { name: 'Bench' });
    const apiKey = account.apiKey.key as string;
    const hook = '/hooks/feedback.php';
    const loop = await api(twin, 'POST', '/v1/loops', apiKey, {
      url: `${receiver.origin}${hook}`,
      events: EVENT_TYPES,
    });
    receiver.serve(`/hooks/${loop.verification.file}`, { body: `${loop.verification.content}\n` });
    await api(twin, 'POST', `/v1/loops/${loop.id}/verify`, apiKey);
    const template = JSON.parse(readFileSync(templatePath(twin), 'utf8'));
    // Every function of the path loaded once before the count, as in a warm deployment.
    const warmUp = mailing(3, 99);
    const before = receiver.counts.posts;
    await api(twin, 'POST', '/v1/events', apiKey, { events: warmUp });
    await until('the warm-up deliveries', () => receiver.counts.posts - before >= warmUp.length, 120_000);

    const batched = await runMix(twin, recordingFile, receiver, apiKey, {
      name: '100 events per request',
      messages: BATCHED_MESSAGES,
      perRequest: 100,
      concurrency: 1,
      seed: 1,
    });
    const batchedPrice = priceRun(batched, twin, template);
    printRun(batched, batchedPrice);
    const single = await runMix(twin, recordingFile, receiver, apiKey, {
      name: 'one event per request',
      messages: SINGLE_MESSAGES,
      perRequest: 1,
      concurrency: SINGLE_CONCURRENCY,
      seed: 2,
    });
    const singlePrice = priceRun(single, twin, template);
    printRun(single, singlePrice);
    return { batched: batchedPrice.total, single: singlePrice.total };
  } finally {
    await receiver.close();
    await twin.stop();
    stopMeter();
    delete process.env.MOTO_RECORDER_FILEPATH;
    rmSync(recordingDir, { recursive: true, force: true });
  }
}

function templatePath(twin: Twin): string {
  return path.join(twin.logDir, '..', 'cdk.out', `${twin.stackName}.template.json`);
}
