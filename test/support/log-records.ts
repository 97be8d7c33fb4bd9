/**
 * Records for the log file tests, and readers of the files written by third-party parsers — the
 * way a user of the files would read them: csv-parse, fast-xml-parser, and saxes (a strict,
 * conforming XML parser, which refuses any document that is not well-formed).
 */
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { SaxesParser } from 'saxes';
import { EVENT_TYPES } from '#shared/events/event-types.ts';
import type { WebhookRecord } from '#shared/delivery/webhook-body.ts';
import type { LoopErrorRecord } from '#shared/logs/log-record.ts';

export const clickRecord = (overrides: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id: '01JDCLICK00000000000000001',
  type: 'click',
  timestamp: '2026-11-21 10:00:00',
  time: 1_795_255_200,
  message: 'msg_01JDMESSAGE000000000000001',
  recipient: 'zoë@example.com',
  profile: 'prof_42',
  fields: { firstname: 'Zoë', '1st-visit': true, age: 42, 'score.avg': 4.5, note: 'says "hi", <b>&amp;</b>' },
  tags: ['news', 'nov'],
  ip: '203.0.113.7',
  useragent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)',
  referer: 'https://mail.example.com/inbox?folder=promo&x=1',
  original: 'https://example.com/offer?utm_source=mail&utm_medium=email',
  ...overrides,
});

export const loopError = (overrides: Partial<LoopErrorRecord> = {}): LoopErrorRecord => ({
  time: 1_795_255_260,
  eventId: '01JDCLICK00000000000000001',
  type: 'click',
  loopId: 'loop_01JDLOOP0000000000000001',
  url: 'https://hooks.example.com/mail?a=1&b=2',
  attempt: 1,
  ...overrides,
});

// ---- arbitraries ----

/** Characters that files get wrong: separators, quotes, markup, line ends, controls, BOM, emoji, RTL, lone surrogates. */
const AWKWARD = [
  ',',
  ';',
  '"',
  "'",
  '\r',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '<',
  '>',
  '&',
  '&amp;',
  ']]>',
  '=',
  '+',
  '-',
  '@',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\uFEFF',
  '\uFFFE',
  '\uFFFF',
  '\uD800',
  '\uDFFF',
  'Zoë',
  'שלום',
  '\u202E',
  '👍🏽',
  '𝄞',
];

/** Any text: any code point, and many of the awkward ones. */
export const text = (constraints: { minLength?: number } = {}) =>
  fc
    .array(fc.oneof(fc.constantFrom(...AWKWARD), fc.string({ unit: 'binary', maxLength: 4 })), {
      minLength: constraints.minLength ?? 0,
      maxLength: 8,
    })
    .map((parts) => parts.join(''))
    .filter((value) => value.length >= (constraints.minLength ?? 0));

const fieldName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).filter((name) => name !== '__proto__');
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Object.is(value, -0)),
);
const fieldValue = fc.oneof(text(), number, fc.boolean());

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** A record of an event file, any of its optional fields absent. */
export const webhookRecord: fc.Arbitrary<WebhookRecord> = fc
  .record({
    id: text({ minLength: 1 }),
    type: fc.constantFrom(...EVENT_TYPES),
    timestamp: fc.constant('2026-11-21 10:00:00'),
    time: fc.integer({ min: 0, max: 4_102_444_800 }),
    message: text(),
    recipient: optional(text()),
    profile: optional(text()),
    fields: optional(fc.dictionary(fieldName, fieldValue, { maxKeys: 5 })),
    tags: optional(fc.array(text({ minLength: 1 }), { maxLength: 4 })),
    ip: optional(text()),
    useragent: optional(text()),
    referer: optional(text()),
    original: optional(text()),
    code: optional(text()),
    extended: optional(text()),
    description: optional(text()),
  })
  .map(withoutAbsent);

/** A record of a loop-errors file: a `status` or an `error`. */
export const loopErrorRecord: fc.Arbitrary<LoopErrorRecord> = fc
  .record({
    time: fc.integer({ min: 0, max: 4_102_444_800 }),
    eventId: text({ minLength: 1 }),
    type: fc.constantFrom(...EVENT_TYPES),
    loopId: text({ minLength: 1 }),
    url: text(),
    attempt: fc.integer({ min: 1, max: 20 }),
    outcome: fc.oneof(fc.record({ status: fc.integer({ min: 100, max: 599 }) }), fc.record({ error: text() })),
  })
  .map(({ outcome, ...record }) => ({ ...record, ...outcome }));

/** The record as it is stored: an absent field is no key at all. */
function withoutAbsent<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}

// ---- what a file holds, read back ----

/** UTF-8 has no lone surrogates: encoding one writes U+FFFD, as any UTF-8 file would hold. */
export const asUtf8 = (value: string) => Buffer.from(value, 'utf8').toString('utf8');

/**
 * What XML 1.0 can hold of a text: each character it allows nowhere (§2.2) as U+FFFD. Written out
 * here code point by code point, apart from the code under test.
 */
export function asXml(value: string): string {
  let result = '';
  for (const character of value) {
    const code = character.codePointAt(0)!;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    result += allowed ? character : '\uFFFD';
  }
  return result;
}

export async function bytesOf(stream: Readable): Promise<Buffer> {
  return buffer(stream);
}

/** A CSV file as a user reads it with csv-parse: BOM skipped, the header row naming the columns. */
export function readCsv(file: Buffer): Record<string, string>[] {
  return parseCsv(file, { bom: true, columns: true, relax_column_count: false, skip_empty_lines: false });
}

export function readCsvRows(file: Buffer): string[][] {
  return parseCsv(file, { bom: true });
}

/** One `<record>` as read back: its elements in order; `fields` and `tags` as their children. */
export type XmlRecord = [name: string, value: string | string[] | [name: string, value: string][]][];

/**
 * An XML file read with saxes, which throws on anything not well-formed (a character XML does not
 * allow, a bad name, a stray `&`): the records, each element of each in document order.
 */
export function readXmlStrict(file: Buffer): { root: string; records: XmlRecord[] } {
  const parser = new SaxesParser({ xmlns: false });
  const path: string[] = [];
  const records: XmlRecord[] = [];
  let root = '';
  let record: XmlRecord | undefined;
  let field: string | undefined;
  let value = '';
  let list: string[] | [string, string][] | undefined;
  let failure: Error | undefined;
  parser.on('error', (error) => (failure ??= error));
  parser.on('opentag', (tag) => {
    path.push(tag.name);
    value = '';
    if (path.length === 1) root = tag.name;
    else if (path.length === 2) record = [];
    else if (path.length === 3) {
      field = tag.name;
      list = tag.name === 'tags' || tag.name === 'fields' ? [] : undefined;
    }
    if (path.length === 4 && tag.name === 'field') field = String(tag.attributes.name);
  });
  parser.on('text', (chunk) => (value += chunk));
  parser.on('closetag', (tag) => {
    if (path.length === 4) {
      if (tag.name === 'tag') (list as string[]).push(value);
      else (list as [string, string][]).push([field!, value]);
    } else if (path.length === 3) {
      record!.push([tag.name, list ?? value]);
    } else if (path.length === 2) {
      records.push(record!);
    }
    path.pop();
    value = '';
  });
  parser.write(file.toString('utf8')).close();
  if (failure) throw failure;
  return { root, records };
}

/**
 * An XML file read with fast-xml-parser, with the options a user needs for exact values: no type
 * guessing, no trimming, numeric character references (`&#xD;`) decoded.
 */
export function readXml(file: Buffer): Record<string, any>[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    htmlEntities: true,
    isArray: (name) => ['record', 'tag', 'field'].includes(name),
  });
  const document = parser.parse(file);
  const records: any[] = document.records?.record ?? [];
  return records.map((record) => {
    const result: Record<string, any> = {};
    for (const [name, value] of Object.entries<any>(record)) {
      if (name === '#text') continue; // the line ends between elements
      if (name === 'tags') result.tags = value === '' ? [] : (value.tag ?? []).map((tag: any) => String(tag));
      else if (name === 'fields')
        result.fields = value === '' ? [] : value.field.map((item: any) => [item['@_name'], item['#text'] ?? '']);
      else result[name] = value;
    }
    return result;
  });
}
