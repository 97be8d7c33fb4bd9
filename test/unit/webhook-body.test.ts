import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MailEvent } from '#shared/events/mail-event.ts';
import {
  encodeBody,
  encodeForm,
  encodeJson,
  formScalar,
  toRecord,
  type WebhookRecord,
} from '#shared/delivery/webhook-body.ts';

const minimal: MailEvent = { id: 'evt_1', type: 'open', message: 'msg-1', timestamp: '2026-11-21T10:00:00.999Z' };
// Written in reverse order, so the test shows toRecord orders the fields itself.
const full: MailEvent = {
  description: 'Mailbox unavailable',
  extended: '5.1.1',
  code: '550',
  machine: true,
  original: 'https://shop.example.com/sale?x=1&y=2',
  referer: 'https://mail.example.com/',
  useragent: 'Mozilla/5.0 (X11)',
  ip: '192.0.2.1',
  tags: ['news', 'nov'],
  fields: { firstname: 'Jane', age: 42, vip: true, churned: false },
  profile: 'p-42',
  recipient: 'jane@example.com',
  ...minimal,
  type: 'click',
};

/**
 * Reads a form body the way PHP fills $_POST: pairs decoded as application/x-www-form-urlencoded,
 * `name[key]` into an array by key, `name[]` appended to a list.
 */
function readLikePhp(body: string): Record<string, unknown> {
  const post: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const bracket = /^([^[]+)\[([^\]]*)\]$/.exec(name);
    if (!bracket) post[name] = value;
    else if (bracket[2] === '') ((post[bracket[1]!] ??= []) as string[]).push(value);
    else ((post[bracket[1]!] ??= {}) as Record<string, string>)[bracket[2]!] = value;
  }
  return post;
}

describe('toRecord', () => {
  it('puts the fields in the documented order, with a UTC date time and Unix seconds', () => {
    const record = toRecord(full);
    expect(Object.keys(record)).toEqual([
      'id',
      'type',
      'timestamp',
      'time',
      'message',
      'recipient',
      'profile',
      'fields',
      'tags',
      'ip',
      'useragent',
      'referer',
      'original',
      'machine',
      'code',
      'extended',
      'description',
    ]);
    expect(record).toMatchObject({ id: 'evt_1', type: 'click', timestamp: '2026-11-21 10:00:00', time: 1795255200 });
  });

  it('omits the fields the event does not have', () => {
    expect(toRecord(minimal)).toEqual({
      id: 'evt_1',
      type: 'open',
      timestamp: '2026-11-21 10:00:00',
      time: 1795255200,
      message: 'msg-1',
    });
  });
});

describe('encodeForm', () => {
  it('encodes scalars as WHATWG form fields, a space as +', () => {
    expect(encodeForm(toRecord({ ...minimal, message: 'a b' }))).toBe(
      'id=evt_1&type=open&timestamp=2026-11-21+10%3A00%3A00&time=1795255200&message=a+b',
    );
  });

  it('writes fields and tags in PHP bracket notation, as in the example of docs/api.md §5', () => {
    const body = encodeForm(toRecord({ ...minimal, fields: { firstname: 'Jane' }, tags: ['news', 'nov'] }));
    expect(body.endsWith('&fields%5Bfirstname%5D=Jane&tags%5B%5D=news&tags%5B%5D=nov')).toBe(true);
    expect([...new URLSearchParams(body)].slice(-3)).toEqual([
      ['fields[firstname]', 'Jane'],
      ['tags[]', 'news'],
      ['tags[]', 'nov'],
    ]);
  });

  it('writes scalars as PHP http_build_query does: booleans 1/0, integers in plain digits', () => {
    const fields = { vip: true, churned: false, age: 42, score: 1.5, big: 1e21, negZero: -0, neg: -7, tiny: 1e-7 };
    const post = readLikePhp(encodeForm(toRecord({ ...minimal, fields, tags: ['true', 'false'] })));
    expect(post.fields).toEqual({
      vip: '1',
      churned: '0',
      age: '42',
      score: '1.5',
      big: '1000000000000000000000',
      negZero: '0',
      neg: '-7',
      tiny: '1e-7',
    });
    // Strings stay as they are, even when they look like booleans.
    expect(post.tags).toEqual(['true', 'false']);
    expect(post.time).toBe('1795255200');
  });

  it('reads back like PHP with &, =, +, spaces, brackets and unicode in keys and values', () => {
    const odd = 'a&b=c+d e[f]g%20h ünï 😀';
    const post = readLikePhp(
      encodeForm(toRecord({ ...minimal, message: odd, fields: { 'x&y=z+ ü': odd }, tags: [odd, '[]', '&'] })),
    );
    expect(post).toMatchObject({ message: odd, fields: { 'x&y=z+ ü': odd }, tags: [odd, '[]', '&'] });
  });

  it('reads back like PHP for any field values and tags', () => {
    // Field names cannot contain brackets (the event schema allows only A-Z a-z 0-9 _ . -).
    const name = fc.string({ minLength: 1 }).filter((key) => !/[[\]]/.test(key) && key !== '__proto__');
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string(), { minKeys: 1 }),
        fc.array(fc.string(), { minLength: 1 }),
        fc.string(),
        (fields, tags, message) => {
          const post = readLikePhp(encodeForm(toRecord({ ...minimal, message, fields, tags })));
          expect(post).toMatchObject({ message, fields, tags });
        },
      ),
    );
  });

  it('leaves out absent fields', () => {
    expect([...new URLSearchParams(encodeForm(toRecord(minimal))).keys()]).toEqual([
      'id',
      'type',
      'timestamp',
      'time',
      'message',
    ]);
  });
});

describe('formScalar', () => {
  it.each([
    [true, '1'],
    [false, '0'],
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [-42, '-42'],
    [1e21, '1000000000000000000000'],
    [-1e21, '-1000000000000000000000'],
    [2 ** 53, '9007199254740992'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [1.5, '1.5'],
    [-0.25, '-0.25'],
    [1e-7, '1e-7'],
    [1.5e21, '1500000000000000000000'],
    ['', ''],
    ['false', 'false'],
    ['1e21', '1e21'],
  ] as const)('%o → %s', (value, written) => {
    expect(formScalar(value)).toBe(written);
  });

  it('writes even the largest integer in digits', () => {
    expect(formScalar(Number.MAX_VALUE)).toMatch(/^17976931348623157\d{292}$/);
  });

  it('writes every integer without an exponent, reading back as the same number', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }).filter(Number.isInteger), (value) => {
        const written = formScalar(value);
        expect(written).toMatch(/^-?\d+$/);
        expect(Number(written)).toBe(value === 0 ? 0 : value);
      }),
    );
  });

  it('writes other numbers as JavaScript does, reading back as the same number', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Number.isInteger(value)),
        (value) => {
          expect(formScalar(value)).toBe(String(value));
          expect(Number(formScalar(value))).toBe(value);
        },
      ),
    );
  });
});

describe('encodeJson', () => {
  it('gives one JSON object, fields an object and tags an array, in field order', () => {
    const record = toRecord(full);
    const body = encodeJson(record);
    expect(body.startsWith('{"id":"evt_1","type":"click","timestamp":"2026-11-21 10:00:00","time":1795255200,')).toBe(
      true,
    );
    expect(JSON.parse(body)).toEqual(record);
    expect(JSON.parse(body)).toMatchObject({ fields: { age: 42, vip: true }, tags: ['news', 'nov'] });
  });

  it('keeps real types: booleans true/false, numbers as numbers, strings as strings', () => {
    const fields = { vip: true, churned: false, age: 42, score: 1.5, big: 1e21, flag: 'false' };
    expect(JSON.parse(encodeJson(toRecord({ ...minimal, fields }))).fields).toEqual(fields);
    expect(encodeJson(toRecord({ ...minimal, fields: { vip: true, churned: false } }))).toContain(
      '"fields":{"vip":true,"churned":false}',
    );
  });
});

describe('encodeBody', () => {
  const record: WebhookRecord = toRecord(full);
  it.each([
    ['form', 'application/x-www-form-urlencoded', encodeForm(record)],
    ['json', 'application/json', encodeJson(record)],
  ] as const)('%s → %s', (format, contentType, body) => {
    expect(encodeBody(record, format)).toEqual({ contentType, body });
  });
});
