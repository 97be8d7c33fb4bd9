import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, type ErrorDetail, fromDomainError } from '#shared/http/errors.ts';
import { isEmailAddress } from '#shared/events/email-address.ts';
import { EVENT_TYPES } from '#shared/events/event-types.ts';
import { InvalidEvents, eventsRequestSchema, type MailEvent, parseEventBatch } from '#shared/events/mail-event.ts';

const receivedAt = new Date('2026-11-21T10:00:00.000Z');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const open = { type: 'open', message: 'msg-1' };

/** The API's answer to a payload's rejection (fails the test if it is accepted). */
function rejection(payload: unknown): ApiError {
  try {
    parseEventBatch(payload, receivedAt);
  } catch (error) {
    const answer = fromDomainError(error);
    if (answer) return answer;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(payload).slice(0, 200)} to be rejected`);
}
const details = (payload: unknown): ErrorDetail[] => rejection(payload).details ?? [];
const accepts = (payload: unknown): MailEvent[] => parseEventBatch(payload, receivedAt);
const at = (offsetMs: number) => new Date(receivedAt.getTime() + offsetMs).toISOString();

const validKeys = Object.fromEntries(
  [
    'id',
    'type',
    'message',
    'timestamp',
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
  ].map((key) => [key, true]),
);

function fieldsOf(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, 'v']));
}

/** zod's own wording, which must never reach a client. */
const ZOD_JARGON = /Invalid input|expected \w+, received|Too (big|small)|Unrecognized key|Invalid (option|string|key)/;

describe('parseEventBatch: accepted events', () => {
  it('gives a single event an evt_ id and the time of receipt', () => {
    const [event, ...rest] = accepts(open);
    expect(rest).toEqual([]);
    expect(event).toEqual({
      id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/),
      type: 'open',
      message: 'msg-1',
      timestamp: '2026-11-21T10:00:00.000Z',
    });
  });

  it('keeps client ids and order in a batch, and gives the others distinct ids', () => {
    const events = accepts({ events: [{ ...open, id: 'client-1' }, open, open] });
    expect(events.map((e) => e.id)).toEqual([
      'client-1',
      expect.stringMatching(/^evt_/),
      expect.stringMatching(/^evt_/),
    ]);
    expect(events[1]!.id).not.toBe(events[2]!.id);
  });

  it('normalises timestamps with an offset or more precision to UTC with milliseconds', () => {
    const [a, b] = accepts({
      events: [
        { ...open, timestamp: '2026-11-21T11:30:00+02:00' },
        { ...open, timestamp: '2026-11-21T09:00:00.123456Z' },
      ],
    });
    expect(a!.timestamp).toBe('2026-11-21T09:30:00.000Z');
    expect(b!.timestamp).toBe('2026-11-21T09:00:00.123Z');
  });

  it('keeps every optional field as sent', () => {
    const full = {
      id: 'a.b_c:d-e',
      type: 'click',
      message: 'msg-1',
      timestamp: '2026-11-21T09:59:00.000Z',
      recipient: 'jane@example.com',
      profile: 'p-42',
      fields: { firstname: 'Jane', age: 42, vip: true },
      tags: ['news', 'nov'],
      ip: '2001:db8::1',
      useragent: 'Mozilla/5.0',
      referer: 'https://mail.example.com/',
      original: 'https://shop.example.com/sale?x=1',
      code: '550',
      extended: '5.1.1',
      description: 'Mailbox unavailable',
    };
    expect(accepts(full)).toEqual([full]);
  });
});

describe('parseEventBatch: rejected events', () => {
  it('answers 400 invalid_events naming each problem in a human sentence', () => {
    const error = rejection({ colour: 'red' });
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_events');
    expect(error.message).toBe('No events were accepted: 3 problems were found (see details).');
    expect(error.details).toEqual([
      { path: 'type', message: 'is required' },
      { path: 'message', message: 'is required' },
      { path: 'colour', message: 'is not a known field' },
    ]);
  });

  it('says "1 problem" for one problem', () => {
    expect(rejection({ ...open, message: '' }).message).toBe(
      'No events were accepted: 1 problem was found (see details).',
    );
  });

  it('lists the allowed types, and does not take test events', () => {
    expect(details({ ...open, type: 'test' })).toEqual([
      { path: 'type', message: 'must be one of sent, delivery, open, click, bounce, failure, unsubscribe, abuse' },
    ]);
  });

  it('names the expected type of a wrongly typed value', () => {
    expect(details({ ...open, message: 42, tags: 'news', fields: [] })).toEqual([
      { path: 'message', message: 'must be a string' },
      { path: 'fields', message: 'must be an object' },
      { path: 'tags', message: 'must be an array' },
    ]);
  });

  it('requires a recipient for sent events only, and reports it along with other problems', () => {
    expect(details({ type: 'sent', message: '' })).toEqual([
      { path: 'message', message: 'must not be empty' },
      { path: 'recipient', message: 'is required for sent events' },
    ]);
    expect(accepts({ type: 'sent', message: 'm', recipient: 'jane@example.com' })).toHaveLength(1);
    expect(accepts({ type: 'bounce', message: 'm' })).toHaveLength(1);
  });

  const text = (length: number, char = 'a') => char.repeat(length);
  it.each([
    ['message', text(128), text(129), 'must be at most 128 characters'],
    ['id', text(64), text(65), "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', ':', '-'"],
    ['profile', text(128), text(129), 'must be at most 128 characters'],
    ['useragent', text(1024), text(1025), 'must be at most 1 KiB (1024 bytes of UTF-8)'],
    ['referer', text(2048), text(2049), 'must be at most 2 KiB (2048 bytes of UTF-8)'],
    ['code', text(1024), text(1025), 'must be at most 1 KiB (1024 bytes of UTF-8)'],
    ['extended', text(1024), text(1025), 'must be at most 1 KiB (1024 bytes of UTF-8)'],
    ['description', text(1024), text(1025), 'must be at most 1 KiB (1024 bytes of UTF-8)'],
    ['description', text(512, 'é'), text(513, 'é'), 'must be at most 1 KiB (1024 bytes of UTF-8)'],
    [
      'original',
      `https://example.com/${text(2028)}`,
      `https://example.com/${text(2029)}`,
      'must be at most 2 KiB (2048 bytes of UTF-8)',
    ],
    ['tags', Array(50).fill('t'), Array(51).fill('t'), 'must have at most 50 items'],
    ['fields', fieldsOf(100), fieldsOf(101), 'must have at most 100 fields'],
  ])('%s: %#: the limit passes, one more fails', (field, fits, tooBig, message) => {
    expect(accepts({ ...open, [field]: fits })[0]![field as keyof MailEvent]).toEqual(fits);
    expect(details({ ...open, [field]: tooBig })).toEqual([{ path: field, message }]);
  });

  it.each([
    ['id', '', "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', ':', '-'"],
    ['id', 'has space', "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', ':', '-'"],
    ['recipient', 'jane', 'must be an e-mail address'],
    ['ip', '256.1.1.1', 'must be an IPv4 or IPv6 address'],
    ['ip', 'example.com', 'must be an IPv4 or IPv6 address'],
    ['original', 'ftp://example.com/file', 'must be an http or https URL'],
    ['original', 'not a url', 'must be an http or https URL'],
    ['timestamp', '2026-11-21T10:00:00', 'must be an ISO 8601 date and time with a zone, e.g. 2026-11-21T10:00:00Z'],
    [
      'timestamp',
      '2026-11-21T10:00:00+0200',
      'must be an ISO 8601 date and time with a zone, e.g. 2026-11-21T10:00:00Z',
    ],
    ['timestamp', '2026-02-30T10:00:00Z', 'must be an ISO 8601 date and time with a zone, e.g. 2026-11-21T10:00:00Z'],
    ['timestamp', 1795255200, 'must be an ISO 8601 date and time with a zone, e.g. 2026-11-21T10:00:00Z'],
  ])('%s %j is rejected', (field, value, message) => {
    expect(details({ ...open, [field]: value })).toEqual([{ path: field, message }]);
  });

  it.each([
    ['ip', '192.0.2.1'],
    ['ip', '::ffff:192.0.2.1'],
    ['original', 'http://example.com'],
    ['machine', true],
    ['machine', false],
    ['timestamp', '2026-11-21T04:00:00-05:00'],
  ])('%s %j is accepted', (field, value) => {
    expect(accepts({ ...open, [field]: value })[0]).toHaveProperty(field);
  });

  it.each([
    [-29 * DAY, 'passes'],
    [-30 * DAY, 'passes'],
    [-30 * DAY - 1, 'must not be more than 30 days old'],
    [-31 * DAY, 'must not be more than 30 days old'],
    [4 * MINUTE, 'passes'],
    [5 * MINUTE, 'passes'],
    [5 * MINUTE + 1, 'must not be more than 5 minutes in the future'],
    [6 * MINUTE, 'must not be more than 5 minutes in the future'],
  ])('timestamp %i ms from receipt: %s', (offset, outcome) => {
    const event = { ...open, timestamp: at(offset) };
    if (outcome === 'passes') expect(accepts(event)[0]!.timestamp).toBe(at(offset));
    else expect(details(event)).toEqual([{ path: 'timestamp', message: outcome }]);
  });

  it('checks field names, values and tags one by one, with their paths', () => {
    expect(
      details({
        ...open,
        fields: {
          'first name': 'Jane',
          [text(65)]: 1,
          [text(64)]: 1,
          bio: text(1025),
          nested: { a: 1 },
          none: null,
          ok: false,
        },
        tags: ['news', '', text(101), text(100)],
      }),
    ).toEqual([
      { path: 'fields.first name', message: "is not a valid field name: use 1 to 64 of A-Z, a-z, 0-9, '_', '.', '-'" },
      { path: `fields.${text(65)}`, message: "is not a valid field name: use 1 to 64 of A-Z, a-z, 0-9, '_', '.', '-'" },
      { path: 'fields.bio', message: 'must be at most 1 KiB (1024 bytes of UTF-8)' },
      { path: 'fields.nested', message: 'must be a string, a number or a boolean' },
      { path: 'fields.none', message: 'must be a string, a number or a boolean' },
      { path: 'tags[1]', message: 'must not be empty' },
      { path: 'tags[2]', message: 'must be at most 100 characters' },
    ]);
  });

  it('counts field values in UTF-8 bytes: 1024 passes, 1025 fails', () => {
    expect(accepts({ ...open, fields: { bio: `${text(1022)}é` } })[0]!.fields).toEqual({ bio: `${text(1022)}é` });
    expect(details({ ...open, fields: { bio: `${text(1023)}é` } })).toEqual([
      { path: 'fields.bio', message: 'must be at most 1 KiB (1024 bytes of UTF-8)' },
    ]);
  });

  it("caps a sent event's fields and tags together at 8 KiB of JSON (its message context): 8192 passes, 8193 fails", () => {
    const sent = { type: 'sent', message: 'm', recipient: 'jane@example.com', tags: ['a'] };
    // {"fields":{"bio":"…"},"tags":["a"]} is 31 bytes around the value.
    expect(accepts({ ...sent, fields: { bio: text(1000) } })).toHaveLength(1);
    const within = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, text(1000)]));
    const bytes = Buffer.byteLength(JSON.stringify({ fields: within, tags: ['a'] }));
    const exactly = { ...within, last: text(8192 - bytes - ',"last":""'.length) };
    expect(Buffer.byteLength(JSON.stringify({ fields: exactly, tags: ['a'] }))).toBe(8192);
    expect(accepts({ ...sent, fields: exactly })).toHaveLength(1);
    expect(details({ ...sent, fields: { ...exactly, last: `${exactly.last}x` } })).toEqual([
      {
        path: 'fields',
        message:
          "together with tags must be at most 8 KiB of JSON in a sent event (the message's context, copied into " +
          'each later event); these are 8193 bytes',
      },
    ]);
    // 50 tags of 100 characters are 5 KiB: with 4 KiB of fields, over.
    const tags = Array.from({ length: 50 }, () => text(100));
    expect(details({ ...sent, tags, fields: { a: text(1000), b: text(1000), c: text(1000), d: text(1000) } })).toEqual([
      expect.objectContaining({ path: 'fields' }),
    ]);
    // Other types leave no context: only the limits of each field and tag apply.
    expect(accepts({ ...open, tags, fields: within })).toHaveLength(1);
  });

  it('rejects a "__proto__" field rather than silently dropping it', () => {
    expect(details(JSON.parse('{"type": "open", "message": "m", "fields": {"__proto__": "x"}}'))).toEqual([
      { path: 'fields.__proto__', message: 'is a reserved name' },
    ]);
  });
});

describe('recipient: e-mail addresses, internationalised ones included (RFC 6531)', () => {
  const sent = (recipient: unknown) => ({ type: 'sent', message: 'm', recipient });

  it.each([
    'jane@example.com',
    'Jane.Doe+news@Example.COM',
    "o'brien@example.ie",
    "a!#$%&'*+/=?^_`{|}~-z@example.com",
    'zoë@example.com',
    'ZOË@EXAMPLE.COM',
    'user@bücher.example',
    'zoë@bücher.example',
    'user@xn--bcher-kva.example',
    'δοκιμή@παράδειγμα.δοκιμή',
    '用户@例子.广告',
    'медведь@с-балалайкой.рф',
    'अजय@डाटा.भारत',
    'θσερ@εχαμπλε.ψομ',
    'Pelé@example.com',
    '😀@example.com',
    'first.last@sub.domain.example.co.uk',
    'x@a-b.example',
    `${'a'.repeat(64)}@example.com`,
    `${'é'.repeat(32)}@example.com`,
    `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`,
  ])('%s is accepted, exactly as written', (recipient) => {
    expect(isEmailAddress(recipient)).toBe(true);
    expect(accepts(sent(recipient))[0]!.recipient).toBe(recipient);
  });

  it.each([
    ['empty', ''],
    ['no @', 'jane.example.com'],
    ['only a local part', 'jane@'],
    ['only a domain', '@example.com'],
    ['two @', 'jane@doe@example.com'],
    ['a space', 'jane doe@example.com'],
    ['spaces around', ' jane@example.com '],
    ['words', 'jane at example.com'],
    ['a tab', 'jane\t@example.com'],
    ['a newline', 'jane@example.com\n'],
    ['a NUL', 'ja\u0000ne@example.com'],
    ['a C1 control', 'ja\u0085ne@example.com'],
    ['a no-break space', 'zoë\u00a0@example.com'],
    ['an ideographic space', '用户\u3000@例子.广告'],
    ['a zero-width space', 'jane\u200b@example.com'],
    ['a bidi override', 'jane\u202e@example.com'],
    ['a byte order mark', '\ufeffjane@example.com'],
    ['a lone surrogate', 'ja\ud800ne@example.com'],
    ['a leading dot', '.jane@example.com'],
    ['a trailing dot', 'jane.@example.com'],
    ['two dots', 'jane..doe@example.com'],
    ['a quoted local part', '"jane doe"@example.com'],
    ['a bracket in the local part', 'jane[1]@example.com'],
    ['a comma', 'jane,doe@example.com'],
    ['a domain without a dot', 'jane@localhost'],
    ['an empty domain label', 'jane@example..com'],
    ['a trailing dot in the domain', 'jane@example.com.'],
    ['a leading dot in the domain', 'jane@.example.com'],
    ['a hyphen starting a label', 'jane@-example.com'],
    ['a hyphen ending a label', 'jane@example-.com'],
    ['an underscore in the domain', 'jane@ex_ample.com'],
    ['a slash in the domain', 'jane@a/b.com'],
    ['a colon in the domain', 'jane@example.com:25'],
    ['a zero-width space in the domain', 'jane@exa\u200bmple.com'],
    ['an ideographic full stop', 'jane@example\u3002com'],
    ['a one-letter top-level domain', 'jane@example.c'],
    ['a numeric top-level domain', 'jane@example.123'],
    ['an IPv4 address', 'jane@192.0.2.1'],
    ['an address literal', 'jane@[192.0.2.1]'],
    ['invalid punycode', 'jane@xn--zz.example'],
    ['a 64-character domain label', `jane@${'b'.repeat(64)}.com`],
    ['a local part of 65 octets', `${'a'.repeat(65)}@example.com`],
    ['a local part of 66 octets in 33 characters', `${'é'.repeat(33)}@example.com`],
    ['255 characters', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`],
    ['255 octets in fewer characters', `${'é'.repeat(32)}@${'ü'.repeat(60)}.${'c'.repeat(63)}.${'d'.repeat(51)}.com`],
    ['10 000 characters', `${'a'.repeat(5000)}@${'b'.repeat(4995)}.com`],
  ])('%s (%j) is rejected', (_why, recipient) => {
    expect(isEmailAddress(recipient)).toBe(false);
    expect(details(sent(recipient))).toEqual([{ path: 'recipient', message: 'must be an e-mail address' }]);
  });

  it.each([42, null, true, ['jane@example.com'], { address: 'jane@example.com' }])('%j is rejected', (recipient) => {
    expect(details(sent(recipient))).toEqual([{ path: 'recipient', message: expect.any(String) }]);
  });

  it('accepts any local part of letters and digits of any script, in atoms separated by dots', () => {
    // (Domains are not generated: IDNA maps or refuses some letters, and mixes of scripts; the
    // international domains above are real ones.)
    const atom = fc.stringMatching(/^[\p{L}\p{N}]{1,12}$/u).filter((s) => s.length > 0);
    const local = fc
      .array(atom, { minLength: 1, maxLength: 3 })
      .map((atoms) => atoms.join('.'))
      .filter((s) => Buffer.byteLength(s) <= 64);
    fc.assert(
      fc.property(local, fc.constantFrom('example.com', 'bücher.example', '例子.广告'), (local, domain) => {
        const recipient = `${local}@${domain}`;
        expect(isEmailAddress(recipient), recipient).toBe(true);
        expect(accepts({ type: 'sent', message: 'm', recipient })[0]!.recipient).toBe(recipient);
      }),
    );
  });
});

describe('parseEventBatch: batches', () => {
  it('prefixes problems with the index of their event, in event order', () => {
    expect(
      details({
        events: [open, { ...open, type: 'opened', timestamp: at(-40 * DAY) }, { type: 'click' }, open],
        extra: true,
      }),
    ).toEqual([
      { path: 'extra', message: 'is not a known field' },
      {
        path: 'events[1].type',
        message: 'must be one of sent, delivery, open, click, bounce, failure, unsubscribe, abuse',
      },
      { path: 'events[1].timestamp', message: 'must not be more than 30 days old' },
      { path: 'events[2].message', message: 'is required' },
    ]);
  });

  it('accepts nothing when one event of many is invalid', () => {
    const error = rejection({ events: [open, open, { ...open, fields: { 'first name': 'Jane' } }] });
    expect(error.details).toEqual([
      {
        path: 'events[2].fields.first name',
        message: "is not a valid field name: use 1 to 64 of A-Z, a-z, 0-9, '_', '.', '-'",
      },
    ]);
  });

  it('rejects a client id repeated within one request', () => {
    expect(
      details({
        events: [
          { ...open, id: 'a' },
          { ...open, id: 'b' },
          { ...open, id: 'a' },
        ],
      }),
    ).toEqual([
      { path: 'events[2].id', message: 'repeats the id of events[0]; an id may appear only once per request' },
    ]);
  });

  it('takes 500 events and refuses 501 with one clear sentence', () => {
    expect(accepts({ events: Array(500).fill(open) })).toHaveLength(500);
    const error = rejection({ events: Array(501).fill(open) });
    expect(error.status).toBe(400);
    expect(error.code).toBe('too_many_events');
    expect(error.message).toBe('A request may hold at most 500 events; this one has 501.');
    expect(error.details).toBeUndefined();
  });

  it('refuses an empty events array', () => {
    const error = rejection({ events: [] });
    expect(error.message).toBe('The events array is empty: send at least one event.');
  });

  it('says what is wrong when events is not an array of objects', () => {
    expect(details({ events: 'open' })).toEqual([{ path: 'events', message: 'must be an array' }]);
    expect(details({ events: [open, 'open', null] })).toEqual([
      { path: 'events[1]', message: 'must be an object' },
      { path: 'events[2]', message: 'must be an object' },
    ]);
  });

  it.each([null, 'open', 42, true, [], [open]])('refuses a body that is not an object: %j', (payload) => {
    const error = rejection(payload);
    expect(error.status).toBe(400);
    expect(error.message).toBe('The body must be one event object or {"events": [...]}.');
  });
});

describe('parseEventBatch: properties', () => {
  const fieldName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).filter((name) => name !== '__proto__');
  const validEvent = fc
    .record(
      {
        id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
        type: fc.constantFrom(...EVENT_TYPES),
        message: fc.string({ minLength: 1, maxLength: 128 }),
        timestamp: fc.integer({ min: -30 * DAY, max: 5 * MINUTE }).map(at),
        recipient: fc.stringMatching(/^[a-z0-9+_-]{1,10}(\.[a-z0-9+_-]{1,10})?@[a-z0-9]{1,20}\.[a-z]{2,6}$/),
        profile: fc.string({ maxLength: 128 }),
        fields: fc.dictionary(
          fieldName,
          fc.oneof(fc.string({ maxLength: 200 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()),
          {
            maxKeys: 10,
          },
        ),
        tags: fc.array(fc.string({ minLength: 1, maxLength: 100 }), { maxLength: 10 }),
        ip: fc.oneof(fc.ipV4(), fc.ipV6()),
        useragent: fc.string({ maxLength: 300 }),
        referer: fc.string({ maxLength: 300 }),
        original: fc.webUrl(),
        code: fc.string({ maxLength: 10 }),
        extended: fc.string({ maxLength: 10 }),
        description: fc.string({ maxLength: 300 }),
      },
      { requiredKeys: ['type', 'message'] },
    )
    .map((event) => (event.type === 'sent' && !event.recipient ? { ...event, recipient: 'jane@example.com' } : event));

  /** Either accepted events, or a 400 ApiError with human details; anything else fails. */
  function outcome(payload: unknown): MailEvent[] | ApiError {
    try {
      return parseEventBatch(payload, receivedAt);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEvents);
      const apiError = fromDomainError(error) as ApiError;
      expect(apiError).toBeInstanceOf(ApiError);
      expect(apiError.status).toBe(400);
      for (const detail of apiError.details ?? []) {
        expect(detail.message).not.toMatch(ZOD_JARGON);
        expect(detail.message.length).toBeGreaterThan(0);
      }
      return apiError;
    }
  }

  it('accepts every valid event unchanged but for the normalised timestamp', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        expect(accepts(event)).toEqual([
          {
            ...event,
            id: event.id ?? expect.stringMatching(/^evt_/),
            timestamp: event.timestamp ?? receivedAt.toISOString(),
          },
        ]);
      }),
    );
  });

  it('accepts every batch of valid events with distinct ids', () => {
    const batch = fc
      .array(validEvent, { minLength: 1, maxLength: 8 })
      .map((events) =>
        events.map((event, i) => (event.id ? { ...event, id: `${i}:${event.id}`.slice(0, 64) } : event)),
      );
    fc.assert(
      fc.property(batch, (events) => {
        expect(accepts({ events })).toHaveLength(events.length);
      }),
    );
  });

  it('answers any JSON value with events or a 400, never another exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.jsonValue().map((value) => ({ events: [value] })),
        ),
        (payload) => {
          outcome(payload);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('answers any JavaScript value with events or a 400, never another exception', () => {
    const anything = fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
    });
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          anything.map((value) => ({ events: [open, value] })),
        ),
        (payload) => {
          outcome(payload);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects mutated events with a 400 and human details, or accepts them', () => {
    const keys = fc.constantFrom(
      'id',
      'type',
      'message',
      'timestamp',
      'recipient',
      'fields',
      'tags',
      'ip',
      'original',
      'other',
    );
    const mutated = fc.tuple(validEvent, keys, fc.jsonValue(), fc.boolean()).map(([event, key, value, remove]) => {
      const copy: Record<string, unknown> = { ...event };
      if (remove) delete copy[key];
      else copy[key] = value;
      return copy;
    });
    fc.assert(
      fc.property(
        fc.oneof(
          mutated,
          fc.array(mutated, { minLength: 1, maxLength: 5 }).map((events) => ({ events })),
        ),
        (payload) => {
          outcome(payload);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects an event with an unknown field, naming it', () => {
    fc.assert(
      fc.property(
        validEvent,
        fc.string({ minLength: 1 }).filter((key) => !(key in validKeys)),
        (event, key) => {
          expect(details({ ...event, [key]: 1 })).toContainEqual({ path: key, message: 'is not a known field' });
        },
      ),
    );
  });
});

describe('eventsRequestSchema as JSON Schema (the OpenAPI source)', () => {
  const jsonSchema = z.toJSONSchema(eventsRequestSchema);

  it('documents one strict event with its required fields, types and limits', () => {
    expect(jsonSchema).toMatchObject({
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'message'],
          properties: {
            type: { enum: [...EVENT_TYPES] },
            message: { minLength: 1, maxLength: 128 },
            fields: { maxProperties: 100 },
            tags: { maxItems: 50, items: { maxLength: 100 } },
            useragent: { maxLength: 1024 },
            recipient: { type: 'string', format: 'idn-email', maxLength: 254 },
          },
        },
        {},
      ],
    });
  });

  it('describes every field of an event', () => {
    const properties = Object.entries(jsonSchema.anyOf?.[0]?.properties ?? {});
    expect(properties.map(([name]) => name).sort()).toEqual(Object.keys(validKeys).sort());
    for (const [name, property] of properties) expect(property, name).toHaveProperty('description');
  });

  it('documents the batch of 1 to 500 events', () => {
    expect(jsonSchema).toMatchObject({
      description: expect.stringContaining('500 events'),
      anyOf: [{}, { additionalProperties: false, properties: { events: { minItems: 1, maxItems: 500 } } }],
    });
  });
});
