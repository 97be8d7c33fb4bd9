import fc from 'fast-check';
import { EVENT_TYPES } from '#shared/events/event-types.ts';
import { type BodySpec, bytesOf, longText } from './bodies.ts';
import { KiB, LIMIT, NO_SUCH } from './model.ts';
import { notA, trickyText } from './text.ts';

/** The valid bodies of each route that takes one, and the values that make each field wrong. */

const nonBlank = (max: number) => trickyText.filter((text) => text.trim().length > 0 && text.length <= max);

export const accountBody: BodySpec = {
  valid: fc.record({ name: fc.oneof(nonBlank(LIMIT.accountName), fc.constant(longText(LIMIT.accountName, 'n'))) }),
  wrong: {
    name: fc.oneof(notA('string'), fc.constantFrom('', '   ', '\t\n', longText(LIMIT.accountName + 1, 'n'))),
  },
  required: ['name'],
  limit: LIMIT.managementBody,
  text: ['name'],
};

const eventTypes = fc.subarray([...EVENT_TYPES], { minLength: 1 });
const loopFields = {
  url: fc.oneof(
    fc.stringMatching(/^[a-z0-9]{1,12}$/).map((name) => `{{receiver}}/fz/${name}.php`),
    fc.constant(`{{url:${LIMIT.url}}}`),
  ),
  events: eventTypes,
  format: fc.constantFrom('form', 'json'),
  description: fc.oneof(trickyText, fc.constant(longText(LIMIT.description, 'd'))),
  enabled: fc.boolean(),
};
const BAD_URLS = [
  '',
  'not a url',
  'example.com/hook',
  '/relative',
  'ftp://example.com/x',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'https://',
  'https://10.0.0.1/h',
  'https://169.254.169.254/latest/meta-data/',
  'https://[::ffff:10.0.0.1]/h',
  'https://[fd00::1]/h',
  'http://0.0.0.0/h',
  'https://user:pw@example.com/h',
  'https://exa mple.com/h',
  `https://example.com/${'u'.repeat(LIMIT.url)}`,
  `{{url:${LIMIT.url + 1}}}`,
];
const wrongLoopFields = {
  url: fc.oneof(notA('string'), fc.constantFrom(...BAD_URLS)),
  events: fc.oneof(
    notA('array'),
    fc.constantFrom([], ['test'], ['OPEN'], ['open', 'open'], [null], [['open']], ['open', 1]),
  ),
  format: fc.oneof(notA('string'), fc.constantFrom('xml', 'FORM', 'Json', '')),
  description: fc.oneof(notA('string'), fc.constant(longText(LIMIT.description + 1, 'd'))),
  enabled: fc.oneof(notA('boolean'), fc.constantFrom('true', 'false', 0, 1)),
};
export const newLoopBody: BodySpec = {
  valid: fc.record(loopFields, { requiredKeys: ['url', 'events'] }),
  wrong: wrongLoopFields,
  required: ['url', 'events'],
  limit: LIMIT.managementBody,
  text: ['description'],
};
export const loopChangeBody: BodySpec = {
  valid: fc.record(loopFields, { requiredKeys: [] }).filter((change) => Object.keys(change).length > 0),
  wrong: wrongLoopFields,
  required: [],
  limit: LIMIT.managementBody,
  text: ['description'],
};

/** Events carry `{{msg}}` (a marker of the request) so that a delivery can be traced to its request: every event a valid body makes must. */
const event = fc
  .record(
    {
      type: fc.constantFrom(...EVENT_TYPES),
      message: fc.constant('{{msg}}'),
      id: fc.stringMatching(/^fz[A-Za-z0-9._:-]{1,20}$/),
      tags: fc.array(fc.oneof(trickyText.filter((t) => t.length > 0 && t.length <= LIMIT.tag)), { maxLength: 3 }),
      profile: fc.constant('p1'),
      fields: fc.dictionary(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/),
        fc.oneof(trickyText, fc.integer(), fc.boolean()),
        { maxKeys: 4 },
      ),
      useragent: trickyText,
      ip: fc.constantFrom('203.0.113.7', '2001:db8::1', '::1', '0.0.0.0'),
      original: fc.constantFrom('https://example.com/a?b=c', 'http://example.com/'),
    },
    { requiredKeys: ['type', 'message'] },
  )
  .map((value) => (value.type === 'sent' ? { ...value, recipient: 'jane@example.com' } : value));
/** A `sent` whose `{"fields":{…},"tags":[…]}` takes exactly `bytes` (ASCII, so characters are bytes). */
function sentWithContext(bytes: number) {
  const tags = ['fz'];
  const fields: Record<string, string> = {};
  const size = () => JSON.stringify({ fields, tags }).length;
  for (let index = 0; size() + 1000 < bytes; index++) fields[`f${index}`] = 'v'.repeat(900);
  fields.last = '';
  fields.last = 'v'.repeat(bytes - size());
  return { type: 'sent', message: '{{msg}}-context', recipient: 'jane@example.com', fields, tags };
}

/** One event at every upper bound of docs/api.md §4 at once. */
const eventAtLimits = fc.constantFrom('open', 'bounce').map((type) => ({
  type,
  // The marker is as long as its token, so this is exactly at the limit.
  message: `{{msg}}${'m'.repeat(LIMIT.message - '{{msg}}'.length)}`,
  id: `fz${'i'.repeat(LIMIT.id - 2)}`,
  profile: 'p'.repeat(LIMIT.profile),
  tags: Array.from({ length: LIMIT.tags }, (_, index) => `${index}`.padEnd(LIMIT.tag, 't')),
  fields: Object.fromEntries(
    Array.from({ length: LIMIT.fields }, (_, index) => [
      `${index}`.padEnd(LIMIT.fieldName, 'f'),
      bytesOf(LIMIT.fieldValueBytes / 4),
    ]),
  ),
  useragent: bytesOf(LIMIT.useragentBytes),
  referer: bytesOf(LIMIT.refererBytes),
  original: `https://example.com/${'o'.repeat(LIMIT.originalBytes - 20)}`,
  code: bytesOf(LIMIT.smtpBytes),
  extended: bytesOf(LIMIT.smtpBytes),
  description: bytesOf(LIMIT.smtpBytes),
}));
export const eventsBody: BodySpec = {
  valid: fc.oneof(
    { weight: 20, arbitrary: event },
    { weight: 20, arbitrary: fc.array(event, { minLength: 1, maxLength: 5 }).map((events) => ({ events })) },
    { weight: 4, arbitrary: eventAtLimits },
    { weight: 2, arbitrary: fc.constant(sentWithContext(LIMIT.contextBytes)) },
    // Abuse events: no fixture loop takes them, so 500 of them are logged but not delivered. Rare (a few
    // in 10,000 requests): each is hundreds of emulator calls down the pipeline, which a busy twin feels.
    {
      weight: 1,
      arbitrary: fc.constant({
        events: Array.from({ length: LIMIT.events }, () => ({ type: 'abuse', message: '{{msg}}' })),
      }),
    },
  ),
  wrong: {
    id: fc.oneof(notA('string', true), fc.constantFrom('', 'has space', 'é', 'x'.repeat(LIMIT.id + 1))),
    type: fc.oneof(notA('string'), fc.constantFrom('test', 'OPEN', 'opens', '')),
    message: fc.oneof(notA('string'), fc.constantFrom('', 'm'.repeat(LIMIT.message + 1))),
    timestamp: fc.oneof(
      notA('string', true),
      fc.constantFrom(
        'yesterday',
        '2026-11-21',
        '2026-11-21T10:00:00',
        '2026-13-01T00:00:00Z',
        '1970-01-01T00:00:00Z',
        '2999-01-01T00:00:00Z',
      ),
    ),
    recipient: fc.oneof(
      notA('string', true),
      fc.constantFrom('', 'jane@', '@example.com', `${'l'.repeat(65)}@example.com`),
    ),
    profile: fc.oneof(notA('string', true), fc.constant('p'.repeat(LIMIT.profile + 1))),
    fields: fc.oneof(
      notA('object', true),
      fc.constantFrom(
        { 'bad key!': 'x' },
        { '': 'x' },
        { a: null },
        { a: {} },
        { a: [1] },
        { ['k'.repeat(LIMIT.fieldName + 1)]: 1 },
      ),
      fc.constant({ a: bytesOf(LIMIT.fieldValueBytes + 1) }),
      fc.constant(Object.fromEntries(Array.from({ length: LIMIT.fields + 1 }, (_, index) => [`f${index}`, index]))),
    ),
    tags: fc.oneof(
      notA('array', true),
      fc.constantFrom([''], [1], [null], ['t'.repeat(LIMIT.tag + 1)]),
      fc.constant(Array.from({ length: LIMIT.tags + 1 }, (_, index) => `t${index}`)),
    ),
    ip: fc.oneof(notA('string', true), fc.constantFrom('', '999.1.1.1', '1.2.3', 'localhost', '203.0.113.7/24')),
    useragent: fc.oneof(notA('string', true), fc.constant(bytesOf(LIMIT.useragentBytes + 1))),
    referer: fc.oneof(notA('string', true), fc.constant(bytesOf(LIMIT.refererBytes + 1))),
    original: fc.oneof(
      notA('string', true),
      fc.constantFrom('javascript:alert(1)', 'not a url', `https://example.com/${'o'.repeat(LIMIT.originalBytes)}`),
    ),
    code: fc.oneof(notA('string', true), fc.constant(bytesOf(LIMIT.smtpBytes + 1))),
    events: fc.oneof(
      notA('array'),
      fc.constant([]),
      fc.constant(Array.from({ length: LIMIT.events + 1 }, () => ({ type: 'abuse', message: 'fz-over' }))),
      fc.constant([
        { type: 'open', message: 'fz-dup', id: 'fz-same' },
        { type: 'open', message: 'fz-dup', id: 'fz-same' },
      ]),
      // A sent whose context (fields and tags) is over the cap, by a byte or by far.
      fc.constantFrom(1, 2 * KiB).map((over) => [sentWithContext(LIMIT.contextBytes + over)]),
    ),
  },
  required: ['type', 'message'],
  limit: LIMIT.eventsBody,
  text: ['useragent', 'profile'],
};

export const replayBody: BodySpec = {
  valid: fc.oneof(
    fc.constant({}),
    fc.record({ eventIds: fc.array(fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), { minLength: 1, maxLength: 5 }) }),
    fc.constant({ eventIds: Array.from({ length: LIMIT.replayIds }, (_, index) => `fz-${index}`) }),
  ),
  wrong: {
    eventIds: fc.oneof(
      notA('array', true),
      fc.constantFrom([], [''], [1], ['has space'], ['x'.repeat(LIMIT.id + 1)], [NO_SUCH.loop, null]),
      fc.constant(Array.from({ length: LIMIT.replayIds + 1 }, (_, index) => `fz-${index}`)),
    ),
  },
  required: [],
  limit: LIMIT.managementBody,
  text: [],
  emptyIsValid: true,
};

/** `POST /v1/sources/ses`: names only account A uses, so a valid request never meets another's (409). */
export const sesSourceBody: BodySpec = {
  valid: fc.record({ configurationSet: fc.stringMatching(/^fz-a-[a-z0-9]{12}$/) }),
  wrong: {
    configurationSet: fc.oneof(
      notA('string'),
      fc.constantFrom('', 'has space', 'x'.repeat(65), 'a/b', 'set.name', 'ñ'),
    ),
  },
  required: ['configurationSet'],
  limit: LIMIT.managementBody,
  text: [],
};
