import fc from 'fast-check';
import { LIMIT } from './model.ts';

/** A query string, whether the route must accept it, and the statuses that fit. */
export interface Query {
  query: string;
  valid: boolean;
  statuses?: number[];
}

const ok = (query: string): Query => ({ query, valid: true, statuses: [200] });
const no = (query: string): Query => ({ query, valid: false, statuses: [400] });
/** Either answer is fine, but never a 5xx. */
const either = (query: string): Query => ({ query, valid: true, statuses: [200, 400] });

const VALID_LIMITS = ['1', '2', '50', String(LIMIT.pageMax - 1), String(LIMIT.pageMax), '001'];
const INVALID_LIMITS = [
  '0',
  String(LIMIT.pageMax + 1),
  '-1',
  '',
  '%20',
  '1.0',
  '1e2',
  '0x10',
  '%EF%BC%92',
  'abc',
  '9'.repeat(400),
  'null',
  '1&limit=2',
  '1%00',
  '%ED%A0%80',
];

export const limitQueries = fc.oneof(
  fc.constantFrom(...VALID_LIMITS).map((limit) => ok(`limit=${limit}`)),
  fc.constantFrom(...INVALID_LIMITS).map((limit) => no(`limit=${limit}`)),
  fc
    .integer({ min: -1000, max: 1000 })
    .map((limit) => (limit >= 1 && limit <= LIMIT.pageMax ? ok(`limit=${limit}`) : no(`limit=${limit}`))),
  fc.constantFrom('foo=1', 'Limit=5', 'limit=5&x=', 'constructor=1', '__proto__=1', 'cursor=&limit=5&offset=1').map(no),
);

/**
 * Cursors, real and forged (the fixture makes them: see Fixture.cursor): this list's own, another
 * list's, another account's, and ones that decode to keys of the wrong shape or to text that is not text.
 */
export function cursorQueries(list: 'accounts' | 'loops' | 'failures'): fc.Arbitrary<Query> {
  // A list's real cursor (failures has none: no delivery fails in the fuzz).
  const own = list === 'accounts' ? 'accounts' : list === 'loops' ? 'A.loops' : undefined;
  const forged = [
    'forged.otherAccount',
    'forged.extraKey',
    'forged.numbers',
    'forged.array',
    'forged.null',
    'forged.long',
    'forged.proto',
    'forged.failuresOfB',
    'forged.notJson',
    ...(list === 'accounts' ? [] : ['forged.accountsAsLoops', 'accounts']),
    ...(list === 'loops' ? [] : ['A.loops']),
    ...(list === 'accounts' ? [] : ['B.loops']),
  ];
  const junk = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom('%', '%ED%A0%80', '%00', 'x'.repeat(8000)),
  );
  const mine = own ?? `forged.ownAfterAll.${list}`;
  return fc.oneof(
    fc.constant((list === 'failures' ? either : ok)(`cursor={{cursor:${mine}}}`)),
    fc.constant((list === 'failures' ? either : ok)(`cursor={{cursor:forged.ownAfterAll.${list}}}`)),
    // A lone surrogate is refused before DynamoDB sees it; NUL in a key: never a 5xx.
    fc.constant(no(`cursor={{cursor:forged.surrogate.${list}}}`)),
    fc.constant(either(`cursor={{cursor:forged.nul.${list}}}`)),
    fc.constantFrom(...forged).map((name) => no(`cursor={{cursor:${name}}}`)),
    fc.constantFrom(...forged.slice(0, 3), mine).map((name) => no(`limit=1&cursor={{cursor:${name}|cut:3}}`)),
    // base64url decoding skips what is not of its alphabet, so appended junk may leave the cursor intact.
    fc
      .tuple(fc.constantFrom(mine, 'forged.otherAccount'), junk)
      .map(([name, text]) => (name === mine ? either : no)(`cursor={{cursor:${name}}}${text}`)),
    junk.filter((text) => text.length > 0).map((text) => no(`cursor=${text}`)),
  );
}

const DATES = [
  '2026-13-01',
  '2026-02-30',
  '26-11-21',
  '2026/11/21',
  'today',
  '',
  '%00',
  '{{today}}T00:00:00Z',
  "{{today}}'",
];
export function logfileQueries(download: boolean): fc.Arbitrary<Query> {
  if (download) {
    return fc.oneof(
      fc
        .constantFrom('', 'format=json', 'format=csv', 'format=xml', 'redirect=false', 'format=csv&redirect=true')
        .map((query) => ({ query, valid: true, statuses: [200, 302, 404] })),
      fc
        .constantFrom(
          'format=XML',
          'format=yaml',
          'format=',
          'redirect=0',
          'redirect=FALSE',
          'date={{today}}',
          'format=json&format=csv',
          'redirect=false&x=1',
        )
        .map((query) => ({ query, valid: false, statuses: [400, 404] })),
    );
  }
  return fc.oneof(
    fc.constantFrom('', 'date={{today}}', 'date={{yesterday}}', 'date=2000-01-01', 'date=9999-12-31').map(ok),
    fc.constantFrom(...DATES).map((date) => no(`date=${date}`)),
    fc.constantFrom('limit=5', 'format=json', 'date={{today}}&date={{today}}').map(no),
  );
}
