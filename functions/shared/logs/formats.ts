import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { XMLBuilder, type XmlBuilderOptions } from 'fast-xml-parser';
import { columnsOf, logFileName, type LogFormat, type LogPrefix, type LogRecord } from '#shared/logs/log-record.ts';

/**
 * The three formats of a log file (docs/api.md §8), written as a stream from a stream of records, so a day
 * of a million records (≈ 1 GB) never sits in memory whole: each converter holds one record, and
 * its output up to one chunk, at a time. Every converter returns a byte stream (a `Readable` of
 * `Buffer`s, UTF-8) to pipe to S3 or to a response; it is also an `AsyncIterable<Buffer>`.
 */

export type RecordSource = AsyncIterable<LogRecord> | Iterable<LogRecord>;

/** Output is handed on in chunks of about this size, not one per record. */
const CHUNK_BYTES = 64 * 1024;

const CONTENT_TYPES = {
  json: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
} as const satisfies Record<LogFormat, string>;

/** `.jsonl` rather than `.json`: the file is JSON Lines, which a program reading it as one JSON document would refuse. */
const EXTENSIONS = { json: 'jsonl', csv: 'csv', xml: 'xml' } as const satisfies Record<LogFormat, string>;

export function contentType(format: LogFormat): string {
  return CONTENT_TYPES[format];
}

export function fileExtension(format: LogFormat): string {
  return EXTENSIONS[format];
}

/** The name a downloaded file is saved under: `clicks.2026-11-21.csv`. */
export function downloadFileName(prefix: LogPrefix, date: string, format: LogFormat): string {
  return `${logFileName(prefix, date)}.${fileExtension(format)}`;
}

/**
 * `attachment; filename="clicks.2026-11-21.csv"`. The name is plain ASCII (a prefix, a date, an
 * extension), so it needs neither escaping nor RFC 6266's `filename*`.
 */
export function contentDisposition(prefix: LogPrefix, date: string, format: LogFormat): string {
  return `attachment; filename="${downloadFileName(prefix, date, format)}"`;
}

/** The records of one file (`prefix`) in `format`. */
export function formatRecords(format: LogFormat, prefix: LogPrefix, records: RecordSource): Readable {
  switch (format) {
    case 'json':
      return toJsonLines(records);
    case 'csv':
      return toCsv(prefix, records);
    case 'xml':
      return toXml(prefix, records);
  }
}

// ---- JSON Lines ----

/**
 * JSON Lines: one record per line (`\n`), as `JSON.stringify` writes it, so with the record's own
 * key order and its types (numbers, booleans) kept. No BOM. Also the form a day's file is stored in.
 */
export function toJsonLines(records: RecordSource): Readable {
  return byteStream(jsonLines(records));
}

/** The text of `toJsonLines`, in chunks. */
export async function* jsonLines(records: RecordSource): AsyncGenerator<string> {
  let chunk = '';
  for await (const record of records) {
    chunk += `${JSON.stringify(record)}\n`;
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

// ---- CSV ----

/**
 * CSV (RFC 4180) written by `csv-stringify`: a header row of the file's columns (`columnsOf`), then
 * one row per record, each column in that order; an absent field is an empty cell (as is an empty
 * string: a cell has no way to tell them apart); `tags` joined with `;` (docs/api.md §8; the JSON and XML
 * files keep a tag that itself holds a `;` apart from two tags); `fields` as a JSON object, so its
 * numbers and booleans keep their types. Cells holding a comma, a quote, a CR or an LF are quoted,
 * quotes doubled; rows end in CRLF. (A lone surrogate, which UTF-8 cannot hold, is written as
 * U+FFFD, as by any UTF-8 encoder; the JSON Lines file keeps it as `\ud800`.)
 *
 * Byte order mark: yes. The file is UTF-8 with a BOM, because the spreadsheet a person opens a CSV
 * file in decides its encoding by it: Excel reads a UTF-8 file without one as Windows-1252 and
 * shows `ZoÃ«` for `Zoë` (LibreOffice and Google Sheets take either). CSV parsers skip it when asked
 * (csv-parse `bom: true`, Python `encoding="utf-8-sig"`, pandas by default); a program that would
 * rather not deal with it has the JSON Lines file, the format meant for programs.
 *
 * Formula injection: neutralised, as OWASP recommends. A cell that would begin with `=`, `+`, `-`,
 * `@`, a tab or a CR (a user agent, a referer, a clicked URL, a profile field or a tag can, and they
 * come from recipients' browsers and crafted clicks) gets a leading `'`, so that a spreadsheet shows
 * it as text instead of running it: `=HYPERLINK(…)` arrives as `'=HYPERLINK(…)`. That changes such
 * a value (a phone number `+33…` reads `'+33…`) for a program reading the CSV; the JSON Lines and
 * XML files keep every value exact, and are the formats meant for programs.
 */
export function toCsv(prefix: LogPrefix, records: RecordSource): Readable {
  return byteStream(csvChunks(prefix, records));
}

/**
 * The text of `toCsv`, in chunks. csv-stringify's stream is fed one row at a time and read as it
 * writes (it writes each row at once), its output handed on in chunks: handing on its output a row
 * at a time through a pipe would cost four times the work of writing the rows.
 */
async function* csvChunks(prefix: LogPrefix, records: RecordSource): AsyncGenerator<Buffer> {
  const columns = columnsOf(prefix);
  const stringifier = stringify({
    bom: true,
    header: true,
    columns: [...columns],
    record_delimiter: 'windows',
    // With a record delimiter of its own, csv-stringify would leave a lone `\n` or `\r` unquoted,
    // which Excel and most parsers take for the end of the row.
    quote_record_delimiter: true,
    cast: { boolean: (value) => String(value) },
  });
  const output: Buffer[] = [];
  let size = 0;
  let failure: Error | undefined;
  stringifier.on('data', (chunk: Buffer) => {
    output.push(chunk);
    size += chunk.length;
  });
  stringifier.on('error', (error) => (failure ??= error));
  const take = () => {
    const chunk = Buffer.concat(output, size);
    output.length = 0;
    size = 0;
    return chunk;
  };
  try {
    for await (const record of records) {
      stringifier.write(csvRow(columns, record));
      if (failure) throw failure;
      if (size >= CHUNK_BYTES) yield take();
    }
    stringifier.end();
    await finished(stringifier);
    yield take(); // the header and BOM alone, for a file without records
  } finally {
    stringifier.destroy();
  }
}

function csvRow(columns: readonly string[], record: LogRecord): unknown[] {
  const values = record as unknown as Record<string, unknown>;
  return columns.map((column) => csvCell(column, values[column]));
}

function csvCell(column: string, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (column === 'tags' && Array.isArray(value)) return inert(value.join(';'));
  if (column === 'fields' && typeof value === 'object') return JSON.stringify(value);
  return typeof value === 'string' ? inert(value) : value;
}

/** What a spreadsheet would take for the start of a formula (OWASP's list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell a spreadsheet shows as text: a leading `'` where it would otherwise run a formula. */
const inert = (text: string): string => (FORMULA_START.test(text) ? `'${text}` : text);

// ---- XML ----

/**
 * XML 1.0, UTF-8, written by fast-xml-parser's `XMLBuilder` one record at a time:
 *
 * ```xml
 * <?xml version="1.0" encoding="UTF-8"?>
 * <records>
 * <record><id>…</id><type>click</type>…<fields><field name="firstname">Jane</field></fields><tags><tag>news</tag></tags></record>
 * </records>
 * ```
 *
 * One `<record>` a line; in it one element per present field, named after it and in the order of
 * the file's columns (`columnsOf`), an absent field omitted (an empty string is an empty element;
 * no `fields` and `fields: {}` are told apart as no element and `<fields></fields>`, and so are
 * tags). Profile field names may begin with a digit, `-` or `.`, which no XML element name may, so
 * `fields` holds `<field name="…">` elements; `tags` holds `<tag>` elements. Numbers and booleans are
 * written as JSON writes them (`42`, `true`).
 *
 * Text is escaped by the builder (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`), and a CR as `&#xD;`,
 * since a parser would otherwise read it as an LF (XML 1.0 §2.11). Characters that XML 1.0 allows
 * nowhere in a document, not even as `&#…;` — controls other than tab, LF and CR, lone surrogates,
 * U+FFFE and U+FFFF — are replaced with U+FFFD (the replacement character): the only other choices
 * are a file no parser accepts or a character dropped unseen. The JSON Lines file keeps them.
 *
 * (xmlbuilder2's streaming writer was tried first and refused: it leaves text that looks like an
 * entity, `&amp;`, unescaped, so a parser reads back `&` — and it writes about 1 MB/s.)
 */
export function toXml(prefix: LogPrefix, records: RecordSource): Readable {
  return byteStream(xmlDocument(prefix, records));
}

/** Not allowed in an XML 1.0 document (§2.2 `Char`), even as a character reference. */
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const XML_OPTIONS: XmlBuilderOptions & { jPath: boolean } = {
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  format: false,
  // Documented (fast-xml-builder's README) but not yet in its types: callbacks get no path, which
  // they do not need, and the builder runs half again as fast.
  jPath: false,
  suppressEmptyNode: false,
  processEntities: true,
  tagValueProcessor: (_name, value) => (typeof value === 'string' ? xmlText(value) : value),
  attributeValueProcessor: (_name, value) => (typeof value === 'string' ? xmlText(value) : value),
};
const xmlBuilder = new XMLBuilder(XML_OPTIONS);

function xmlText(value: string): string {
  return value.replace(XML_INVALID, '\uFFFD');
}

/** Records per chunk handed on (about 90 KiB of 1 KiB records). */
const XML_BATCH = 64;

async function* xmlDocument(prefix: LogPrefix, records: RecordSource): AsyncGenerator<string> {
  const columns = columnsOf(prefix);
  yield '<?xml version="1.0" encoding="UTF-8"?>\n<records>\n';
  let batch: XmlRecord[] = [];
  for await (const record of records) {
    batch.push(xmlRecord(columns, record));
    if (batch.length === XML_BATCH) {
      yield xmlRecords(batch);
      batch = [];
    }
  }
  if (batch.length) yield xmlRecords(batch);
  yield '</records>\n';
}

type XmlRecord = Record<string, string | { tag: string[] } | { field: { '@name': string; '#text': string }[] }>;

function xmlRecord(columns: readonly string[], record: LogRecord): XmlRecord {
  const values = record as unknown as Record<string, unknown>;
  const element: XmlRecord = {};
  for (const column of columns) {
    const value = values[column];
    if (value === undefined || value === null) continue;
    if (column === 'tags' && Array.isArray(value)) {
      element.tags = { tag: value.map(String) };
    } else if (column === 'fields' && typeof value === 'object') {
      element.fields = {
        field: Object.entries(value).map(([name, item]) => ({ '@name': name, '#text': String(item) })),
      };
    } else {
      element[column] = String(value);
    }
  }
  return element;
}

function xmlRecords(batch: XmlRecord[]): string {
  // One `<record>` a line. A CR in the output can only be in text (names hold none): written as a
  // reference so that it is read back as a CR.
  const xml = batch.map((record) => xmlBuilder.build({ record }) as string).join('\n') + '\n';
  return xml.includes('\r') ? xml.replaceAll('\r', '&#xD;') : xml;
}

// ---- ----

/** A byte stream (UTF-8 `Buffer`s) of text chunks, read as fast as its reader reads. */
export function byteStream(chunks: AsyncIterable<string | Buffer>): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    })(),
    { objectMode: false },
  );
}
