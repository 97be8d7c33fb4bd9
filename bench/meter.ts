/**
 * What the twin's functions used, for `npm run bench`'s cost meter: per function (by logical id),
 * its invocations, their durations as the twin measured them (cold starts included), the SQS
 * records and payload bytes it was handed, and the lines and bytes it wrote to stdout and stderr
 * (what Lambda sends to CloudWatch Logs). It observes the twin's Lambda runtime
 * (local/lambda/runtime.ts `observeRuntime`) while started; counting only.
 */
import { observeRuntime } from '../local/lambda/runtime.ts';

export interface FunctionUsage {
  invocations: number;
  /** Each invocation's duration rounded up to the millisecond, as Lambda bills it, summed. */
  billedMs: number;
  /** CPU time the invocations used in their environment (user + system), summed. */
  cpuMs: number;
  /** Invocations that reported their CPU time. */
  cpuCounted: number;
  /** SQS records, for invocations by an event source mapping. */
  records: number;
  /** Bytes of the events handed to the function. */
  eventBytes: number;
  logLines: number;
  logBytes: number;
  /** Log lines by level (`INFO`, `DEBUG`, …; `-` for lines that are not JSON with a level). */
  linesByLevel: Record<string, { lines: number; bytes: number }>;
}

const usage = new Map<string, FunctionUsage>();

const of = (fn: string): FunctionUsage => {
  let found = usage.get(fn);
  if (!found) {
    found = {
      invocations: 0,
      billedMs: 0,
      cpuMs: 0,
      cpuCounted: 0,
      records: 0,
      eventBytes: 0,
      logLines: 0,
      logBytes: 0,
      linesByLevel: {},
    };
    usage.set(fn, found);
  }
  return found;
};

function meterInvocation(fn: string, event: unknown, durationMs: number, cpuMs: number | undefined): void {
  const counted = of(fn);
  counted.invocations++;
  counted.billedMs += Math.max(1, Math.ceil(durationMs));
  if (cpuMs !== undefined) {
    counted.cpuMs += cpuMs;
    counted.cpuCounted++;
  }
  const records = (event as { Records?: unknown[] } | null)?.Records;
  if (Array.isArray(records)) counted.records += records.length;
  counted.eventBytes += Buffer.byteLength(JSON.stringify(event) ?? '');
}

function meterLogLine(fn: string, line: string): void {
  const counted = of(fn);
  const bytes = Buffer.byteLength(line) + 1;
  counted.logLines++;
  counted.logBytes += bytes;
  let level = '-';
  if (line.startsWith('{')) {
    try {
      level = String((JSON.parse(line) as { level?: unknown }).level ?? '-').toUpperCase();
    } catch {
      // not JSON after all
    }
  }
  const byLevel = (counted.linesByLevel[level] ??= { lines: 0, bytes: 0 });
  byLevel.lines++;
  byLevel.bytes += bytes;
}

/** A copy of what was counted since the last reset, by function logical id. */
export function meterReading(): Map<string, FunctionUsage> {
  return new Map([...usage].map(([fn, counted]) => [fn, structuredClone(counted)]));
}

export function resetMeter(): void {
  usage.clear();
}

/** Counts what the functions run in this process use, until the function it returns is called. */
export function startMeter(): () => void {
  return observeRuntime({ invoked: meterInvocation, logged: meterLogLine });
}
