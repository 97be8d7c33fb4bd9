/**
 * Prices a cost-meter run (cost.ts) per million events with the one price table (prices.ts), by
 * component and by AWS API. How each part is counted:
 * - AWS requests: every request in moto's recording signed by a function's role, except those of
 *   the scheduled functions (a fixed cost per hour, not per event). SQS by 64 KB chunk, DynamoDB by
 *   request unit (recording.ts), S3 by request class, Secrets Manager per call.
 * - The event source mappings' ReceiveMessage: the twin's pollers also long-poll empty queues (an
 *   idle cost per queue, not per event); per event they are priced as one receive per
 *   DeleteMessageBatch, i.e. per ten records at most, as Lambda's pollers need under load.
 * - Lambda: invocations, and duration as the twin measured it (cold starts included, on this
 *   machine, against moto), rounded up to the ms, times the function's memory; arm64.
 * - CloudWatch Logs: what each function wrote at or above its ApplicationLogLevel, plus Lambda's
 *   own platform.start and platform.report lines per invocation.
 * - X-Ray: a function with active tracing records the first invocation each second and 5 % of the
 *   rest (Lambda's default sampling), each as a trace, at ASSUMED_RATE events a second.
 * - API Gateway: one HTTP API request per ingest request (512 KB increments).
 * - The log writer runs once per flush window whatever the load, so what it and its event source
 *   cost per flush is scaled to ASSUMED_RATE events a second over the default flush window (the
 *   log queue's batching window in the template with the default settings) when the run had fewer
 *   events per flush.
 */
import type { FunctionUsage } from './meter.ts';
import type { Twin } from '../local/twin.ts';
import { PRICES } from './prices.ts';
import type { RecordedRequest } from './recording.ts';
import { benchStack } from './stack.ts';

/** Events a second at which sampling (X-Ray) is priced: the load the log-path figures use too. */
export const ASSUMED_RATE = 100;
/** The log queue's batching window with the default settings (the bench's twin runs shorter ones). */
const DEFAULT_FLUSH_WINDOW_SECONDS = (await benchStack()).eventSource('log-writer', 'LogQueue').windowSeconds;
const LOG_WRITER = /^LogWriter/;
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const SCHEDULED = /^(Verifier|LogCompactor)/;
/** Memory that buys a whole vCPU in Lambda. */
const FULL_VCPU_MB = 1769;
/** Typical latency of one request from a Lambda function in the same region, ms (an assumption). */
const LATENCY_MS: Record<string, number> = { dynamodb: 6, sqs: 10, s3: 25, secretsmanager: 15 };
/** Lambda's JSON-format platform lines for one invocation, about as long as real ones. */
const PLATFORM_LINES = [
  '{"time":"2026-11-29T12:00:00.000Z","type":"platform.start","record":{"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","version":"$LATEST"}}',
  '{"time":"2026-11-29T12:00:00.045Z","type":"platform.report","record":{"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","metrics":{"durationMs":44.512,"billedDurationMs":45,"memorySizeMB":256,"maxMemoryUsedMB":92},"status":"success"}}',
];
const TRACING_BLOCK =
  ',"tracing":{"spanId":"5a8c1e3f0b2d4c6e","type":"X-Amzn-Trace-Id","value":"Root=1-674a1b2c-0123456789abcdef01234567;Parent=5a8c1e3f0b2d4c6e;Sampled=1"}';

export interface CostRun {
  name: string;
  events: number;
  eventBytes: number;
  apiRequests: number;
  apiRequestBytes: number;
  delivered: number;
  seconds: number;
  requests: (RecordedRequest & { caller: string })[];
  functions: Map<string, FunctionUsage>;
}

interface Line {
  count: number;
  dollars: number;
}

export interface Priced {
  /** $ per million events. */
  total: number;
  components: Map<string, number>;
  /** By `service Action`: requests and $, per million events. */
  apis: Map<string, Line>;
  /** By function: invocations, billed ms, log bytes, $ (Lambda + logs + traces), per million events. */
  functions: Map<string, { invocations: number; billedMs: number; wallMs: number; logBytes: number; dollars: number }>;
  excluded: string[];
  /** The factor the log writer's per-flush costs were scaled by (1: not scaled). */
  flushScale: number;
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

const short = (id: string) => id.replace(/(Function)?[0-9A-F]{8}$/, '');

export function priceRun(run: CostRun, twin: Twin, template: Template): Priced {
  const perMillion = 1e6 / run.events;
  const components = new Map<string, number>();
  const addTo = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);
  const apis = new Map<string, Line>();
  const addApi = (key: string, count: number, dollars: number) => {
    const line = apis.get(key) ?? { count: 0, dollars: 0 };
    line.count += count * perMillion;
    line.dollars += dollars * perMillion;
    apis.set(key, line);
  };
  const excluded = new Set<string>();
  const flushes = [...run.functions].find(([id]) => LOG_WRITER.test(id))?.[1].invocations ?? 0;
  const flushScale = flushes ? Math.min(1, run.events / flushes / (ASSUMED_RATE * DEFAULT_FLUSH_WINDOW_SECONDS)) : 1;
  const scale = (fn: string) => (LOG_WRITER.test(fn) ? flushScale : 1);

  // AWS requests.
  const deletesBy = new Map<string, number>();
  for (const request of run.requests) {
    const fn = request.caller.split(' ')[0]!;
    if (request.caller === 'bench' || SCHEDULED.test(fn)) {
      excluded.add(request.caller === 'bench' ? 'the bench’s own calls' : short(fn));
      continue;
    }
    if (request.caller.endsWith('(event source)') && request.action === 'ReceiveMessage') continue;
    if (request.caller.endsWith('(event source)')) addTo(deletesBy, fn, scale(fn));
    const key = `${request.service} ${request.action}${request.caller.endsWith('(event source)') ? ' (event source)' : ''}`;
    const dollars = requestDollars(request) * scale(fn);
    addApi(key, scale(fn), dollars);
    addTo(components, serviceName(request.service), dollars * perMillion);
  }
  for (const [, deletes] of deletesBy) {
    addApi('sqs ReceiveMessage (event source)', deletes, deletes * PRICES.sqs.perRequest);
    addTo(components, 'SQS', deletes * PRICES.sqs.perRequest * perMillion);
  }

  const waitMs = new Map<string, number>();
  for (const request of run.requests) {
    if (request.caller.endsWith('(event source)') || request.caller === 'bench') continue;
    addTo(waitMs, request.caller, LATENCY_MS[request.service] ?? 10);
  }

  // Lambda, CloudWatch Logs, X-Ray, per function.
  const functions: Priced['functions'] = new Map();
  for (const [id, counted] of run.functions) {
    if (SCHEDULED.test(id)) {
      excluded.add(short(id));
      continue;
    }
    const factor = scale(id);
    const memoryMb = twin.functions.get(id)?.spec.memoryMb ?? 128;
    // CPU time missing for an invocation (it timed out): its wall time stands in.
    const cpuMs = counted.cpuMs + (counted.billedMs / counted.invocations) * (counted.invocations - counted.cpuCounted);
    const modelMs = cpuMs * Math.max(1, FULL_VCPU_MB / memoryMb) + (waitMs.get(id) ?? 0) + counted.invocations * 0.5;
    const used = { ...counted, invocations: counted.invocations * factor, billedMs: modelMs * factor };
    const wallMs = counted.billedMs * factor;
    const props = template.Resources[id]?.Properties ?? {};
    const lambda = used.invocations * PRICES.lambda.perRequest;
    const gbSeconds = (used.billedMs / 1000) * (memoryMb / 1024);
    const duration = gbSeconds * PRICES.lambda.armGbSecond;
    const tracing = (props.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active';
    const appLevel = LEVELS.indexOf(
      String((props.LoggingConfig as { ApplicationLogLevel?: string })?.ApplicationLogLevel ?? 'TRACE'),
    );
    const kept = Object.entries(used.linesByLevel)
      .filter(([level]) => level === '-' || LEVELS.indexOf(level) < 0 || LEVELS.indexOf(level) >= appLevel)
      .reduce((sum, [, lines]) => sum + lines.bytes * factor, 0);
    const logging = (props.LoggingConfig ?? {}) as { SystemLogLevel?: string };
    const platformLogged = !['WARN', 'ERROR', 'FATAL'].includes(logging.SystemLogLevel ?? 'INFO');
    const platform = platformLogged ? PLATFORM_LINES.join('\n').length + 2 + (tracing ? TRACING_BLOCK.length : 0) : 0;
    const logBytes = kept + used.invocations * platform;
    const logs = (logBytes / 1024 ** 3) * PRICES.cloudWatchLogs.perGb;
    const xray = tracing
      ? tracesPerEvent(used.invocations / run.events, template) * run.events * PRICES.xray.perTrace
      : 0;
    addTo(components, 'Lambda requests', lambda * perMillion);
    addTo(components, 'Lambda duration', duration * perMillion);
    addTo(components, 'CloudWatch Logs', logs * perMillion);
    addTo(components, 'X-Ray', xray * perMillion);
    addApi('lambda Invoke', used.invocations, lambda + duration);
    functions.set(short(id), {
      invocations: used.invocations * perMillion,
      billedMs: used.invocations ? used.billedMs / used.invocations : 0,
      wallMs: used.invocations ? wallMs / used.invocations : 0,
      logBytes: logBytes / run.events,
      dollars: (lambda + duration + logs + xray) * perMillion,
    });
  }

  const apiRequests = Math.max(run.apiRequests, Math.ceil(run.apiRequestBytes / PRICES.apiGateway.incrementBytes));
  addTo(components, 'API Gateway', apiRequests * PRICES.apiGateway.perRequest * perMillion);
  addApi('apigateway HTTP API request', apiRequests, apiRequests * PRICES.apiGateway.perRequest);
  const total = [...components.values()].reduce((sum, value) => sum + value, 0);
  return { total, components, apis, functions, excluded: [...excluded], flushScale };
}

/** Traces a function records per event, at ASSUMED_RATE events a second, sampled as configured. */
function tracesPerEvent(invocationsPerEvent: number, template: Template): number {
  const rule = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::XRay::SamplingRule');
  const config = (rule?.Properties?.SamplingRule ?? {}) as { FixedRate?: number; ReservoirSize?: number };
  const fixedRate = config.FixedRate ?? 0.05;
  const reservoir = config.ReservoirSize ?? 1;
  const perSecond = invocationsPerEvent * ASSUMED_RATE;
  const sampled = Math.min(perSecond, reservoir) + fixedRate * Math.max(0, perSecond - reservoir);
  return sampled / ASSUMED_RATE;
}

function requestDollars(request: RecordedRequest): number {
  switch (request.unit) {
    case 'chunk':
      return request.units * PRICES.sqs.perRequest;
    case 'RRU':
      return request.units * PRICES.dynamodb.perReadUnit;
    case 'WRU':
      return request.units * PRICES.dynamodb.perWriteUnit;
    case 'PUT-class':
      return PRICES.s3.perPut;
    case 'GET-class':
      return PRICES.s3.perGet;
    case 'free':
      return 0;
    default:
      return request.service === 'secretsmanager' ? PRICES.secretsManager.perCall : 0;
  }
}

function serviceName(service: string): string {
  return (
    ({ sqs: 'SQS', dynamodb: 'DynamoDB', s3: 'S3', secretsmanager: 'Secrets Manager' } as Record<string, string>)[
      service
    ] ?? `${service} (not priced)`
  );
}

const money = (value: number) => `$${value.toFixed(4)}`;

export function printRun(run: CostRun, priced: Priced): void {
  const kb = (run.eventBytes / run.events / 1024).toFixed(2);
  console.log(
    `\n  ${run.name}: ${run.events} events (~${kb} KB each) in ${run.apiRequests} requests, ${run.delivered} delivered, ${run.seconds.toFixed(0)} s on the twin`,
  );
  console.log(`  total ${money(priced.total)} per million events`);
  const sorted = <T>(map: Map<string, T>, by: (value: T) => number) => [...map].sort((a, b) => by(b[1]) - by(a[1]));
  console.log('  by component:');
  for (const [name, dollars] of sorted(priced.components, (value) => value))
    console.log(`    ${name.padEnd(24)} ${money(dollars).padStart(9)}`);
  console.log('  by AWS API (per million events: requests, $):');
  for (const [name, line] of sorted(priced.apis, (value) => value.dollars))
    console.log(`    ${name.padEnd(46)} ${line.count.toFixed(0).padStart(10)}  ${money(line.dollars).padStart(9)}`);
  console.log(
    '  by function (per million events: invocations; mean billed ms as modelled, and as the twin timed it; log bytes per event; $ all in):',
  );
  for (const [name, fn] of sorted(priced.functions, (value) => value.dollars))
    console.log(
      `    ${name.padEnd(14)} ${fn.invocations.toFixed(0).padStart(9)}  ${fn.billedMs.toFixed(1).padStart(7)} ms (twin ${fn.wallMs.toFixed(0).padStart(5)} ms)  ${fn.logBytes.toFixed(0).padStart(5)} B  ${money(fn.dollars).padStart(9)}`,
    );
  if (priced.flushScale < 1)
    console.log(
      `  log writer's per-flush costs × ${priced.flushScale.toFixed(3)}: as at ${ASSUMED_RATE} events/s with the default ${DEFAULT_FLUSH_WINDOW_SECONDS} s window`,
    );
  if (priced.excluded.length) console.log(`  not counted per event: ${priced.excluded.join(', ')} (fixed, per hour)`);
}
