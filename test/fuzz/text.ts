import fc from 'fast-check';

/**
 * Text that tends to break things: unicode edge cases, JSON that does not parse, bytes that are not
 * UTF-8, names that reach for the prototype.
 */

/** Text that is valid Unicode and storable: RTL overrides, combining marks, emoji, BOMs, C1 controls. */
export const TRICKY_TEXT = [
  '\u202eevil\u202c',
  '\u200f\u05e9\u05dc\u05d5\u05dd',
  'e\u0301\u0301\u0301\u0301',
  'Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034d',
  '\u{1F469}\u200d\u{1F469}\u200d\u{1F467}',
  '\u{1F1F3}\u{1F1F1}',
  '\ufeffbom',
  '\u0085\u0080\u009f',
  '\u2028\u2029',
  '\u{10FFFF}',
  '\ue000private',
  '\u00a0\u3000',
  '\u0130\u0131\u00df',
  '\ufdd0',
  '%00%ff',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '${jndi:ldap://x}',
  '{{7*7}}',
];

/** Text no request may carry (400 invalid_text): lone surrogates, NUL and other C0 and C1 controls, U+FFFE/F. */
export const UNSTORABLE_TEXT = [
  '\ud800',
  'a\udfffb',
  '\udc00\ud800',
  '\u0000',
  'x\u0001',
  '\u001b[31m',
  '\u0080',
  'line\u0085next',
  '\u009b31m',
  'x\u009f',
  '\ufffe',
  '\uffff',
];

export const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];

// eslint-disable-next-line no-control-regex -- storable text has no control characters
const CONTROL = /[\u0000-\u001f\u0080-\u009f\ufffe\uffff]/;
export const trickyText = fc.oneof(
  fc.constantFrom(...TRICKY_TEXT),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }).filter((text) => text.isWellFormed() && !CONTROL.test(text)),
);

/** Bytes that are not UTF-8: overlong forms, CESU-8 surrogates, stray continuation bytes, 0xFE/0xFF, cut sequences. */
export const INVALID_UTF8 = [
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xf0, 0x80, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0x80],
  [0xbf, 0xbf],
  [0xfe],
  [0xff, 0xfe],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc0, 0x80],
].map((bytes) => Buffer.from(bytes));

/** Text that does not parse as JSON. */
export const MALFORMED_JSON = [
  '{',
  '}',
  '{"a":1,}',
  '{a:1}',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '{"a" 1}',
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":01}',
  '{"a":0x10}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '{"a":"\t"}',
  '/* c */ {}',
  '"unterminated',
  '[1,2',
  'tru',
  'undefined',
  '\ufeff{}',
  '{"a":1e999999999999}x',
];

/** `json` with `member` written into the outer object by hand, so that `__proto__` and repeats are really sent. */
export function withMember(json: string, name: string, member: string): string {
  return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}${JSON.stringify(name)}:${member}}`;
}

/** `json` with the bytes spliced in at a position (inside a string value where there is one). */
export function withBytes(json: string, bytes: Buffer, at: number): Buffer {
  const quote = json.indexOf('":"');
  const position = quote >= 0 ? quote + 3 : at % (json.length + 1);
  return Buffer.concat([Buffer.from(json.slice(0, position)), bytes, Buffer.from(json.slice(position))]);
}

export const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** Values of every JSON type but `kind` (and null unless it fits). */
export const notA = (kind: 'string' | 'array' | 'object' | 'boolean' | 'number', nullFits = false) =>
  fc.oneof(
    ...(kind !== 'string' ? [fc.string({ maxLength: 8 })] : []),
    ...(kind !== 'number' ? [fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })] : []),
    ...(kind !== 'boolean' ? [fc.boolean()] : []),
    ...(nullFits ? [] : [fc.constant(null)]),
    ...(kind !== 'array' ? [fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 })] : []),
    ...(kind !== 'object' ? [fc.dictionary(fc.string({ maxLength: 4 }), fc.nat(), { maxKeys: 3 })] : []),
  );
