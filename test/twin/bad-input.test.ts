import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EVENT_TYPES } from '#shared/events/event-types.ts';
import { call } from '../support/twin-api.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';

/**
 * Bad input, generated (fast-check), each case a real request to the twin: whatever arrives, the
 * answer is a fitting 4xx in the error shape, never a 5xx, and nothing changes.
 *
 * The fuzz (test/fuzz/, run here by fuzz.test.ts) sends generated bad requests too, and draws
 * many of the same mistakes. What this file has that the fuzz does not:
 *  - a test per route and per kind of mistake, each shrunk by fast-check to the smallest failing
 *    body, so a failure names the route and the field (the fuzz is one seeded run of a thousand
 *    requests, its findings reported by index);
 *  - the size limits pinned at the byte, per route: a body of exactly the limit is read (and refused
 *    for its content, 400), one byte more is 413 (the fuzz pads valid bodies to the limit and goes
 *    over it by a random 1 byte to 64 KiB);
 *  - fixed cases that are in every run, where the fuzz draws such cases at random: unstorable text in
 *    each stored field, a loop id that is not valid percent-encoding under GET, PATCH and DELETE,
 *    the replay route's accepted bodies (none, empty of any type, {}, a list of ids) next to its
 *    refused ones.
 * What the fuzz covers that this file does not is said at the top of fuzz.test.ts.
 */

const KiB = 1024;
const MANAGEMENT_LIMIT = 64 * KiB;
const EVENTS_LIMIT = 1024 * KiB;
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const RUNS = { envelope: 80, fields: 100 };

/** One request with something wrong in it, and the statuses that fit what is wrong. */
interface BadRequest {
  what: string;
  contentType: string | null;
  body: string;
  statuses: number[];
}

type Json = Record<string, unknown>;

const jsonCase = (what: string, value: unknown, statuses = [400]): BadRequest => ({
  what,
  contentType: 'application/json',
  body: JSON.stringify(value),
  statuses,
});
/** `value` with one more member, written by hand so that names such as __proto__ really are sent. */
const withMember = (value: Json, name: string, member: unknown) => {
  const text = JSON.stringify(value);
  return `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(name)}:${JSON.stringify(member)}}`;
};
const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

async function send(method: string, path: string, key: string, request: BadRequest) {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (request.contentType !== null) headers['content-type'] = request.contentType;
  // A Buffer, so that fetch adds no content type of its own.
  const response = await fetch(`${inject('twin').apiUrl}${path}`, {
    method,
    headers,
    body: Buffer.from(request.body, 'utf8'),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), text };
}

/** A fitting 4xx in the error shape, with a snake_case code and no internals. */
function expectRefused(request: BadRequest, answer: Awaited<ReturnType<typeof send>>) {
  const context = `${request.what} (${request.contentType}, ${request.body.length} characters: ${request.body.slice(0, 200)}) → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(request.statuses, context).toContain(answer.status);
  expect(answer.contentType, context).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text);
  expect(Object.keys(body), context).toEqual(['error']);
  expect(
    Object.keys(body.error).every((name) => ['code', 'message', 'details'].includes(name)),
    context,
  ).toBe(true);
  expect(body.error.code, context).toMatch(SNAKE_CASE);
  expect(typeof body.error.message === 'string' && body.error.message.length > 0, context).toBe(true);
  if (body.error.details !== undefined) {
    expect(Array.isArray(body.error.details), context).toBe(true);
    for (const detail of body.error.details)
      expect(detail, context).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  expect(answer.text, context).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

// ---- what can be wrong with any JSON request ----

const WRONG_CONTENT_TYPES = [
  null,
  '',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/html',
  'application/octet-stream',
  'image/png',
  'application/jsonx',
  'json',
];

const MALFORMED = [
  '{',
  '}',
  '{"a":1,}',
  '{a:1}',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '{"a":1} x',
  '{"a" 1}',
  '{"a":1,,"b":2}',
  '{"a":undefined}',
  '{"a":NaN}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":0x10}',
  '{"a":"\\x41"}',
  '{"a":"\u0001"}',
  '/* comment */ {}',
  '"unterminated',
  '[1,2',
  'tru',
  'nul',
  'undefined',
  '+1',
  '\u0000',
];

/**
 * Malformed JSON, empty bodies, valid JSON that is not an object, a wrong content type, a body over
 * `limit` bytes: what can be wrong with a request before its fields are looked at.
 */
function envelopeDefects(valid: fc.Arbitrary<Json>, limit: number): fc.Arbitrary<BadRequest> {
  const malformed = fc.oneof(
    valid.chain((value) => {
      const text = JSON.stringify(value);
      return fc.integer({ min: 1, max: text.length - 1 }).map((cut) => text.slice(0, cut));
    }),
    fc
      .tuple(valid, fc.nat(), fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', "'", 'x', '\n}'))
      .map(([value, at, junk]) => {
        const text = JSON.stringify(value);
        const position = at % (text.length + 1);
        return `${text.slice(0, position)}${junk}${text.slice(position)}`;
      }),
    fc.constantFrom(...MALFORMED),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  );
  const huge = fc.integer({ min: limit + 1, max: limit + 64 * KiB }).chain((size) =>
    fc
      .constantFrom<[string, (size: number) => string, number[]]>(
        ['a JSON object', (n) => `{"name":"${'a'.repeat(n - 11)}"}`, [413]],
        ['a JSON object of two-byte characters', (n) => `{"name":"${'é'.repeat(Math.ceil((n - 11) / 2))}"}`, [413]],
        ['unterminated JSON', (n) => `{"name":"${'a'.repeat(n - 9)}`, [413, 400]],
        ['a JSON array', (n) => `[${'1,'.repeat(Math.ceil((n - 2) / 2))}1]`, [413, 400]],
      )
      .map(([what, make, statuses]): BadRequest => ({
        what: `over ${limit} bytes: ${what}`,
        contentType: 'application/json',
        body: make(size),
        statuses,
      })),
  );
  return fc.oneof(
    malformed
      .filter((text) => !parses(text))
      .map((body): BadRequest => ({ what: 'malformed JSON', contentType: 'application/json', body, statuses: [400] })),
    fc
      .constantFrom('', ' ', '\n', '\t\r\n ')
      .map((body): BadRequest => ({ what: 'an empty body', contentType: 'application/json', body, statuses: [400] })),
    fc
      .oneof(
        fc.constant(null),
        fc
          .jsonValue({ maxDepth: 2 })
          .filter((value) => value === null || typeof value !== 'object' || Array.isArray(value)),
        valid.map((value) => [value]),
        fc.array(valid, { maxLength: 3 }),
      )
      .map((value) => jsonCase('JSON that is not an object', value)),
    fc
      .tuple(valid, fc.constantFrom(...WRONG_CONTENT_TYPES), fc.boolean())
      .map(([value, contentType, asForm]): BadRequest => ({
        what: 'a wrong content type',
        contentType,
        body: asForm
          ? new URLSearchParams(
              Object.entries(value).map(([name, member]): [string, string] => [
                name,
                typeof member === 'string' ? member : JSON.stringify(member),
              ]),
            ).toString()
          : JSON.stringify(value),
        statuses: [415],
      })),
    fc.tuple(valid, fc.integer({ min: 100, max: 20_000 })).map(([value, depth]): BadRequest => {
      // A field holding arrays nested thousands deep: the first member's value is replaced by them.
      const [first] = Object.keys(value);
      const text = JSON.stringify({ ...value, [first!]: 0 }).replace(
        `${JSON.stringify(first)}:0`,
        `${JSON.stringify(first)}:${'['.repeat(depth)}${']'.repeat(depth)}`,
      );
      return { what: `arrays nested ${depth} deep`, contentType: 'application/json', body: text, statuses: [400] };
    }),
    huge,
  );
}

// ---- what can be wrong with a field ----

/** Values that are no string, object, array… as a field needs: `nullable` when null is wrong too. */
const notA = (
  kind: 'string' | 'array' | 'object' | 'boolean',
  nullable: boolean,
  options: { numbers?: boolean } = {},
) =>
  fc.oneof(
    ...(kind !== 'string' ? [fc.string({ maxLength: 10 })] : []),
    ...(options.numbers === false ? [] : [fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })]),
    ...(kind !== 'boolean' ? [fc.boolean()] : []),
    ...(nullable ? [fc.constant(null)] : []),
    ...(kind !== 'array' ? [fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })] : []),
    ...(kind !== 'object'
      ? [fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 })]
      : []),
  );
const longString = (min: number, max = min + 2000) => fc.integer({ min, max }).map((length) => 'x'.repeat(length));
const unknownName = (known: readonly string[]) =>
  fc
    .oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'id',
        'accountId',
        'createdAt',
        'status',
        'secret',
        'NAME',
        'Url',
        'events ',
        '',
      ),
      fc.string({ maxLength: 20 }),
    )
    .filter((name) => !known.includes(name));

/**
 * The valid `base` with one thing wrong: a field of the wrong type or value, an unknown member, or
 * a duplicate member whose last (winning) value is wrong.
 */
function fieldDefects(
  base: fc.Arbitrary<Json>,
  wrong: Record<string, fc.Arbitrary<unknown>>,
  required: string[],
): fc.Arbitrary<BadRequest> {
  const known = Object.keys(wrong);
  const wrongField = fc.constantFrom(...known).chain((field) => wrong[field]!.map((value) => [field, value] as const));
  return fc.oneof(
    fc
      .tuple(base, wrongField)
      .map(([value, [field, bad]]) =>
        jsonCase(`${field} is ${JSON.stringify(bad)?.slice(0, 60)}`, { ...value, [field]: bad }),
      ),
    ...(required.length
      ? [
          fc
            .tuple(base, fc.constantFrom(...required))
            .map(([value, field]) =>
              jsonCase(
                `${field} is missing`,
                Object.fromEntries(Object.entries(value).filter(([name]) => name !== field)),
              ),
            ),
        ]
      : []),
    fc.tuple(base, unknownName(known), fc.jsonValue({ maxDepth: 2 })).map(([value, name, member]): BadRequest => ({
      what: `an unknown member ${JSON.stringify(name)}`,
      contentType: 'application/json',
      body: withMember(value, name, member),
      statuses: [400],
    })),
    fc.tuple(base, wrongField).map(([value, [field, bad]]): BadRequest => ({
      what: `${field} twice, the last wrong`,
      contentType: 'application/json',
      body: withMember(value, field, bad),
      statuses: [400],
    })),
  );
}

// ---- the routes' valid bodies and wrong fields ----

const validAccount = fc.record({
  name: fc.string({ minLength: 1, maxLength: 40 }).filter((name) => name.trim().length > 0),
});
const wrongAccountFields = {
  name: fc.oneof(
    notA('string', true),
    fc.constant(''),
    fc.stringMatching(/^[ \t\n\r\u00a0\u3000]{1,20}$/),
    longString(201),
    fc.string({ minLength: 201, maxLength: 400 }).filter((name) => name.trim().length > 200),
  ),
};

const eventTypes = fc.subarray([...EVENT_TYPES], { minLength: 1 });
const loopFields = {
  url: fc.constantFrom('https://example.com/hooks/elsewhere.php', 'https://example.org/h'),
  events: eventTypes,
  format: fc.constantFrom('form', 'json'),
  description: fc.string({ maxLength: 50 }),
  enabled: fc.boolean(),
};
const validNewLoop = fc.record(loopFields, { requiredKeys: ['url', 'events'] });
const validLoopChange = fc.record(loopFields, { requiredKeys: [] }).filter((change) => Object.keys(change).length > 0);
const BAD_URLS = [
  '',
  'not a url',
  'example.com/hook',
  '/relative/hook',
  'ftp://example.com/hook',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'https://',
  'https://10.0.0.1/hook',
  'https://192.168.1.1/hook',
  'https://169.254.169.254/latest/meta-data/',
  'https://[::ffff:10.0.0.1]/hook',
  'https://[fd00::1]/hook',
  'http://0.0.0.0/hook',
  'https://user:secret@example.com/hook',
  'https://exa mple.com/hook',
];
const wrongLoopFields = {
  url: fc.oneof(
    notA('string', true),
    fc.constantFrom(...BAD_URLS),
    longString(2049 - 'https://example.com/'.length).map((path) => `https://example.com/${path}`),
  ),
  events: fc.oneof(
    notA('array', true),
    fc.constant([]),
    fc
      .tuple(
        eventTypes,
        fc.oneof(
          fc.string({ maxLength: 10 }).filter((type) => !(EVENT_TYPES as readonly string[]).includes(type)),
          fc.constantFrom('test', 'OPEN', 'opens', null, 1, ['open']),
        ),
        fc.nat(),
      )
      .map(([types, bad, at]) => [
        ...types.slice(0, at % (types.length + 1)),
        bad,
        ...types.slice(at % (types.length + 1)),
      ]),
    eventTypes.map((types) => [...types, types[0]]),
  ),
  format: fc.oneof(
    notA('string', false),
    fc.string({ maxLength: 10 }).filter((format) => format !== 'form' && format !== 'json'),
    fc.constantFrom('FORM', 'xml', 'Json'),
  ),
  description: fc.oneof(notA('string', false), longString(1001)),
  enabled: fc.oneof(notA('boolean', false), fc.constantFrom('true', 'false', 'yes', 0, 1)),
};

const eventMessage = fc.stringMatching(/^bad-input-[a-z0-9]{1,12}$/);
const validEvent = fc
  .record(
    {
      type: fc.constantFrom(...EVENT_TYPES),
      message: eventMessage,
      tags: fc.array(fc.constantFrom('news', 'nov'), { maxLength: 2 }),
    },
    { requiredKeys: ['type', 'message'] },
  )
  .map((event): Json => (event.type === 'sent' ? { ...event, recipient: 'jane@example.com' } : event));
const validEvents = fc.oneof(
  validEvent,
  fc.array(validEvent, { minLength: 1, maxLength: 5 }).map((events): Json => ({ events })),
);
const MINUTE = 60_000;
const wrongEventFields = {
  id: fc.oneof(
    notA('string', false, { numbers: false }),
    fc.constantFrom('', 'has space', 'slash/ed', 'é', 'x'.repeat(65), 'a\nb'),
  ),
  type: fc.oneof(
    notA('string', true),
    fc.string({ maxLength: 12 }).filter((type) => !(EVENT_TYPES as readonly string[]).includes(type)),
    fc.constantFrom('test', 'OPEN', 'opens'),
  ),
  message: fc.oneof(notA('string', true), fc.constant(''), longString(129)),
  timestamp: fc.oneof(
    notA('string', false, { numbers: false }),
    fc.constantFrom(
      'yesterday',
      '2026-11-21',
      '2026-11-21T10:00:00',
      '21/11/2026 10:00',
      'T10:00:00Z',
      '2026-13-01T00:00:00Z',
    ),
    // Computed when generated, so the case is wrong at the moment it is sent.
    fc.constantFrom(40 * 24 * 60 * MINUTE, -10 * MINUTE).map((ago) => new Date(Date.now() - ago).toISOString()),
  ),
  recipient: fc.oneof(
    notA('string', false),
    fc.constantFrom('', 'not-an-email', 'jane@', '@example.com', 'jane at example.com'),
  ),
  profile: fc.oneof(notA('string', false), longString(129)),
  fields: fc.oneof(
    notA('object', false),
    fc.constantFrom(
      { 'bad key!': 'x' },
      { '': 'x' },
      { a: null },
      { a: {} },
      { a: [1] },
      { ['k'.repeat(65)]: 1 },
      { a: 'v'.repeat(1025) },
    ),
    fc.constant(Object.fromEntries(Array.from({ length: 101 }, (_, index) => [`f${index}`, index]))),
  ),
  tags: fc.oneof(
    notA('array', false),
    fc.constantFrom([''], [1], [null], ['x'.repeat(101)], [['nested']]),
    fc.constant(Array.from({ length: 51 }, (_, index) => `t${index}`)),
  ),
  ip: fc.oneof(notA('string', false), fc.constantFrom('', '999.1.1.1', '1.2.3', 'localhost', '::g', '203.0.113.7/24')),
  useragent: fc.oneof(notA('string', false), longString(1025)),
  referer: fc.oneof(notA('string', false), longString(2049)),
  original: fc.oneof(
    notA('string', false),
    fc.constantFrom('javascript:alert(1)', 'ftp://example.com/x', 'not a url', '/relative'),
    longString(2049).map((path) => `https://example.com/${path}`),
  ),
  code: fc.oneof(notA('string', false, { numbers: false }), longString(1025)),
  extended: fc.oneof(notA('string', false, { numbers: false }), longString(1025)),
  description: fc.oneof(notA('string', false, { numbers: false }), longString(1025)),
};

/** A bad event in a batch of good ones: the whole request is refused (all or nothing). */
const hiddenInBatch = fc
  .tuple(
    fieldDefects(validEvent, wrongEventFields, ['type', 'message']),
    fc.array(validEvent, { minLength: 1, maxLength: 4 }),
    fc.nat(),
  )
  .map(([bad, good, at]): BadRequest => {
    const position = at % (good.length + 1);
    const events = [
      ...good.slice(0, position).map((event) => JSON.stringify(event)),
      bad.body,
      ...good.slice(position).map((event) => JSON.stringify(event)),
    ];
    return {
      what: `a batch with ${bad.what} at ${position}`,
      contentType: 'application/json',
      body: `{"events":[${events.join(',')}]}`,
      statuses: [400],
    };
  });
const badBatches = fc.oneof(
  notA('array', true).map((events) => jsonCase('events that are not an array', { events })),
  fc.constant(jsonCase('an empty batch', { events: [] })),
  fc
    .array(validEvent, { minLength: 1, maxLength: 3 })
    .map((events) => jsonCase('a batch with another member', { events, type: 'open' })),
  fc
    .array(validEvent, { minLength: 1, maxLength: 3 })
    .chain((events) =>
      fc
        .constantFrom(null, 1, 'open', [events[0]])
        .map((bad) => jsonCase('a batch with a non-object', { events: [...events, bad] })),
    ),
  validEvent.map((event) =>
    jsonCase('a batch repeating a client id', {
      events: [
        { ...event, id: 'same-id' },
        { ...event, id: 'same-id' },
      ],
    }),
  ),
  validEvent.map((event) =>
    jsonCase('a batch of 501 events', { events: Array.from({ length: 501 }, () => event) }, [400, 413]),
  ),
);
const sentWithoutRecipient = validEvent
  .filter((event) => event.type === 'sent')
  .map(({ recipient: _recipient, ...event }) => jsonCase('a sent event without recipient', event));
const eventFieldDefects = fc.oneof(
  { arbitrary: fieldDefects(validEvent, wrongEventFields, ['type', 'message']), weight: 4 },
  { arbitrary: hiddenInBatch, weight: 3 },
  { arbitrary: badBatches, weight: 2 },
  { arbitrary: sentWithoutRecipient, weight: 1 },
);

// ---- the properties ----

describe('bad input is refused with a fitting 4xx and changes nothing', () => {
  let receiver: Loopback;
  let apiKey: string;
  let target: any;
  const adminKey = () => inject('twin').adminKey;

  const loops = async () => {
    const answer = await call('GET', '/v1/loops?limit=200', { key: apiKey });
    expect(answer.status).toBe(200);
    return answer.body.loops;
  };
  const accounts = async () => {
    const all: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await call('GET', `/v1/accounts?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        key: adminKey(),
      });
      expect(page.status).toBe(200);
      all.push(...page.body.accounts);
      cursor = page.body.nextCursor;
    } while (cursor);
    return all;
  };

  beforeAll(async () => {
    receiver = await startLoopback();
    ({ apiKey } = await createAccount('Bad Input Ltd'));
    // Verified loops, so that the scheduled re-check has nothing to touch while the properties run.
    await createVerifiedLoop(apiKey, receiver, { path: '/all/hook.php', events: [...EVENT_TYPES], format: 'json' });
    target = await createVerifiedLoop(apiKey, receiver, { path: '/target/hook.php', events: ['open'] });
  });
  afterAll(() => receiver.close());

  const property = async (
    method: string,
    path: string,
    key: () => string,
    cases: fc.Arbitrary<BadRequest>,
    numRuns: number,
  ) => {
    await fc.assert(
      fc.asyncProperty(cases, async (request) => {
        expectRefused(request, await send(method, path, key(), request));
      }),
      { numRuns },
    );
  };

  describe('POST /v1/accounts (admin key)', () => {
    it.each([
      [
        'that are malformed, empty, not an object, of a wrong content type or too large',
        () => envelopeDefects(validAccount, MANAGEMENT_LIMIT),
        RUNS.envelope,
      ],
      [
        'with a wrong name or an unknown member',
        () => fieldDefects(validAccount, wrongAccountFields, ['name']),
        RUNS.fields,
      ],
    ])('refuses bodies %s, creating no account', async (_name, cases, runs) => {
      const before = await accounts();
      await property('POST', '/v1/accounts', adminKey, cases(), runs);
      expect(await accounts()).toEqual(before);
    });
  });

  describe('POST /v1/loops', () => {
    it.each([
      [
        'that are malformed, empty, not an object, of a wrong content type or too large',
        () => envelopeDefects(validNewLoop, MANAGEMENT_LIMIT),
        RUNS.envelope,
      ],
      [
        'with a wrong field, a missing one or an unknown member',
        () => fieldDefects(validNewLoop, wrongLoopFields, ['url', 'events']),
        RUNS.fields,
      ],
    ])('refuses bodies %s, creating no loop', async (_name, cases, runs) => {
      const before = await loops();
      await property('POST', '/v1/loops', () => apiKey, cases(), runs);
      expect(await loops()).toEqual(before);
    });
  });

  describe('PATCH /v1/loops/{loopId}', () => {
    it.each([
      [
        'that are malformed, empty, not an object, of a wrong content type or too large',
        () => envelopeDefects(validLoopChange, MANAGEMENT_LIMIT),
        RUNS.envelope,
      ],
      [
        'with a wrong field, an unknown member or no change at all',
        () =>
          fc.oneof(
            { arbitrary: fieldDefects(validLoopChange, wrongLoopFields, []), weight: 9 },
            { arbitrary: fc.constant(jsonCase('no change', {})), weight: 1 },
          ),
        RUNS.fields,
      ],
    ])('refuses bodies %s, leaving the loop as it was', async (_name, cases, runs) => {
      const before = await loops();
      const loop = (await call('GET', `/v1/loops/${target.id}`, { key: apiKey })).body;
      await property('PATCH', `/v1/loops/${target.id}`, () => apiKey, cases(), runs);
      expect((await call('GET', `/v1/loops/${target.id}`, { key: apiKey })).body).toEqual(loop);
      expect(await loops()).toEqual(before);
    });
  });

  describe('POST /v1/events', () => {
    it('refuses bad requests and delivers none of their events, not even the good ones in a refused batch', async () => {
      const before = await loops();
      const postsBefore = receiver.posts().length;
      await property('POST', '/v1/events', () => apiKey, envelopeDefects(validEvents, EVENTS_LIMIT), RUNS.envelope);
      await property('POST', '/v1/events', () => apiKey, eventFieldDefects, RUNS.fields);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(receiver.posts().slice(postsBefore)).toEqual([]);
      expect(await loops()).toEqual(before);

      // The loop was listening all along: a good event reaches it.
      const message = `bad-input-control-${Date.now()}`;
      expect((await call('POST', '/v1/events', { key: apiKey, body: { type: 'abuse', message } })).status).toBe(202);
      await receiver.waitFor((request) => request.path === '/all/hook.php' && request.body.includes(message));
    });
  });

  describe('what is not text, or not a path', () => {
    // JSON may spell a lone UTF-16 surrogate (\ud800), which is no Unicode text: it cannot be stored or
    // sent on as UTF-8; SQS refuses C0 controls but tab, LF and CR, and C1 ones (U+0080–U+009F) act on
    // terminals and logs. Each is the client's mistake to be told about (400, naming the field).
    it.each([
      ['POST', '/v1/accounts', 'name', '{"name":"Acme \\ud800"}'],
      ['POST', '/v1/loops', 'description', '{"url":"https://example.com/h","events":["open"],"description":"\\udfff"}'],
      ['PATCH', '/v1/loops/{target}', 'description', '{"description":"x\\ud800y"}'],
      ['POST', '/v1/events', 'tags[0]', '{"type":"open","message":"m","tags":["t\\udfff"]}'],
      ['POST', '/v1/events', 'message', '{"type":"open","message":"m\\u0001x"}'],
      ['POST', '/v1/events', 'description', '{"type":"bounce","message":"m","description":"550 \\u0085x"}'],
      [
        'POST',
        '/v1/events',
        'events[1].useragent',
        '{"events":[{"type":"open","message":"m"},{"type":"open","message":"m","useragent":"\\u009b31m"}]}',
      ],
      [
        'POST',
        '/v1/events',
        'fields.name',
        '{"type":"sent","message":"m","recipient":"j@example.com","fields":{"name":"\\u0080"}}',
      ],
      ['POST', '/v1/events', 'code', '{"type":"bounce","message":"m","code":"5\\u000b50"}'],
      [
        'POST',
        '/v1/loops',
        'description',
        '{"url":"https://example.com/h","events":["open"],"description":"\\u202e\\u009f"}',
      ],
      ['PATCH', '/v1/loops/{target}', 'description', '{"description":"a\\u001bb"}'],
      ['POST', '/v1/accounts', 'name', '{"name":"Acme\\u0090"}'],
    ])(
      '%s %s: text that is not storable in %s is refused with 400 invalid_text naming it, changing nothing',
      async (method, template, field, body) => {
        const path = template.replace('{target}', target.id);
        const before = { loops: await loops(), accounts: await accounts() };
        const request: BadRequest = { what: 'unstorable text', contentType: 'application/json', body, statuses: [400] };
        const answer = await send(method, path, path === '/v1/accounts' ? adminKey() : apiKey, request);
        expectRefused(request, answer);
        expect(JSON.parse(answer.text).error).toMatchObject({ code: 'invalid_text', details: [{ path: field }] });
        expect({ loops: await loops(), accounts: await accounts() }).toEqual(before);
      },
    );

    it('takes tab, line feed and carriage return in text (an SMTP diagnostic may span lines)', async () => {
      const description = '550-5.1.1 The account does not exist.\r\n550 5.1.1\tsee https://example.com';
      const answer = await call('POST', '/v1/events', {
        key: apiKey,
        body: { type: 'bounce', message: 'm', description },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    });

    it('answers a loop id that is not valid percent-encoding with a 4xx, never a 5xx', async () => {
      const before = await loops();
      const answers: string[] = [];
      for (const id of ['%E0%A4%A', '%ED%A0%80', '%', '%zz']) {
        for (const method of ['GET', 'PATCH', 'DELETE']) {
          const response = await fetch(`${inject('twin').apiUrl}/v1/loops/${id}`, {
            method,
            headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
            ...(method === 'PATCH' ? { body: '{"enabled":false}' } : {}),
          });
          const text = await response.text();
          if (response.status < 400 || response.status >= 500)
            answers.push(`${method} /v1/loops/${id} → ${response.status} ${text.slice(0, 100)}`);
        }
      }
      expect(answers).toEqual([]);
      expect(await loops()).toEqual(before);
    });
  });

  describe('the size limits, at the byte', () => {
    const body = (size: number, field: string, extra = '') =>
      `{${extra}"${field}":"${'a'.repeat(size - field.length - extra.length - 7)}"}`;

    it.each([
      ['POST', '/v1/accounts', 'name'],
      ['POST', '/v1/loops', 'description'],
      ['PATCH', '/v1/loops/{target}', 'description'],
    ])(
      '%s %s: 64 KiB is read (and refused for its content, 400), one byte more is 413',
      async (method, template, field) => {
        const path = template.replace('{target}', target.id);
        const key = path === '/v1/accounts' ? adminKey() : apiKey;
        const extra = path === '/v1/loops' ? '"url":"https://example.com/h","events":["open"],' : '';
        for (const [size, status] of [
          [MANAGEMENT_LIMIT, 400],
          [MANAGEMENT_LIMIT + 1, 413],
        ] as const) {
          const request: BadRequest = {
            what: `${size} bytes`,
            contentType: 'application/json',
            body: body(size, field, extra),
            statuses: [status],
          };
          expect(Buffer.byteLength(request.body)).toBe(size);
          expectRefused(request, await send(method, path, key, request));
        }
      },
    );

    it('POST /v1/events: 1 MiB is read (and refused for its content, 400), one byte more is 413', async () => {
      for (const [size, status] of [
        [EVENTS_LIMIT, 400],
        [EVENTS_LIMIT + 1, 413],
      ] as const) {
        const request: BadRequest = {
          what: `${size} bytes`,
          contentType: 'application/json',
          body: body(size, 'description', '"type":"bounce","message":"bad-input-size",'),
          statuses: [status],
        };
        expect(Buffer.byteLength(request.body)).toBe(size);
        expectRefused(request, await send('POST', '/v1/events', apiKey, request));
      }
    });
  });
});

// ---- replaying failures ----

const replayEventId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
const validReplay = fc.record({ eventIds: fc.array(replayEventId, { minLength: 1, maxLength: 5 }) });
const wrongReplayFields = {
  eventIds: fc.oneof(
    notA('array', true),
    fc.constant([]),
    fc.constant(Array.from({ length: 1001 }, (_, index) => `event-${index}`)),
    fc
      .tuple(
        fc.array(replayEventId, { maxLength: 3 }),
        fc.oneof(
          fc.constantFrom('', 'has space', 'slash/ed', 'é', 'x'.repeat(65), 'a\nb', null, 1, true, ['id'], {}),
          fc.string({ minLength: 1, maxLength: 10 }).filter((id) => !/^[A-Za-z0-9._:-]+$/.test(id)),
        ),
        fc.nat(),
      )
      .map(([ids, bad, at]) => [...ids.slice(0, at % (ids.length + 1)), bad, ...ids.slice(at % (ids.length + 1))]),
  ),
};

describe('POST /v1/loops/{loopId}/failures/replay: bad bodies are refused and replay nothing', () => {
  let failing: Loopback;
  let apiKey: string;
  let loop: any;
  let failures: any[];

  const failuresNow = async () => {
    const answer = await call('GET', `/v1/loops/${loop.id}/failures`, { key: apiKey });
    expect(answer.status).toBe(200);
    return answer.body.failures;
  };

  beforeAll(async () => {
    // A loop with a failure to replay, so that a body let through by mistake would show.
    failing = await startLoopback({ answer: answerPosts(() => 500) });
    ({ apiKey } = await createAccount('Bad Replays Ltd'));
    loop = await createVerifiedLoop(apiKey, failing, { path: '/failing/hook.php', events: ['open'] });
    const id = `bad-replay-${Date.now()}`;
    expect((await call('POST', '/v1/events', { key: apiKey, body: { id, type: 'open', message: id } })).status).toBe(
      202,
    );
    const deadline = Date.now() + 30_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      failures = await failuresNow();
    } while (failures.length === 0 && Date.now() < deadline);
    expect(failures).toHaveLength(1);
  });
  afterAll(() => failing.close());

  const refusedAll = async (cases: fc.Arbitrary<BadRequest>, numRuns: number) => {
    const postsBefore = failing.posts().length;
    await fc.assert(
      fc.asyncProperty(cases, async (request) => {
        expectRefused(request, await send('POST', `/v1/loops/${loop.id}/failures/replay`, apiKey, request));
      }),
      { numRuns },
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(failing.posts().length).toBe(postsBefore);
    expect(await failuresNow()).toEqual(failures);
  };

  it.each([
    [
      'that are malformed, not an object, of a wrong content type or too large',
      // No body at all is a valid request (replay everything), so the defects all have one.
      () => envelopeDefects(validReplay, MANAGEMENT_LIMIT).filter((request) => request.body.length > 0),
      RUNS.envelope,
    ],
    ['with wrong eventIds or an unknown member', () => fieldDefects(validReplay, wrongReplayFields, []), RUNS.fields],
  ])('refuses bodies %s', async (_name, cases, runs) => {
    await refusedAll(cases(), runs);
  });

  it.each([
    ['no ids', { eventIds: [] }, 'eventIds', /at least 1/],
    ['1001 ids', { eventIds: Array.from({ length: 1001 }, (_, index) => `e${index}`) }, 'eventIds', /at most 1000/],
    ['an id with a space', { eventIds: ['ok', 'not ok'] }, 'eventIds[1]', /event id/],
    ['an id of 65 characters', { eventIds: ['x'.repeat(65)] }, 'eventIds[0]', /event id/],
    ['a number for an id', { eventIds: [42] }, 'eventIds[0]', /string/],
    ['ids that are not an array', { eventIds: 'evt_1' }, 'eventIds', /array/],
    ['an unknown member', { eventIds: ['a'], all: true }, 'all', /not a known field/],
  ])('says what is wrong with %s (400, naming the field)', async (_name, body, path, message) => {
    const postsBefore = failing.posts().length;
    const answer = await call('POST', `/v1/loops/${loop.id}/failures/replay`, { key: apiKey, body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    expect(answer.body.error.details).toEqual(
      expect.arrayContaining([{ path, message: expect.stringMatching(message) }]),
    );
    expect(failing.posts().length).toBe(postsBefore);
  });

  it('takes no body, an empty one of any type, {} and a list of ids (202)', async () => {
    // Another loop of the account, without failures: these bodies are fine and replay nothing.
    const quiet = await createVerifiedLoop(apiKey, failing, { path: '/quiet/hook.php', events: ['open'] });
    for (const request of [
      {},
      { rawBody: '', contentType: 'text/plain' },
      { rawBody: '', contentType: 'application/json' },
      { rawBody: '{}', contentType: 'application/json' },
      { rawBody: '{"eventIds":["no-such-event"]}', contentType: 'application/json; charset=utf-8' },
    ]) {
      const answer = await call('POST', `/v1/loops/${quiet.id}/failures/replay`, { key: apiKey, ...request });
      expect(answer.status, JSON.stringify(request)).toBe(202);
      expect(answer.body).toEqual({ replayed: 0 });
    }
    expect(await failuresNow()).toEqual(failures);
  });
});
