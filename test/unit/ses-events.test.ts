import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_ID_PATTERN } from '#shared/events/mail-event.ts';
import { eventId, readSesEvent, type SesReading } from '#shared/events/ses-events.ts';

/** The AWS documentation's example SES events, as EventBridge delivers them (examples/ses/). */
const example = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../examples/ses/${name}.json`, import.meta.url), 'utf8')) as {
    detail: Record<string, unknown> & { mail: Record<string, unknown> };
  };
/** A time of receipt near the example's own (ingest refuses events older than 30 days). */
const receivedNear = (detail: { mail: Record<string, unknown> }) =>
  new Date(Date.parse(String(detail.mail.timestamp)) + 60 * 60 * 1000);
const read = (detail: unknown, receivedAt = new Date('2026-01-01T00:00:00Z')) => readSesEvent(detail, receivedAt);
const eventsOf = (reading: SesReading) => {
  if (reading.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(reading)}`);
  return reading.events.map(({ id: _id, ...rest }) => rest);
};
const MESSAGE = 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000';
const TAGS = ['campaign:nov'];

describe('readSesEvent: the AWS documentation examples', () => {
  const cases: [string, object[]][] = [
    ['send', [{ type: 'sent', recipient: 'recipient@example.com', tags: TAGS, timestamp: '2018-10-08T14:05:45.000Z' }]],
    ['delivery', [{ type: 'delivery', recipient: 'recipient@example.com', timestamp: '2016-10-19T23:21:04.133Z' }]],
    [
      'open',
      [
        {
          type: 'open',
          recipient: 'recipient@example.com',
          timestamp: '2017-08-09T22:00:40.297Z',
          ip: '192.0.2.1',
          useragent:
            'Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60',
        },
      ],
    ],
    [
      'click',
      [
        {
          type: 'click',
          recipient: 'recipient@example.com',
          timestamp: '2017-08-09T23:51:25.570Z',
          ip: '192.0.2.1',
          useragent: expect.stringContaining('Chrome/60') as unknown,
          original: 'http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html',
          tags: ['campaign:nov', 'samplekey0:samplevalue0', 'samplekey1:samplevalue1'],
        },
      ],
    ],
    [
      'bounce',
      [
        {
          type: 'bounce',
          recipient: 'recipient@example.com',
          timestamp: '2017-08-05T00:41:02.669Z',
          code: '550',
          extended: '5.1.1',
          description: 'smtp; 550 5.1.1 user unknown',
        },
        {
          type: 'bounce',
          recipient: 'recipient2@example.com',
          timestamp: '2017-08-05T00:41:02.669Z',
          code: '554',
          extended: '5.0.0',
          description: 'smtp; 554 5.0.0 Service unavailable',
        },
      ],
    ],
    [
      'complaint',
      [
        {
          type: 'abuse',
          recipient: 'recipient@example.com',
          timestamp: '2017-08-05T00:41:02.669Z',
          description: 'abuse',
        },
      ],
    ],
    [
      'reject',
      [
        {
          type: 'failure',
          recipient: 'recipient@example.com',
          timestamp: '2016-10-14T17:38:15.211Z',
          description: 'Bad content',
        },
      ],
    ],
    [
      'rendering-failure',
      [
        {
          type: 'failure',
          recipient: 'recipient@example.com',
          timestamp: '2018-01-22T18:43:06.197Z',
          description: "Attribute 'attributeName' is not present in the rendering data.",
        },
      ],
    ],
    [
      'subscription',
      [
        {
          type: 'unsubscribe',
          recipient: 'recipient@example.com',
          timestamp: '2022-01-12T01:00:17.910Z',
          description: 'ContactListName',
          tags: ['topic:ExampleTopicName'],
        },
      ],
    ],
  ];
  it.each(cases)('%s', (name, expected) => {
    const { detail } = example(name);
    const reading = read(detail, receivedNear(detail));
    expect(reading).toMatchObject({
      kind: 'events',
      messageId: MESSAGE,
      accountTag: 'acc_EXAMPLE',
      configurationSet: 'ConfigSet',
    });
    expect(eventsOf(reading)).toEqual(expected.map((event) => ({ message: MESSAGE, ...event })));
  });

  it('leaves out a delivery delay: SES is still trying', () => {
    const { detail } = example('delivery-delay');
    expect(read(detail, receivedNear(detail))).toMatchObject({ kind: 'ignored', messageId: MESSAGE });
  });

  it('leaves out a subscription change that opts in', () => {
    const { detail } = example('subscription');
    const subscription = detail.subscription as Record<string, unknown>;
    const optIn = {
      ...detail,
      subscription: {
        ...subscription,
        newTopicPreferences: subscription.oldTopicPreferences,
        oldTopicPreferences: subscription.newTopicPreferences,
      },
    };
    expect(read(optIn, receivedNear(detail))).toMatchObject({ kind: 'ignored' });
  });
});

describe('readSesEvent: event ids', () => {
  it('derives the same ids from the same SES event, and ids that fit EVENT_ID_PATTERN', () => {
    const { detail } = example('bounce');
    const first = read(detail, receivedNear(detail));
    const again = read(structuredClone(detail), new Date(receivedNear(detail).getTime() + 1000));
    const ids = (reading: SesReading) => (reading.kind === 'events' ? reading.events.map((event) => event.id) : []);
    expect(ids(first)).toHaveLength(2);
    expect(ids(again)).toEqual(ids(first));
    for (const id of ids(first)) expect(id).toMatch(EVENT_ID_PATTERN);
    expect(new Set(ids(first)).size).toBe(2);
  });

  it.each([
    ['message id', ['m2', 'Open', 'a@example.com', 't']],
    ['type', ['m1', 'Click', 'a@example.com', 't']],
    ['recipient', ['m1', 'Open', 'b@example.com', 't']],
    ['timestamp', ['m1', 'Open', 'a@example.com', 't2']],
  ] as const)('differs when the %s differs', (_what, args) => {
    expect(eventId(args[0], args[1], args[2], args[3])).not.toBe(eventId('m1', 'Open', 'a@example.com', 't'));
  });
});

describe('readSesEvent: what it cannot read', () => {
  const { detail: send } = example('send');
  const at = receivedNear(send);
  const mail = send.mail;
  const many = Array.from({ length: 51 }, (_, i) => `r${i}@example.com`);
  const cases: [string, unknown, RegExp][] = [
    ['not an object', 'Send', /not an object/],
    ['no eventType', { ...send, eventType: undefined }, /no eventType/],
    ['an unknown eventType', { ...send, eventType: 'Teleport' }, /"Teleport" is not one SES publishes/],
    ['no mail', { eventType: 'Send' }, /mail.messageId/],
    ['no destination', { ...send, mail: { ...mail, destination: undefined } }, /mail.destination is missing/],
    ['an empty destination', { ...send, mail: { ...mail, destination: [] } }, /mail.destination is missing/],
    ['51 recipients', { ...send, mail: { ...mail, destination: many } }, /51 recipients/],
    [
      'a recipient that is not an address',
      { ...send, mail: { ...mail, destination: ['nobody'] } },
      /invalid events: events\[0\].recipient/,
    ],
    ['an open without its open object', { ...send, eventType: 'Open' }, /without its open object/],
    [
      'a bounce without recipients',
      { ...send, eventType: 'Bounce', bounce: { bounceType: 'Permanent' } },
      /bouncedRecipients/,
    ],
    ['an open from a non-address', { ...send, eventType: 'Open', open: { ipAddress: 'here' } }, /events\[0\].ip/],
    ['a timestamp of long ago', { ...send, mail: { ...mail, timestamp: '2001-01-01T00:00:00Z' } }, /30 days old/],
  ];
  it.each(cases)('%s', (_name, detail, reason) => {
    const reading = read(detail, at);
    expect(reading.kind).toBe('unreadable');
    expect(reading.kind === 'unreadable' && reading.reason).toMatch(reason);
  });

  it('takes 50 recipients, one event each', () => {
    const fifty = many.slice(0, 50);
    expect(eventsOf(read({ ...send, mail: { ...mail, destination: fifty } }, at)).map((e) => e.recipient)).toEqual(
      fifty,
    );
  });

  it('takes the address of "Name <address>", and huge headers as they come (it reads none)', () => {
    const headers = { subject: 'x'.repeat(100_000) };
    const reading = read(
      { ...send, mail: { ...mail, destination: ['Jane <jane@example.com>'], commonHeaders: headers } },
      at,
    );
    expect(eventsOf(reading)[0]?.recipient).toBe('jane@example.com');
  });

  it('leaves out tags that do not fit ours, and cuts a long user agent to 1 KiB', () => {
    const tags = { ...(mail.tags as object), long: ['v'.repeat(200)], ok: ['yes'] };
    expect(eventsOf(read({ ...send, mail: { ...mail, tags } }, at))[0]?.tags).toEqual(['campaign:nov', 'ok:yes']);
    const { detail: open } = example('open');
    const long = { ...open, open: { ...(open.open as object), userAgent: 'é'.repeat(2000) } };
    const useragent = eventsOf(read(long, receivedNear(open)))[0]?.useragent ?? '';
    expect(Buffer.byteLength(useragent)).toBeLessThanOrEqual(1024);
  });
});
