import type { Readable } from 'node:stream';
import { compact, type CompactionCounts, readJsonLines } from '#shared/logs/compaction.ts';
import { contentDisposition, contentType, formatRecords } from '#shared/logs/formats.ts';
import type { LogFormat, LogPrefix } from '#shared/logs/log-record.ts';
import { listChunks, objectKeys, readObject, writeObject } from './log-objects.ts';

/**
 * A day's log file from its objects: the compacted file (if the day was compacted before) and then
 * the chunks flushed since, each record once. Streams from S3 to S3: one object open at a time.
 */

export interface DayFile {
  accountId: string;
  date: string;
  prefix: LogPrefix;
}

/** Writes the day's JSON Lines (each record once) to `key`; answers the chunks it read and the counts. */
export async function writeDayFile(
  file: DayFile,
  key: string,
): Promise<{ chunks: string[]; counts: CompactionCounts }> {
  const chunks = await listChunks(file.accountId, file.date, file.prefix);
  const compacted = objectKeys.compacted(file.accountId, file.date, file.prefix, 'json');
  async function* sources(): AsyncGenerator<Readable> {
    const earlier = await readObject(compacted);
    if (earlier) yield earlier;
    for (const chunk of chunks) {
      const body = await readObject(chunk);
      if (body) yield body;
    }
  }
  const { body, counts } = compact(file.prefix, sources());
  await writeObject(key, body, headers(file, 'json'));
  return { chunks, counts: await counts };
}

/** Writes the JSON Lines object `from` converted to `format` into `to`. */
export async function convertDayFile(file: DayFile, from: string, to: string, format: LogFormat): Promise<void> {
  const source = await readObject(from);
  if (!source) throw new Error(`${from} is gone`);
  await writeObject(to, formatRecords(format, file.prefix, readJsonLines(source)), headers(file, format));
}

function headers(file: DayFile, format: LogFormat) {
  return {
    contentType: contentType(format),
    contentDisposition: contentDisposition(file.prefix, file.date, format),
  };
}
