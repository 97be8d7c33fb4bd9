/**
 * The log path at steady load (docs/api.md §8), what logging an event costs: the real fanout handler runs
 * on a sample of each scenario's event stream (mocked SQS and table, as in requests-per-event.ts)
 * and its SendMessageBatch calls to the log queue are kept; the real log-writer handler then runs on
 * those messages the way its event source mapping hands them over at a steady arrival rate, with S3
 * (the `s3` client of #shared/runtime/s3.ts) and DynamoDB mocked and counted.
 *
 * The model, stated so the numbers can be checked:
 *  - events arrive evenly at `rate` per second, each of one of `accounts` accounts picked at random,
 *    in the realistic mix (per mail message one sent, one delivery, 0.3 open, 0.05 click);
 *  - fanout's batches hold what its batching window brings, at most its batch size (the template's);
 *  - a message of the log queue is there once the fanout batch that sent it is complete; the sample
 *    repeats to fill the window;
 *  - the log writer's event source gathers for its batching window (the template's) and invokes
 *    when the window ends or its batch size (10,000 messages) is in; the next window starts
 *    then. One gatherer is the ideal; Lambda starts an SQS mapping with five pollers, and the second
 *    row of each scenario has each of five gather its own batch (messages dealt ten to a receive):
 *    a model, not measured on AWS;
 *  - one batching window is played from an empty queue: its invocations are those of every window
 *    at steady load. A batch that the message limit cut short is played; the batch a poller
 *    began after its cut is not (its window ends after the one played); once six batches were cut
 *    short, the rest of the window (batches just like them) is not played;
 *  - the poller's requests are estimated: one ReceiveMessage and one DeleteMessageBatch per ten
 *    messages of an invocation (the empty long polls of an idle queue are a fixed cost, not per event).
 *
 * The hourly compaction is estimated from the chunks each (account, day, type) gets in a day at
 * that rate: per closed file, the chunks listed (1000 keys a page), one GET per chunk plus the probe
 * for an earlier compacted file (a 404 on the first compaction) and the two reads of the JSON Lines
 * for CSV and XML, one PUT per format (a multipart upload of 5 MiB parts above 5 MiB: parts + 2),
 * one DeleteObjects per 1000 chunks, one index UpdateItem. CSV and XML sizes are the JSON Lines' size
 * times the ratio the real converters give on the scenario's records.
 *
 * Loop errors are measured apart: the real deliver handler on deliveries its receiver answers 503,
 * counting what it sends to the log queue per failed attempt.
 */
import { PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { parseEventBatch } from '#shared/events/mail-event.ts';
import type { QueuedEvent } from '#shared/events/messages.ts';
import type { QueuedLogRecords } from '#shared/logs/log-record.ts';
import { toCsv, toXml } from '#shared/logs/formats.ts';
import { LOG_PREFIXES, type LogPrefix, type LogRecord } from '#shared/logs/log-record.ts';
import { itemKeys } from '#shared/store/table.ts';
import {
  lambdaContext,
  loopRecord,
  mailEvent,
  queuedDelivery,
  sqsEvent,
  sqsRecord,
} from '../test/support/factories.ts';
import type { FakeTable } from '../test/support/fake-table.ts';
import type { Loopback } from '../test/support/loopback.ts';
import { MIX, random } from './mix.ts';
import { benchStack } from './stack.ts';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface LogPathDeps {
  fanout: SqsHandler;
  deliver: SqsHandler;
  table: FakeTable;
  dynamo: ReturnType<typeof mockClient>;
  sqs: ReturnType<typeof mockClient>;
  receiver: Loopback;
  logQueueUrl: string;
}

const RATES = [10, 100, 1000];
const ACCOUNTS = [1, 10];
/** Events fanout runs per (fanout batch size, accounts): enough for every file to show in each flush. */
const SAMPLE_EVENTS = 1000;
/**
 * Invocations played at most per scenario: once batches are cut at the message limit, every invocation
 * is like the next, and playing the window's dozens would only take time.
 */
const MAX_INVOCATIONS = 6;
// The event sources as the template has them (Lambda also stops a batch at 6 MB: not reached here).
const STACK = await benchStack();
const { batchSize: FANOUT_MAX_BATCH, windowSeconds: FANOUT_WINDOW_SECONDS } = STACK.eventSource(
  'fanout',
  'EventsQueue',
);
const { batchSize: LOG_WRITER_MAX_BATCH, windowSeconds: LOG_WRITER_WINDOW_SECONDS } = STACK.eventSource(
  'log-writer',
  'LogQueue',
);
const POLLERS = [1, 5];
const MESSAGES_PER_RECEIVE = 10;
const TARGET_PUTS_PER_EVENT = 0.01;
const DAY_SECONDS = 86_400;
const MiB = 1024 * 1024;
const PART_BYTES = 5 * MiB;
const MAX_PARTS = 10_000;

const accountId = (index: number) => `acc_01JDBENCH${String(index).padStart(17, '0')}`;

/**
 * Events as they reach fanout at steady load: each mail message's `sent`, its `delivery` a moment
 * later, its opens and clicks a little later still (after their `sent` has left fanout), all
 * interleaved; each message of one account picked at random.
 */
function steadyStream(count: number, accounts: number, seed: number): QueuedEvent[] {
  const next = random(seed);
  const slots: { at: number; account: number; raw: Record<string, unknown> }[] = [];
  const perMessage = 2 + MIX.open + MIX.click;
  for (let i = 0; i < Math.ceil((count / perMessage) * 1.2); i++) {
    const account = Math.floor(next() * accounts);
    const message = `msg-${account}-${i}`;
    slots.push({
      at: i,
      account,
      raw: {
        type: 'sent',
        message,
        recipient: `user${i}@example.com`,
        profile: `profile-${i}`,
        fields: { firstname: 'Jane', lastname: 'Doe', city: 'Amsterdam', plan: 'pro', age: 20 + (i % 50) },
        tags: ['newsletter', 'november'],
      },
    });
    slots.push({ at: i + next() * 3, account, raw: { type: 'delivery', message } });
    if (next() < MIX.open) {
      slots.push({
        at: i + 20 + next() * 100,
        account,
        raw: {
          type: 'open',
          message,
          ip: '198.51.100.7',
          useragent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15',
        },
      });
    }
    if (next() < MIX.click) {
      slots.push({
        at: i + 20 + next() * 100,
        account,
        raw: {
          type: 'click',
          message,
          ip: '198.51.100.7',
          original: `https://example.com/offer/${i}?utm_source=mail`,
        },
      });
    }
  }
  const ordered = slots.sort((a, b) => a.at - b.at).slice(0, count);
  const receivedAt = new Date('2026-11-21T10:00:00.000Z');
  const queued: QueuedEvent[] = [];
  for (let start = 0; start < ordered.length; start += 100) {
    const chunk = ordered.slice(start, start + 100);
    const events = parseEventBatch({ events: chunk.map((slot) => slot.raw) }, receivedAt);
    events.forEach((event, index) =>
      queued.push({ accountId: accountId(chunk[index]!.account), receivedAt: receivedAt.toISOString(), event }),
    );
  }
  return queued;
}

/** What fanout sent to the log queue for one sample, each message with the fanout batch that sent it. */
interface Sample {
  accounts: number;
  fanoutBatch: number;
  events: number;
  byType: Map<string, number>;
  sends: number;
  messages: { body: string; batch: number }[];
}

const add = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

/** Answers every SendMessageBatch as SQS would; hands over the bodies of each one to the log queue. */
function captureLogSends(deps: LogPathDeps, onLogSend: (bodies: string[]) => void): void {
  deps.sqs
    .on(SendMessageBatchCommand)
    .callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
      if (input.QueueUrl === deps.logQueueUrl) onLogSend(input.Entries.map((entry) => entry.MessageBody));
      return { Successful: input.Entries.map((entry) => ({ Id: entry.Id })), Failed: [] };
    });
}

async function fanoutSample(deps: LogPathDeps, fanoutBatch: number, accounts: number): Promise<Sample> {
  deps.table.clear();
  deps.table.install(deps.dynamo);
  const sample: Sample = { accounts, fanoutBatch, events: 0, byType: new Map(), sends: 0, messages: [] };
  let batch = 0;
  captureLogSends(deps, (bodies) => {
    sample.sends++;
    for (const body of bodies) sample.messages.push({ body, batch });
  });
  const stream = steadyStream(SAMPLE_EVENTS, accounts, 7 + accounts);
  for (const queued of stream) add(sample.byType, queued.event.type);
  for (let start = 0; start < stream.length; start += fanoutBatch, batch++) {
    const records = stream.slice(start, start + fanoutBatch).map((queued) => sqsRecord(queued));
    const { batchItemFailures } = await deps.fanout(sqsEvent(records), lambdaContext('fanout'));
    if (batchItemFailures.length) throw new Error(`fanout failed ${batchItemFailures.length} records`);
  }
  sample.events = stream.length;
  return sample;
}

/** The S3 and DynamoDB requests the log writer made, counted by the mocks. */
interface Counters {
  puts: number;
  putBytes: number;
  updates: number;
  /** Per file (`<account> <prefix>`): its chunks and their bytes. */
  files: Map<string, { puts: number; bytes: number }>;
}

interface Flushes {
  pollers: number;
  invocations: number;
  messages: number;
  records: number;
  receives: number;
  deletes: number;
  puts: number;
  putBytes: number;
  updates: number;
  files: Map<string, { puts: number; bytes: number }>;
}

/**
 * One batching window of the log writer at steady load: the sample's messages arrive as their
 * fanout batches complete (the sample repeating), dealt ten to a receive among the pollers, each
 * poller invoking the real log writer when its window ends or its batch is full.
 */
async function flushWindow(
  logWriter: SqsHandler,
  counters: Counters,
  sample: Sample,
  rate: number,
  pollers: number,
  window: number,
): Promise<Flushes> {
  const before = { puts: counters.puts, putBytes: counters.putBytes, updates: counters.updates };
  counters.files.clear();
  const result: Flushes = {
    pollers,
    invocations: 0,
    messages: 0,
    records: 0,
    receives: 0,
    deletes: 0,
    puts: 0,
    putBytes: 0,
    updates: 0,
    files: counters.files,
  };
  const batches: string[][] = Array.from({ length: pollers }, () => []);
  const cut = Array.from({ length: pollers }, () => false);
  const invoke = async (poller: number) => {
    const bodies = batches[poller]!.splice(0);
    const { batchItemFailures } = await logWriter(
      sqsEvent(bodies.map((body) => sqsRecord(body))),
      lambdaContext('log-writer'),
    );
    if (batchItemFailures.length) throw new Error(`log writer failed ${batchItemFailures.length} records`);
    result.invocations++;
    result.messages += bodies.length;
    result.receives += Math.ceil(bodies.length / MESSAGES_PER_RECEIVE);
    result.deletes += Math.ceil(bodies.length / MESSAGES_PER_RECEIVE);
    for (const body of bodies) result.records += (JSON.parse(body) as QueuedLogRecords).records.length;
  };
  const period = sample.events / rate;
  let dealt = 0;
  play: for (let cycle = 0; ; cycle++) {
    for (const message of sample.messages) {
      const arrives = cycle * period + Math.min(sample.events, (message.batch + 1) * sample.fanoutBatch) / rate;
      if (arrives > window) break play;
      const poller = Math.floor(dealt++ / MESSAGES_PER_RECEIVE) % pollers;
      batches[poller]!.push(message.body);
      if (batches[poller]!.length === LOG_WRITER_MAX_BATCH) {
        await invoke(poller);
        cut[poller] = true;
        if (result.invocations === MAX_INVOCATIONS) break play;
      }
    }
  }
  // The window ends: a poller whose window started with it invokes; one that the batch limit cut
  // started its window later, and its batch goes on gathering past the window played.
  for (let poller = 0; poller < pollers && result.invocations < MAX_INVOCATIONS; poller++) {
    if (!cut[poller] && batches[poller]!.length) await invoke(poller);
  }
  result.puts = counters.puts - before.puts;
  result.putBytes = counters.putBytes - before.putBytes;
  result.updates = counters.updates - before.updates;
  return result;
}

/** How much bigger a file's CSV and XML are than its JSON Lines, by the real converters on these records. */
async function formatRatios(records: LogRecord[], prefix: LogPrefix): Promise<{ csv: number; xml: number }> {
  const json = records.reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(record)) + 1, 0);
  const size = async (stream: AsyncIterable<unknown>) => {
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    return bytes;
  };
  return { csv: (await size(toCsv(prefix, records))) / json, xml: (await size(toXml(prefix, records))) / json };
}

/** S3 requests of one PUT of `bytes` through lib-storage's Upload: one PutObject, or parts + 2. */
function putRequests(bytes: number): number {
  return bytes <= PART_BYTES ? 1 : Math.ceil(bytes / PART_BYTES) + 2;
}

interface Compaction {
  files: number;
  largestFileBytes: number;
  tooManyParts: boolean;
  /** Requests of one closed file (the average file of the scenario). */
  perFileDay: { chunks: number; list: number; get: number; put: number; delete: number; update: number };
  perEvent: { s3: number; update: number };
}

/** The hourly compaction of a day at this rate, from the chunks each file got in the window played. */
function compaction(flushes: Flushes, rate: number, ratios: Map<LogPrefix, { csv: number; xml: number }>): Compaction {
  const eventsPerDay = rate * DAY_SECONDS;
  const perDay = eventsPerDay / flushes.records;
  const totals = { chunks: 0, list: 0, get: 0, put: 0, delete: 0, update: 0 };
  let largest = 0;
  let tooManyParts = false;
  for (const [file, { puts, bytes }] of flushes.files) {
    const prefix = file.split(' ')[1] as LogPrefix;
    const chunks = puts * perDay;
    const jsonBytes = bytes * perDay;
    const ratio = ratios.get(prefix) ?? { csv: 1, xml: 1 };
    const sizes = [jsonBytes, jsonBytes * ratio.csv, jsonBytes * ratio.xml];
    largest = Math.max(largest, ...sizes);
    tooManyParts ||= sizes.some((size) => Math.ceil(size / PART_BYTES) > MAX_PARTS);
    totals.chunks += chunks;
    totals.list += Math.max(1, Math.ceil(chunks / 1000));
    totals.get += 1 + chunks + 2;
    totals.put += sizes.reduce((sum, size) => sum + putRequests(size), 0);
    totals.delete += Math.ceil(chunks / 1000);
    totals.update += 1;
  }
  const files = flushes.files.size;
  const perFile = (n: number) => n / files;
  return {
    files,
    largestFileBytes: largest,
    tooManyParts,
    perFileDay: {
      chunks: perFile(totals.chunks),
      list: perFile(totals.list),
      get: perFile(totals.get),
      put: perFile(totals.put),
      delete: perFile(totals.delete),
      update: perFile(totals.update),
    },
    perEvent: {
      s3: (totals.list + totals.get + totals.put + totals.delete) / eventsPerDay,
      update: totals.update / eventsPerDay,
    },
  };
}

/** Failed delivery attempts (the receiver answering 503) through the real deliver: what their loop-errors cost. */
async function loopErrors(
  deps: LogPathDeps,
  logWriter: SqsHandler,
  counters: Counters,
): Promise<{ attempts: number; sends: number; messages: number; records: number; puts: number }> {
  deps.table.clear();
  deps.table.install(deps.dynamo);
  const loop = loopRecord({ url: `${deps.receiver.origin}/hooks/feedback.php`, format: 'form' });
  deps.table.put({ ...itemKeys.loop(loop.accountId, loop.id), ...loop });
  deps.receiver.answer({ status: 503 });
  const bodies: string[] = [];
  let sends = 0;
  captureLogSends(deps, (sent) => {
    sends++;
    bodies.push(...sent);
  });
  deps.sqs.on(ChangeMessageVisibilityCommand).resolves({});
  const attempts = 100;
  for (let start = 0; start < attempts; start += 10) {
    const records = Array.from({ length: 10 }, () => sqsRecord(queuedDelivery(loop, mailEvent({ type: 'open' }))));
    await deps.deliver(sqsEvent(records), lambdaContext('deliver'));
  }
  deps.receiver.answer({ status: 200 });
  const putsBefore = counters.puts;
  await logWriter(sqsEvent(bodies.map((body) => sqsRecord(body))), lambdaContext('log-writer'));
  const records = bodies.reduce((sum, body) => sum + (JSON.parse(body) as QueuedLogRecords).records.length, 0);
  return { attempts, sends, messages: bodies.length, records, puts: counters.puts - putsBefore };
}

const fmt = (n: number, digits = 4) => n.toFixed(digits);
const pad = (text: string | number, width: number) => String(text).padStart(width);

export async function logPath(deps: LogPathDeps): Promise<void> {
  const window = LOG_WRITER_WINDOW_SECONDS;

  const { s3 } = await import('#shared/runtime/s3.ts');
  const s3Mock = mockClient(s3);
  const counters: Counters = { puts: 0, putBytes: 0, updates: 0, files: new Map() };
  s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
    const bytes = Buffer.byteLength(input.Body as string);
    counters.puts++;
    counters.putBytes += bytes;
    // logs/<account>/<date>/<prefix>/chunks/<name>
    const [, account, , prefix] = input.Key!.split('/');
    const file = counters.files.get(`${account} ${prefix}`) ?? { puts: 0, bytes: 0 };
    counters.files.set(`${account} ${prefix}`, { puts: file.puts + 1, bytes: file.bytes + bytes });
    return {};
  });
  // The log index updates are counted, not stored (the fake table fanout runs on installs its own).
  const countUpdates = () =>
    deps.dynamo.on(UpdateCommand).callsFake(() => {
      counters.updates++;
      return {};
    });
  Object.assign(process.env, STACK.environments['log-writer']);
  const logWriter = ((await import('../functions/log-writer/handler.ts')) as unknown as { handler: SqsHandler })
    .handler;

  try {
    console.log(
      `\nlog path at steady load (fanout on ${SAMPLE_EVENTS} events per scenario, its batches what ${FANOUT_WINDOW_SECONDS} s brings, ≤ ${FANOUT_MAX_BATCH};` +
        ` log writer: batching window ${window} s, ≤ ${LOG_WRITER_MAX_BATCH} messages an invocation (the template's);` +
        ` receivers answering 2xx, so no loop-errors)`,
    );
    console.log(
      `  ${'ev/s'.padStart(5)}${pad('accts', 6)}${pad('pollers', 8)}` +
        `${pad('log sends', 10)}${pad('messages', 9)}${pad('receives*', 10)}${pad('deletes*', 9)}` +
        `${pad('invoc.', 8)}${pad('S3 PUTs', 9)}${pad('idx upd.', 9)}${pad('B/PUT', 8)}${pad('PUTs/window', 12)}   per event (* estimated)`,
    );
    const samples = new Map<string, Sample>();
    const scenarios: { rate: number; accounts: number; flushes: Flushes[]; sample: Sample }[] = [];
    for (const rate of RATES) {
      for (const accounts of ACCOUNTS) {
        const fanoutBatch = Math.min(FANOUT_MAX_BATCH, Math.max(1, Math.round(rate * FANOUT_WINDOW_SECONDS)));
        const key = `${fanoutBatch} ${accounts}`;
        let sample = samples.get(key);
        if (!sample) {
          sample = await fanoutSample(deps, fanoutBatch, accounts);
          countUpdates();
          samples.set(key, sample);
        }
        const flushes: Flushes[] = [];
        for (const pollers of POLLERS) {
          const run = await flushWindow(logWriter, counters, sample, rate, pollers, window);
          flushes.push({ ...run, files: new Map(run.files) });
          const per = (n: number) => fmt(n / run.records);
          console.log(
            `  ${pad(rate, 5)}${pad(accounts, 6)}${pad(pollers, 8)}` +
              `${pad(fmt(sample.sends / sample.events), 10)}${pad(fmt(sample.messages.length / sample.events), 9)}` +
              `${pad(per(run.receives), 10)}${pad(per(run.deletes), 9)}${pad(per(run.invocations), 8)}` +
              `${pad(per(run.puts), 9)}${pad(per(run.updates), 9)}${pad(Math.round(run.putBytes / run.puts), 8)}` +
              `${pad(((run.puts / run.records) * rate * window).toFixed(1), 12)}`,
          );
        }
        scenarios.push({ rate, accounts, flushes, sample });
      }
    }
    const mix = [...samples.values()][0]!.byType;
    console.log(
      `  (each sample: ${[...mix].map(([type, n]) => `${n} ${type}`).join(', ')}, the realistic mix; the sample repeats to fill the window)`,
    );
    console.log(
      '  (log sends: fanout’s SendMessageBatch calls to the log queue; messages: what they carried, records of one file packed per message;\n' +
        '   receives/deletes: the event source’s ReceiveMessage and DeleteMessageBatch, one per ten messages of an invocation)',
    );

    console.log(`  target: S3 PUTs per event at steady load ≤ 1/100 (${TARGET_PUTS_PER_EVENT})`);
    for (const { rate, accounts, flushes } of scenarios) {
      const verdicts = flushes.map((run) => {
        const value = run.puts / run.records;
        return `${run.pollers} poller${run.pollers > 1 ? 's' : ''} ${fmt(value)} ${value <= TARGET_PUTS_PER_EVENT ? 'pass' : 'FAIL'}`;
      });
      console.log(
        `    ${pad(rate, 5)} events/s, ${pad(accounts, 2)} account${accounts > 1 ? 's' : ' '}: ${verdicts.join('   ')}`,
      );
    }

    // Compaction: the ratios of CSV and XML to JSON Lines, from the records of the 10-account samples.
    const byPrefix = new Map<LogPrefix, LogRecord[]>();
    for (const sample of samples.values()) {
      for (const { body } of sample.messages) {
        const message = JSON.parse(body) as QueuedLogRecords;
        const records = byPrefix.get(message.prefix) ?? [];
        if (records.length < 500) records.push(...message.records.slice(0, 500 - records.length));
        byPrefix.set(message.prefix, records);
      }
    }
    const ratios = new Map<LogPrefix, { csv: number; xml: number }>();
    for (const prefix of LOG_PREFIXES) {
      const records = byPrefix.get(prefix);
      if (records?.length) ratios.set(prefix, await formatRatios(records, prefix));
    }
    console.log(
      `\nhourly compaction, estimated per closed (account, day, type) from the chunks the day gets at that rate` +
        ` (CSV ${[...ratios].map(([prefix, r]) => `${prefix} ×${r.csv.toFixed(2)}`).join(', ')};` +
        ` XML ${[...ratios].map(([, r]) => `×${r.xml.toFixed(2)}`).join(', ')} the JSON Lines)`,
    );
    console.log(
      `  ${''.padEnd(19)}${'per closed file (its average): chunks, the largest format, requests'.padEnd(70)}per event`,
    );
    console.log(
      `  ${'ev/s'.padStart(5)}${pad('accts', 6)}${pad('pollers', 8)}${pad('chunks', 9)}${pad('largest', 11)}` +
        `${pad('LIST', 6)}${pad('GET', 8)}${pad('PUT', 6)}${pad('DELETE', 8)}${pad('UpdateItem', 11)}` +
        `${pad('S3 req.', 14)}${pad('UpdateItem', 11)}`,
    );
    for (const { rate, accounts, flushes } of scenarios) {
      for (const run of flushes) {
        const c = compaction(run, rate, ratios);
        const f = c.perFileDay;
        const size =
          c.largestFileBytes >= 1024 * MiB
            ? `${(c.largestFileBytes / 1024 / MiB).toFixed(1)} GiB`
            : `${(c.largestFileBytes / MiB).toFixed(1)} MiB`;
        console.log(
          `  ${pad(rate, 5)}${pad(accounts, 6)}${pad(run.pollers, 8)}${pad(f.chunks.toFixed(0), 9)}${pad(size, 11)}` +
            `${pad(f.list.toFixed(1), 6)}${pad(f.get.toFixed(0), 8)}${pad(f.put.toFixed(0), 6)}${pad(f.delete.toFixed(1), 8)}` +
            `${pad(f.update.toFixed(0), 11)}${pad(fmt(c.perEvent.s3, 5), 14)}${pad(c.perEvent.update.toExponential(1), 11)}` +
            (c.tooManyParts ? `   a file needs > ${MAX_PARTS} parts of 5 MiB: its upload fails` : ''),
        );
      }
    }
    console.log(
      '  (GET: one per chunk, the probe for an earlier compacted file (a 404), the two reads of the JSON Lines for CSV and XML;' +
        '\n   PUT: per format one PutObject up to 5 MiB, else parts + 2; the hourly Query for open files is left out: 24 a day in all)',
    );

    const errors = await loopErrors(deps, logWriter, counters);
    console.log(
      `\nloop-errors (real deliver, receiver answering 503, batches of 10): ${errors.attempts} failed attempts →` +
        ` ${errors.sends} log-queue SendMessageBatch, ${errors.messages} messages of ${errors.records} records;` +
        ` one flush of them: ${errors.puts} S3 PUT` +
        `\n  per failed attempt: ${fmt(errors.sends / errors.attempts, 3)} log sends, ${fmt(errors.messages / errors.attempts, 3)} log messages`,
    );
  } finally {
    s3Mock.restore();
  }
}
