import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { byteStream, jsonLines } from '#shared/logs/formats.ts';
import { recordKey, type LogPrefix, type LogRecord } from '#shared/logs/log-record.ts';

/**
 * Closing a day (docs/api.md §8: "a closed day's file holds each event id once"): the chunks the day's
 * records were written in, read one after another as a stream, each record kept once, written as
 * one JSON Lines file. Nothing here holds more than one chunk of input and one of output, plus the
 * keys of the records seen so far (≈ 70 bytes each: some 70 MB for a day of a million records).
 */

/** Bytes or text of JSON Lines, in chunks cut anywhere (an S3 object's body, a file, a string). */
export type JsonLinesSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;

/** A line that is not a JSON object. */
export class LogLineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'LogLineError';
  }
}

/**
 * The records of JSON Lines, in order: lines may be cut anywhere between chunks, a UTF-8 character
 * too; lines end in LF or CRLF; blank lines are skipped, and so is a last line without its LF. A line
 * that is not a JSON object throws a `LogLineError` naming it (counting from 1, blank lines too):
 * a file that was not written whole is a fault to look into, not something to drop quietly.
 */
export async function* readJsonLines(source: JsonLinesSource): AsyncGenerator<LogRecord> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of source) {
    const text = pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      line++;
      const record = parseLine(text.slice(start, end), line);
      if (record) yield record;
      start = end + 1;
    }
    pending = text.slice(start);
  }
  pending += decoder.end();
  if (pending) {
    const record = parseLine(pending, line + 1);
    if (record) yield record;
  }
}

function parseLine(text: string, line: number): LogRecord | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new LogLineError(line, `not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LogLineError(line, 'not a JSON object');
  }
  return value as LogRecord;
}

/**
 * The records in order, each kept the first time its `recordKey` comes and skipped after. Holds the
 * keys seen (a `Set` of strings), never the records.
 */
export async function* dedupe<T extends LogRecord>(
  prefix: LogPrefix,
  records: AsyncIterable<T> | Iterable<T>,
  counts?: Pick<CompactionCounts, 'read' | 'records' | 'duplicates'>,
): AsyncGenerator<T> {
  const seen = new Set<string>();
  for await (const record of records) {
    if (counts) counts.read++;
    const key = recordKey(prefix, record);
    if (seen.has(key)) {
      if (counts) counts.duplicates++;
      continue;
    }
    seen.add(key);
    if (counts) counts.records++;
    yield record;
  }
}

/**
 * The records of several JSON Lines sources, one source after the other. Give them as a lazy
 * (async) iterable — an async generator that opens the next S3 object when asked — so only one is
 * open at a time.
 */
export async function* readSources(
  sources: AsyncIterable<JsonLinesSource> | Iterable<JsonLinesSource>,
  counts?: Pick<CompactionCounts, 'sources'>,
): AsyncGenerator<LogRecord> {
  for await (const source of sources) {
    if (counts) counts.sources++;
    yield* readJsonLines(source);
  }
}

export interface CompactionCounts {
  /** The sources read. */
  sources: number;
  /** The records read from them, duplicates included. */
  read: number;
  /** The records written: each key once. */
  records: number;
  /** The records skipped as already written. */
  duplicates: number;
  /** The bytes of the JSON Lines written (UTF-8, each line with its LF). */
  bytes: number;
}

export interface Compaction {
  /** The day's file: JSON Lines, each record once, in the order each first came. */
  body: Readable;
  /**
   * The counts of the file, settled once `body` has been read to its end; rejected when reading a
   * source failed or `body` was destroyed before its end (the file is then incomplete: keep the
   * chunks). Nothing needs to wait on it: an unawaited rejection here is never reported unhandled.
   */
  counts: Promise<CompactionCounts>;
}

/**
 * One day's file of `prefix` from its `sources` (the day's chunks, in the order written; an earlier
 * compacted file of that day may come first, its records then keep their place): the records of
 * every source, each `recordKey` once (the first), as JSON Lines, with counts.
 */
export function compact(
  prefix: LogPrefix,
  sources: AsyncIterable<JsonLinesSource> | Iterable<JsonLinesSource>,
): Compaction {
  const counts: CompactionCounts = { sources: 0, read: 0, records: 0, duplicates: 0, bytes: 0 };
  let settle!: { resolve: (counts: CompactionCounts) => void; reject: (error: unknown) => void };
  const settled = new Promise<CompactionCounts>((resolve, reject) => (settle = { resolve, reject }));
  settled.catch(() => undefined);
  async function* written(): AsyncGenerator<Buffer> {
    try {
      for await (const text of jsonLines(dedupe(prefix, readSources(sources, counts), counts))) {
        const chunk = Buffer.from(text, 'utf8');
        counts.bytes += chunk.length;
        yield chunk;
      }
      settle.resolve(counts);
    } catch (error) {
      settle.reject(error);
      throw error;
    }
  }
  const body = byteStream(written());
  // Also when the body is destroyed before (or without) reading: a settled promise ignores this.
  body.on('close', () => settle.reject(new Error('the compacted file was not read to its end')));
  return { body, counts: settled };
}
