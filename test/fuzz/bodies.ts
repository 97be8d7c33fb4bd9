import fc from 'fast-check';
import { KiB } from './model.ts';
import {
  INVALID_UTF8,
  MALFORMED_JSON,
  PROTO_NAMES,
  UNSTORABLE_TEXT,
  parses,
  trickyText,
  withBytes,
  withMember,
} from './text.ts';

/** One body for a route: what is wrong with it (or `valid`) and the statuses that fit. */
export interface BodyCase {
  what: string;
  body?: string | Buffer;
  contentType?: string | null;
  statuses?: number[];
  /** Whether the API must accept it (as far as the body goes); `maybe`: either way, but never a 5xx. */
  valid: boolean | 'maybe';
}

export interface BodySpec {
  valid: fc.Arbitrary<Record<string, unknown>>;
  /** Per field, values that make the body invalid (400). */
  wrong: Record<string, fc.Arbitrary<unknown>>;
  required: string[];
  /** Bytes the route reads; one more is 413. */
  limit: number;
  /** String fields where any storable text is fine. */
  text: string[];
  /** No body at all is a valid request (replay). */
  emptyIsValid?: boolean;
}

const JSON_TYPE = 'application/json';
const bad = (
  what: string,
  body: string | Buffer,
  statuses = [400],
  contentType: string | null = JSON_TYPE,
): BodyCase => ({
  what,
  body,
  contentType,
  statuses,
  valid: false,
});
const good = (what: string, body: string | Buffer, contentType: string | null = JSON_TYPE): BodyCase => ({
  what,
  body,
  contentType,
  valid: true,
});

const WRONG_TYPES = [
  null,
  '',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/jsonx',
  'json',
  'application/json-patch+json',
  'application/merge-patch+json',
];
/** Spellings of the JSON media type that are all fine. */
const JSON_SPELLINGS = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8 ',
];

/** Every kind of body for a route: valid ones and every way one can be wrong. */
export function bodyCases(spec: BodySpec): fc.Arbitrary<BodyCase> {
  const valid = spec.valid.map((value) => JSON.stringify(value));
  const known = Object.keys(spec.wrong);
  const wrongField = fc
    .constantFrom(...known)
    .chain((field) => spec.wrong[field]!.map((value) => [field, value] as const));
  const textField = spec.text.length ? fc.constantFrom(...spec.text) : fc.constant(undefined);
  // Padded with spaces when sent, after the tokens are resolved (see Fixture.resolve).
  const pad = (json: string, bytes: number) => `${json}{{pad:${bytes}}}`;

  const validCases = fc.oneof(
    { weight: 4, arbitrary: valid.map((body) => good('valid', body)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.constantFrom(...JSON_SPELLINGS))
        .map(([body, type]) => good(`valid as ${type}`, body, type)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(spec.valid, textField, trickyText)
        .map(([value, field, text]) =>
          field
            ? good(`${field} is tricky text`, JSON.stringify({ ...value, [field]: text }))
            : good('valid', JSON.stringify(value)),
        ),
    },
    { weight: 1, arbitrary: valid.map((body) => good(`valid, padded to ${spec.limit} bytes`, pad(body, spec.limit))) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(spec.valid, fc.constantFrom(...known))
        .map(([value, field]) =>
          value[field] === undefined
            ? good('valid', JSON.stringify(value))
            : good(
                `${field} twice, the last valid`,
                withMember(JSON.stringify(value), field, JSON.stringify(value[field])),
              ),
        ),
    },
    {
      weight: 1,
      arbitrary: spec.valid.map((value) => {
        const [field] = Object.keys(value);
        if (!field) return good('valid', '{}');
        const escaped = JSON.stringify(field).replace(
          /[a-z]/,
          (letter) => `\\u${letter.charCodeAt(0).toString(16).padStart(4, '0')}`,
        );
        return good(`${field} spelled with an escape`, JSON.stringify(value).replace(JSON.stringify(field), escaped));
      }),
    },
    ...(spec.emptyIsValid ? [{ weight: 1, arbitrary: fc.constant<BodyCase>({ what: 'no body', valid: true }) }] : []),
  );
  // Bytes that are not UTF-8 in a JSON text body: API Gateway (and the twin) hand the function the text
  // decoded with U+FFFD in their place, so inside a string the body may well be accepted.
  const notUtf8 = fc.tuple(valid, fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([text, bytes, at]): BodyCase => ({
    what: `bytes ${bytes.toString('hex')} (not UTF-8)`,
    body: withBytes(text, bytes, at),
    contentType: JSON_TYPE,
    valid: 'maybe',
  }));

  const malformed = fc.oneof(
    fc.constantFrom(...MALFORMED_JSON),
    valid.chain((text) => fc.integer({ min: 1, max: Math.max(1, text.length - 1) }).map((cut) => text.slice(0, cut))),
    fc
      .tuple(valid, fc.nat(), fc.constantFrom('{', '}', '[', ',', ':', '"', '\\', 'x', '\u0000'))
      .map(
        ([text, at, junk]) => `${text.slice(0, at % (text.length + 1))}${junk}${text.slice(at % (text.length + 1))}`,
      ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  );
  const invalidCases = fc.oneof(
    malformed.filter((text) => !parses(text)).map((text) => bad('malformed JSON', text)),
    ...(spec.emptyIsValid ? [] : [fc.constantFrom('', ' ', '\r\n').map((text) => bad('an empty body', text))]),
    fc
      .oneof(
        fc.constant(null),
        fc.integer(),
        fc.string({ maxLength: 5 }),
        fc.boolean(),
        valid.map((text) => [JSON.parse(text)]),
      )
      .map((value) => bad('JSON that is not an object', JSON.stringify(value))),
    fc
      .tuple(valid, fc.constantFrom(...WRONG_TYPES))
      .map(([body, type]) => bad(`content type ${type}`, body, [415], type)),
    fc
      .tuple(valid, fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 64 * KiB })))
      .map(([body, over]) => bad(`${over} bytes over ${spec.limit}`, pad(body, spec.limit + over), [413])),
    fc
      .tuple(spec.valid, textField, fc.constantFrom(...UNSTORABLE_TEXT))
      .map(([value, field, text]) =>
        bad(
          `unstorable text ${JSON.stringify(text)}`,
          JSON.stringify(field ? { ...value, [field]: text } : { ...value, [text]: 1 }),
        ),
      ),
    fc
      .tuple(valid, fc.integer({ min: 100, max: 20_000 }))
      .map(([text, depth]) =>
        bad(`arrays nested ${depth} deep`, withMember(text, known[0]!, `${'['.repeat(depth)}${']'.repeat(depth)}`)),
      ),
    fc
      .tuple(
        valid,
        fc.constantFrom(...PROTO_NAMES),
        fc.constantFrom('{"admin":true}', '{"prototype":{"x":1}}', '1', '"x"', 'null'),
      )
      .map(([text, name, member]) => bad(`a member ${name}: ${member}`, withMember(text, name, member))),
    fc
      .tuple(spec.valid, wrongField)
      .map(([value, [field, wrong]]) =>
        bad(`${field} is ${JSON.stringify(wrong)?.slice(0, 60)}`, JSON.stringify({ ...value, [field]: wrong })),
      ),
    fc
      .tuple(valid, wrongField)
      .map(([text, [field, wrong]]) =>
        bad(`${field} twice, the last wrong`, withMember(text, field, JSON.stringify(wrong))),
      ),
    fc
      .tuple(
        valid,
        fc.string({ maxLength: 12 }).filter((name) => !known.includes(name)),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .map(([text, name, member]) =>
        bad(`an unknown member ${JSON.stringify(name)}`, withMember(text, name, JSON.stringify(member))),
      ),
    ...spec.required.map((field) =>
      spec.valid.map((value) =>
        field in value
          ? bad(
              `${field} missing`,
              JSON.stringify(Object.fromEntries(Object.entries(value).filter(([name]) => name !== field))),
            )
          : bad('an empty object', '{}'),
      ),
    ),
  );
  return fc.oneof(
    { weight: 4, arbitrary: validCases },
    { weight: 1, arbitrary: notUtf8 },
    { weight: 12, arbitrary: invalidCases },
  );
}

export const longText = (length: number, unit = 'x') => unit.repeat(length);
/** A string of exactly `bytes` UTF-8 bytes in two-byte characters (plus one `x` when odd). */
export const bytesOf = (bytes: number) => 'é'.repeat(Math.floor(bytes / 2)) + (bytes % 2 ? 'x' : '');
