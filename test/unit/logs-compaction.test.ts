import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LogLineError, compact, dedupe, readJsonLines, type JsonLinesSource } from '#shared/logs/compaction.ts';
import type { LogRecord } from '#shared/logs/log-record.ts';
import { bytesOf, clickRecord, loopError, webhookRecord } from '../support/log-records.ts';

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

const jsonLines = (records: readonly LogRecord[]) => records.map((record) => `${JSON.stringify(record)}\n`).join('');

/** The bytes of `text` cut at the given offsets (anywhere: inside a line, inside a UTF-8 character). */
function cut(text: string, offsets: number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const points = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** The records with each id once, the first kept. */
function firstOfEach(records: readonly LogRecord[]): LogRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    const id = (record as { id: string }).id;
    return !seen.has(id) && seen.add(id) !== undefined;
  });
}

describe('reading JSON Lines', () => {
  it('reads records across chunks cut anywhere, a UTF-8 character included', async () => {
    const records = [clickRecord({ id: 'a', referer: 'Zoë 👍🏽 שלום' }), clickRecord({ id: 'b' })];
    const text = jsonLines(records);
    const bytes = Buffer.from(text);
    const emoji = bytes.indexOf(Buffer.from('👍🏽'));
    const chunks = [bytes.subarray(0, emoji + 1), bytes.subarray(emoji + 1, emoji + 3), bytes.subarray(emoji + 3)];
    expect(await all(readJsonLines(chunks))).toEqual(records);
  });

  it('skips blank lines, takes CRLF, and reads a last line without its line end', async () => {
    const source = ['\n{"id":"a"}\r\n', '   \n\n{"id":', '"b"}\n\r\n\t\n{"id":"c"}'];
    expect(await all(readJsonLines(source))).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    expect(await all(readJsonLines([]))).toEqual([]);
    expect(await all(readJsonLines(['', '\n']))).toEqual([]);
  });

  it('refuses a line that is not a JSON object, naming the line', async () => {
    await expect(all(readJsonLines(['{"id":"a"}\n\n{"id":"b"\n']))).rejects.toThrow(
      expect.objectContaining({ name: 'LogLineError', line: 3 }),
    );
    await expect(all(readJsonLines(['{"id":"a"}\n[1,2]\n']))).rejects.toThrow(LogLineError);
    await expect(all(readJsonLines(['{"id":"a"}\n{"id":"b"}\n{"id":']))).rejects.toThrow('line 3');
  });

  it('gives back any records, whatever the chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(webhookRecord, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (records, offsets) => {
          expect(await all(readJsonLines(cut(jsonLines(records), offsets)))).toEqual(records);
        },
      ),
    );
  });
});

describe('dedupe', () => {
  it('keeps the first record of each event id, in order', async () => {
    const records = [
      clickRecord({ id: 'a', ip: 'first' }),
      clickRecord({ id: 'b' }),
      clickRecord({ id: 'a', ip: 'second' }),
      clickRecord({ id: 'c' }),
      clickRecord({ id: 'b' }),
    ];
    expect((await all(dedupe('clicks', records))).map((record) => [record.id, record.ip])).toEqual([
      ['a', 'first'],
      ['b', '203.0.113.7'],
      ['c', '203.0.113.7'],
    ]);
  });

  it('tells loop errors apart by event, loop, attempt and time', async () => {
    const records = [
      loopError({ status: 500 }),
      loopError({ status: 502 }), // the same attempt, written twice
      loopError({ attempt: 2, error: 'timeout' }),
      loopError({ loopId: 'loop_other', status: 500 }),
      loopError({ eventId: 'evt_other', status: 500 }),
      loopError({ time: 1_795_255_999, status: 500 }),
    ];
    const kept = await all(dedupe('loop-errors', records));
    expect(kept).toEqual([records[0], ...records.slice(2)]);
  });
});

describe('compaction of a day', () => {
  it('writes each record once, the earlier compacted file first, with counts of what it wrote', async () => {
    const earlier = [clickRecord({ id: 'a' }), clickRecord({ id: 'b' })];
    const chunk1 = [clickRecord({ id: 'b', ip: 'again' }), clickRecord({ id: 'c', referer: 'Zoë' })];
    const chunk2 = [clickRecord({ id: 'd' }), clickRecord({ id: 'a', ip: 'again' }), clickRecord({ id: 'c' })];
    const { body, counts } = compact('clicks', [
      [jsonLines(earlier)],
      cut(jsonLines(chunk1), [5, 400]),
      [Buffer.from(jsonLines(chunk2))],
    ]);
    const file = await bytesOf(body);
    const expected = [earlier[0], earlier[1], chunk1[1], chunk2[0]];
    expect(file.toString('utf8')).toBe(jsonLines(expected as LogRecord[]));
    expect(await counts).toEqual({ sources: 3, read: 7, records: 4, duplicates: 3, bytes: file.length });
  });

  it('opens the sources one at a time, each once the one before it has been read', async () => {
    const finished: boolean[] = [];
    const previousFinishedWhenOpened: boolean[] = [];
    async function* source(index: number): AsyncGenerator<string> {
      try {
        for (let n = 0; n < 100; n++) yield `${JSON.stringify(clickRecord({ id: `${index}-${n}` }))}\n`;
      } finally {
        finished[index] = true;
      }
    }
    async function* sources(): AsyncGenerator<JsonLinesSource> {
      for (let index = 0; index < 3; index++) {
        previousFinishedWhenOpened.push(index === 0 || finished[index - 1] === true);
        yield source(index);
      }
    }
    const { body, counts } = compact('clicks', sources());
    expect(previousFinishedWhenOpened).toEqual([]); // nothing is read before the file is
    await bytesOf(body);
    expect(previousFinishedWhenOpened).toEqual([true, true, true]);
    expect((await counts).records).toBe(300);
  });

  it('fails, and says so in its counts, when a source cannot be read', async () => {
    async function* sources(): AsyncGenerator<JsonLinesSource> {
      yield [jsonLines([clickRecord({ id: 'a' })])];
      yield ['{"id":"b"}\nnot json\n'];
    }
    const { body, counts } = compact('clicks', sources());
    await expect(bytesOf(body)).rejects.toThrow('line 2');
    await expect(counts).rejects.toThrow(LogLineError);
  });

  it('says the file is incomplete when it was not read to its end', async () => {
    const many = Array.from({ length: 2_000 }, (_, index) => clickRecord({ id: `evt-${index}` }));
    const { body, counts } = compact('clicks', [[jsonLines(many)]]);
    for await (const _chunk of body) break;
    await expect(counts).rejects.toThrow('not read to its end');
  });

  it('an empty day is an empty file', async () => {
    const { body, counts } = compact('opens', []);
    expect((await bytesOf(body)).length).toBe(0);
    expect(await counts).toEqual({ sources: 0, read: 0, records: 0, duplicates: 0, bytes: 0 });
  });

  it('keeps each id once across any sources cut anywhere, the first of each in order', async () => {
    const idRecord = fc
      .tuple(fc.constantFrom('a', 'b', 'c', 'd', 'é', '👍'), webhookRecord)
      .map(([id, record]) => ({ ...record, id }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.array(idRecord, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 5 })), {
          maxLength: 4,
        }),
        async (sources) => {
          const { body, counts } = compact(
            'clicks',
            sources.map(([records, offsets]) => cut(jsonLines(records), offsets)),
          );
          const file = await bytesOf(body);
          const read = sources.flatMap(([records]) => records);
          const expected = firstOfEach(read);
          expect(await all(readJsonLines([file]))).toEqual(expected);
          expect(await counts).toEqual({
            sources: sources.length,
            read: read.length,
            records: expected.length,
            duplicates: read.length - expected.length,
            bytes: file.length,
          });
        },
      ),
    );
  });
});
