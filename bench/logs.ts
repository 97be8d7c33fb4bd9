/**
 * Log files (docs/api.md §8): a day's JSON Lines converted to CSV and to XML, and compacted, through the
 * real converters, streaming; throughput (MiB of JSON Lines in per second, parsing included) and
 * memory. The day is made as it is read (1 KiB records with fields and tags), never held whole, so
 * the memory figures are the converters'.
 *
 * Target: a file never sits in memory whole. In each run the live heap (measured after a full
 * collection) grows by less than 1/8 of the file — compaction keeps one key per record, ≈ 80 bytes —
 * and the resident set by less than half of it (garbage not yet collected included).
 * `BENCH_LOG_MB` sets the size (default 200; a day of a million records is 1 GB). Under about
 * 100 MiB the heap's own slack (some 10–30 MiB of RSS) outweighs the fractions and the target says
 * nothing.
 */
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Readable } from 'node:stream';
import { compact, readJsonLines } from '#shared/logs/compaction.ts';
import { toCsv, toXml } from '#shared/logs/formats.ts';
import type { WebhookRecord } from '#shared/delivery/webhook-body.ts';

const MiB = 1024 * 1024;

// A full garbage collection now and then shows what a run really holds (its live heap), apart from
// the garbage V8 leaves for later, which RSS counts too.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const RECORD_BYTES = 1024;

/** A realistic click of about 1 KB: a profile's fields (unicode, numbers, booleans), tags, a long link. */
function record(index: number): WebhookRecord {
  const seconds = 1_795_219_200 + Math.floor(index / 12);
  return {
    id: `01JD${index.toString(36).toUpperCase().padStart(22, '0')}`,
    type: 'click',
    timestamp: new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' '),
    time: seconds,
    message: `msg_01JDMESSAGE${(index % 500).toString().padStart(14, '0')}`,
    recipient: `user.${index}@example.com`,
    profile: `prof_${index % 100_000}`,
    fields: {
      firstname: ['Zoë', 'Jane', 'José', 'Åsa', 'Noé'][index % 5]!,
      lastname: 'Doe-Smith',
      company: 'Example & Sons, "Ltd" <intl>',
      city: ['Zürich', 'Tel Aviv תל אביב', 'Paris', 'Kraków'][index % 4]!,
      plan: 'pro',
      age: 20 + (index % 50),
      score: (index % 1000) / 10,
      vip: index % 7 === 0,
      '1st-purchase': '2026-01-15',
      note: 'likes 👍🏽; prefers e-mail\nafter 18:00',
    },
    tags: ['news', 'nov-2026', 'promo;spring', 'segment-a'],
    ip: `203.0.113.${index % 256}`,
    useragent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    referer: 'https://mail.example.com/inbox?folder=promo&view=1',
    original: `https://shop.example.com/offer/${index % 997}?utm_source=newsletter&utm_medium=email&utm_campaign=nov-2026-sale&utm_content=hero-banner&ref=`,
  };
}

/**
 * A day of JSON Lines, made as it is read: chunks of about 64 KiB, `bytes` in all. Lines are cut
 * from 1,000 serialised records around their id, so making them costs next to nothing beside the
 * work measured; one record in 100 comes again (a retried write), for compaction to drop.
 */
async function* day(bytes: number): AsyncGenerator<string> {
  const templates = Array.from({ length: 1000 }, (_, index) => {
    const line = JSON.stringify({ ...record(index), description: '' });
    const padding = 'x'.repeat(RECORD_BYTES - 1 - Buffer.byteLength(line));
    const [before, after] = JSON.stringify({ ...record(index), id: '\u0000', description: padding }).split('\\u0000');
    return { before: before!, after: after! };
  });
  let written = 0;
  let index = 0;
  while (written < bytes) {
    let chunk = '';
    for (let n = 0; n < 64; n++, index++) {
      const id = index % 100 === 99 ? index - 50 : index;
      const { before, after } = templates[index % templates.length]!;
      chunk += `${before}01JD${id.toString(36).toUpperCase().padStart(22, '0')}${after}\n`;
    }
    written += Buffer.byteLength(chunk);
    yield chunk;
  }
}

interface Run {
  name: string;
  inputBytes: number;
  outputBytes: number;
  seconds: number;
  /** The highest resident set size seen, over that before the run. */
  rssGrowth: number;
  /** The highest heap seen right after a full collection (what the run held), over that before. */
  liveHeapGrowth: number;
}

/**
 * Reads `output` to its end, sampling memory as it goes: on a timer and every few chunks (a busy
 * stream can starve timers), with a full collection every 16 MiB of output for the live heap.
 */
async function measure(name: string, inputBytes: number, output: () => Readable): Promise<Run> {
  gc();
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakLiveHeap = start.heapUsed;
  const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage.rss()));
  const timer = setInterval(sample, 20);
  const started = performance.now();
  let collecting = 0;
  let paused = 0;
  let outputBytes = 0;
  let chunks = 0;
  for await (const chunk of output()) {
    outputBytes += (chunk as Buffer).length;
    if (++chunks % 8 === 0) sample();
    if (outputBytes - collecting >= 16 * MiB) {
      sample();
      const before = performance.now();
      gc();
      peakLiveHeap = Math.max(peakLiveHeap, process.memoryUsage().heapUsed);
      collecting = outputBytes;
      paused += performance.now() - before;
    }
  }
  const seconds = (performance.now() - started - paused) / 1000;
  clearInterval(timer);
  sample();
  return {
    name,
    inputBytes,
    outputBytes,
    seconds,
    rssGrowth: peakRss - start.rss,
    liveHeapGrowth: peakLiveHeap - start.heapUsed,
  };
}

/** Whether every run stayed within its memory bounds, and each run's MiB/s of input. */
export async function runLogsBench(): Promise<{ pass: boolean; mibPerSecond: Map<string, number> }> {
  const size = Number(process.env.BENCH_LOG_MB ?? 200) * MiB;
  const liveLimit = size / 8;
  const rssLimit = size / 2;
  console.log(
    `\nlog files: a day of ${(size / MiB).toFixed(0)} MiB of JSON Lines (${Math.round(size / RECORD_BYTES)} records of 1 KiB), streamed`,
  );
  const runs = [
    await measure('generate and parse the JSON Lines (baseline)', size, () =>
      Readable.from(
        (async function* () {
          for await (const record of readJsonLines(day(size))) yield Buffer.from(String(record.time));
        })(),
      ),
    ),
    await measure('json → csv', size, () => toCsv('clicks', readJsonLines(day(size)))),
    await measure('json → xml', size, () => toXml('clicks', readJsonLines(day(size)))),
    await measure('compact (parse, dedupe, write json)', size, () => compact('clicks', [day(size)]).body),
  ];
  let pass = true;
  for (const run of runs) {
    const ok = run.liveHeapGrowth < liveLimit && run.rssGrowth < rssLimit;
    pass &&= ok;
    console.log(
      `${run.name.padEnd(48)} ${(run.inputBytes / MiB / run.seconds).toFixed(1).padStart(6)} MiB/s in` +
        `  ${(run.outputBytes / MiB).toFixed(0).padStart(4)} MiB out  ${run.seconds.toFixed(1).padStart(5)} s` +
        `   live heap +${(run.liveHeapGrowth / MiB).toFixed(0).padStart(3)} MiB, peak RSS +${(run.rssGrowth / MiB).toFixed(0).padStart(3)} MiB` +
        `   ${ok ? 'pass' : 'FAIL'}`,
    );
  }
  console.log(
    `target: the file never in memory whole — live heap growth < ${(liveLimit / MiB).toFixed(0)} MiB (1/8 of the file)` +
      ` and peak RSS growth < ${(rssLimit / MiB).toFixed(0)} MiB (1/2) in each run: ${pass ? 'pass' : 'FAIL'}`,
  );
  return { pass, mibPerSecond: new Map(runs.map((run) => [run.name, run.inputBytes / MiB / run.seconds])) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = (await runLogsBench()).pass ? 0 : 1;
}
