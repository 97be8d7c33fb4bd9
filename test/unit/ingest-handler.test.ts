import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiEvent } from '#shared/http/api-handler.ts';
import type { QueuedEvent } from '#shared/events/messages.ts';
import type { AuthorizerContext } from '#shared/http/principal.ts';
import { NOW, apiEvent, callers, lambdaContext } from '../support/factories.ts';
import { functionEnvironment } from '../support/function-environment.ts';

const QUEUE_URL = functionEnvironment('ingest').EVENTS_QUEUE_URL!;
const ACCOUNT = callers.account();
const MiB = 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

type Handler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;
let sqsMock: ReturnType<typeof mockClient>;

beforeAll(async () => {
  const { sqs } = await import('#shared/runtime/sqs.ts');
  const { clock } = await import('#shared/runtime/clock.ts');
  vi.spyOn(clock, 'now').mockImplementation(() => new Date(NOW));
  sqsMock = mockClient(sqs);
  ({ handler } = (await import('../../functions/ingest/handler.ts')) as unknown as { handler: Handler });
});

afterAll(() => {
  sqsMock.restore();
  vi.restoreAllMocks();
});

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

const context = lambdaContext('ingest');

interface RequestOptions {
  body?: string | undefined;
  contentType?: string | undefined;
  principal?: AuthorizerContext | undefined;
  isBase64Encoded?: boolean;
}

/** Options left out get a valid default; options given as undefined are left out of the request. */
function request(options: RequestOptions): ApiEvent {
  const contentType = 'contentType' in options ? options.contentType : 'application/json';
  const principal = 'principal' in options ? options.principal : ACCOUNT;
  return apiEvent({
    method: 'POST',
    path: '/v1/events',
    headers: contentType !== undefined ? { 'content-type': contentType } : {},
    caller: principal ?? null,
    isBase64Encoded: options.isBase64Encoded ?? false,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
}

async function post(options: RequestOptions) {
  const response = await handler(request(options), context);
  return { ...response, status: response.statusCode!, json: response.body ? JSON.parse(response.body) : undefined };
}

const postJson = (payload: unknown, options: Omit<RequestOptions, 'body'> = {}) =>
  post({ ...options, body: JSON.stringify(payload) });

/** Every SendMessageBatch call the handler made. */
function batchCalls(): SendMessageBatchRequestEntry[][] {
  return sqsMock.commandCalls(SendMessageBatchCommand).map((call) => {
    expect(call.args[0].input.QueueUrl).toBe(QUEUE_URL);
    return call.args[0].input.Entries ?? [];
  });
}

/** The queued messages, in order of their entry ids (the index of the event in the request). */
function queuedMessages(): QueuedEvent[] {
  const entries = batchCalls().flat();
  return entries
    .toSorted((a, b) => Number(a.Id) - Number(b.Id))
    .map((entry) => JSON.parse(entry.MessageBody!) as QueuedEvent);
}

function expectErrorShape(
  response: { status: number; headers?: Record<string, unknown>; body?: string },
  code?: string,
) {
  expect(response.headers?.['content-type']).toBe(JSON_TYPE);
  const body = JSON.parse(response.body ?? 'null');
  expect(body).toEqual({
    error: expect.objectContaining({ code: expect.stringMatching(/^[a-z]+(_[a-z]+)*$/), message: expect.any(String) }),
  });
  expect(Object.keys(body.error).every((key) => ['code', 'message', 'details'].includes(key))).toBe(true);
  expect(body.error.message.length).toBeGreaterThan(0);
  if (code) expect(body.error.code).toBe(code);
}

const open = (i: number) => ({ type: 'open', message: `msg-${i}` });

describe('POST /v1/events: accepted events are queued', () => {
  it('queues a single event and answers 202 with its assigned id', async () => {
    const response = await postJson({ type: 'sent', message: 'msg-1', recipient: 'jane@example.com', tags: ['news'] });

    expect(response.status).toBe(202);
    expect(response.headers?.['content-type']).toBe(JSON_TYPE);
    expect(response.json).toEqual({ accepted: 1, ids: [expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/)] });
    expect(batchCalls()).toHaveLength(1);
    expect(queuedMessages()).toEqual([
      {
        accountId: ACCOUNT.accountId,
        receivedAt: NOW.toISOString(),
        event: {
          id: response.json.ids[0],
          type: 'sent',
          message: 'msg-1',
          recipient: 'jane@example.com',
          tags: ['news'],
          timestamp: NOW.toISOString(),
        },
      },
    ]);
  });

  it('queues a batch, keeping client ids and order', async () => {
    const events = [
      {
        id: 'client-1',
        type: 'click',
        message: 'm1',
        original: 'https://example.com/a',
        timestamp: '2026-11-21T11:00:00+02:00',
      },
      { type: 'bounce', message: 'm2', code: '550' },
      { id: 'client-3', type: 'open', message: 'm3' },
    ];
    const response = await postJson({ events });

    expect(response.status).toBe(202);
    expect(response.json).toEqual({ accepted: 3, ids: ['client-1', expect.stringMatching(/^evt_/), 'client-3'] });
    const queued = queuedMessages();
    expect(queued.map((message) => message.event.id)).toEqual(response.json.ids);
    expect(
      queued.every((message) => message.accountId === ACCOUNT.accountId && message.receivedAt === NOW.toISOString()),
    ).toBe(true);
    expect(queued[0]!.event).toEqual({ ...events[0], timestamp: '2026-11-21T09:00:00.000Z' });
    expect(queued[1]!.event).toEqual({ ...events[1], id: response.json.ids[1], timestamp: NOW.toISOString() });
  });

  it('queues 500 events in 50 calls of 10, each event exactly once', async () => {
    const events = Array.from({ length: 500 }, (_, i) => open(i));
    const response = await postJson({ events });

    expect(response.status).toBe(202);
    expect(response.json.accepted).toBe(500);
    expect(new Set(response.json.ids).size).toBe(500);
    const calls = batchCalls();
    expect(calls).toHaveLength(50);
    for (const entries of calls) {
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.length).toBeLessThanOrEqual(10);
      expect(new Set(entries.map((entry) => entry.Id)).size).toBe(entries.length);
    }
    const queued = queuedMessages();
    expect(queued).toHaveLength(500);
    expect(queued.map((message) => message.event.message)).toEqual(events.map((event) => event.message));
    expect(queued.map((message) => message.event.id)).toEqual(response.json.ids);
  });

  it('keeps every SQS call under 256 KiB when the events are large', async () => {
    // 8 events of about 100 KiB each: no more than two fit into one 256 KiB batch.
    const fields = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, 'x'.repeat(1000)]));
    const events = Array.from({ length: 8 }, (_, i) => ({ ...open(i), fields }));
    const response = await postJson({ events });

    expect(response.status).toBe(202);
    const calls = batchCalls();
    for (const entries of calls) {
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody!), 0)).toBeLessThanOrEqual(
        256 * 1024,
      );
    }
    expect(queuedMessages().map((message) => message.event.message)).toEqual(events.map((event) => event.message));
  });

  it('accepts a base64-encoded body and a content type with parameters', async () => {
    const body = Buffer.from(JSON.stringify(open(1))).toString('base64');
    const response = await post({ body, isBase64Encoded: true, contentType: 'Application/JSON; charset=UTF-8' });

    expect(response.status).toBe(202);
    expect(queuedMessages().map((message) => message.event.message)).toEqual(['msg-1']);
  });
});

describe('POST /v1/events: refused requests', () => {
  const cases: [string, RequestOptions, number, string][] = [
    ['no content type', { body: JSON.stringify(open(1)), contentType: undefined }, 415, 'unsupported_media_type'],
    ['text/plain', { body: JSON.stringify(open(1)), contentType: 'text/plain' }, 415, 'unsupported_media_type'],
    [
      'a form',
      { body: 'type=open&message=m', contentType: 'application/x-www-form-urlencoded' },
      415,
      'unsupported_media_type',
    ],
    [
      'a body over 1 MiB',
      { body: JSON.stringify({ ...open(1), description: 'x'.repeat(MiB) }) },
      413,
      'payload_too_large',
    ],
    [
      'a base64 body over 1 MiB once decoded',
      { body: Buffer.alloc(MiB + 1, 0x20).toString('base64'), isBase64Encoded: true },
      413,
      'payload_too_large',
    ],
    ['malformed JSON', { body: '{"type": "open", ' }, 400, 'malformed_json'],
    ['an empty body', { body: '' }, 400, 'malformed_json'],
    ['no body', {}, 400, 'malformed_json'],
    ['an invalid event', { body: JSON.stringify({ type: 'opened', message: 'm' }) }, 400, 'invalid_events'],
    [
      'one invalid event in a batch',
      { body: JSON.stringify({ events: [open(1), { type: 'open' }] }) },
      400,
      'invalid_events',
    ],
    [
      '501 events',
      { body: JSON.stringify({ events: Array.from({ length: 501 }, (_, i) => open(i)) }) },
      400,
      'too_many_events',
    ],
    ['the admin key', { body: JSON.stringify(open(1)), principal: callers.admin() }, 403, 'forbidden'],
    ['no key', { body: JSON.stringify(open(1)), principal: callers.none('missing') }, 401, 'unauthorized'],
    ['an unknown key', { body: JSON.stringify(open(1)), principal: callers.none('invalid') }, 401, 'unauthorized'],
    ['no authoriser context', { body: JSON.stringify(open(1)), principal: undefined }, 401, 'unauthorized'],
  ];

  it.each(cases)('answers %s with the error shape and queues nothing', async (_name, options, status, code) => {
    const response = await post(options);

    expect(response.status).toBe(status);
    expectErrorShape(response, code);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('says which events are wrong and where', async () => {
    const response = await postJson({ events: [open(0), { type: 'open', message: 'm', colour: 'red' }] });

    expect(response.status).toBe(400);
    expect(response.json.error.details).toEqual([{ path: 'events[1].colour', message: expect.any(String) }]);
  });

  it('answers 401 before looking at the body', async () => {
    const response = await post({
      body: 'not json',
      contentType: 'text/plain',
      principal: callers.none('missing'),
    });
    expect(response.status).toBe(401);
    expectErrorShape(response, 'unauthorized');
  });
});

describe('POST /v1/events: any body', () => {
  const validEvent = fc.record(
    {
      id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
      type: fc.constantFrom('delivery', 'open', 'click', 'bounce', 'failure', 'unsubscribe', 'abuse'),
      message: fc.string({ minLength: 1, maxLength: 128 }),
      profile: fc.string({ maxLength: 128 }),
      tags: fc.array(fc.string({ minLength: 1, maxLength: 100 }), { maxLength: 5 }),
      ip: fc.ipV4(),
      // Around the allowed window: up to 30 days old and 5 minutes ahead.
      timestamp: fc
        .integer({ min: -31 * 86_400, max: 6 * 60 })
        .map((seconds) => new Date(NOW.getTime() + seconds * 1000).toISOString()),
      code: fc.string({ maxLength: 20 }),
      fields: fc.dictionary(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
        fc.oneof(fc.string(), fc.integer(), fc.boolean()),
        { maxKeys: 5 },
      ),
    },
    { requiredKeys: ['type', 'message'] },
  );

  /** A valid event with one thing changed: a field removed, replaced by anything, or an unknown one added. */
  const mutatedEvent = fc
    .tuple(
      validEvent,
      fc.constantFrom('remove', 'replace', 'add'),
      fc.constantFrom(
        'id',
        'type',
        'message',
        'timestamp',
        'recipient',
        'fields',
        'tags',
        'ip',
        'original',
        'useragent',
        '__proto__',
        'events',
      ),
      fc.jsonValue({ maxDepth: 3 }),
    )
    .map(([event, mutation, key, value]) => {
      const copy: Record<string, unknown> = { ...event };
      if (mutation === 'remove') delete copy[key];
      else
        Object.defineProperty(copy, mutation === 'add' ? `${key}_extra` : key, {
          value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      return copy;
    });

  const payload = fc.oneof(
    validEvent,
    mutatedEvent,
    fc.record({ events: fc.array(fc.oneof(validEvent, mutatedEvent), { maxLength: 25 }) }),
    fc.jsonValue(),
  );

  const body = fc.oneof(
    { weight: 6, arbitrary: payload.map((value) => JSON.stringify(value)) },
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom(
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '{"events":[]}',
      '{"events":null}',
      '"\\ud800"',
      '{"__proto__":{"type":"open"}}',
      '1e999',
      '[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]',
    ),
    fc
      .integer({ min: MiB - 64, max: MiB + 64 })
      .map((size) => JSON.stringify({ type: 'open', message: 'm', description: 'x'.repeat(Math.max(0, size - 60)) })),
    fc.integer({ min: 1, max: 3 * MiB }).map((size) => 'x'.repeat(size)),
  );

  const contentType = fc.oneof(
    { weight: 5, arbitrary: fc.constant('application/json') },
    fc.constantFrom(
      undefined,
      'text/plain',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/jsonx',
      'application/problem+json',
      '',
    ),
    fc.string(),
  );

  const principal = fc.oneof(
    { weight: 5, arbitrary: fc.constant<AuthorizerContext | undefined>(ACCOUNT) },
    fc.constantFrom<AuthorizerContext | undefined>(
      callers.admin(),
      callers.none('missing'),
      // An account context without its account: treated as no valid key.
      { kind: 'account' },
      undefined,
    ),
  );

  const requestOptions = fc
    .record({
      body,
      contentType,
      principal,
      base64: fc.constantFrom('no', 'no', 'no', 'encoded', 'flag-only'),
    })
    .map(({ body, contentType, principal, base64 }): RequestOptions => ({
      body: base64 === 'encoded' ? Buffer.from(body, 'utf8').toString('base64') : body,
      contentType,
      principal,
      isBase64Encoded: base64 !== 'no',
    }));

  it('never answers 5xx, always in the error shape, and queues nothing unless it accepts', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(requestOptions, async (options) => {
        sqsMock.resetHistory();
        const response = await post(options);
        statuses.add(response.status);

        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) expectErrorShape(response);
        if (response.status !== 202) {
          expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
          return;
        }
        const calls = batchCalls();
        expect(calls.every((entries) => entries.length >= 1 && entries.length <= 10)).toBe(true);
        const queued = queuedMessages();
        expect(queued.map((message) => message.event.id)).toEqual(response.json.ids);
        expect(response.json.accepted).toBe(queued.length);
      }),
      { numRuns: 300 },
    );
    // The generators reach both sides: accepted batches and each kind of refusal.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([202, 400, 401, 413, 415]));
  }, 60_000);
});

describe('POST /v1/events: when SQS fails', () => {
  async function expectUnavailable() {
    const response = await postJson({ events: [open(1), open(2)] });
    expect(response.status).toBe(503);
    expectErrorShape(response, 'service_unavailable');
    expect(Number(response.headers?.['retry-after'])).toBeGreaterThan(0);
  }

  it('answers 503 with retry-after when SQS cannot be reached, after one retry', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('socket hang up'));
    await expectUnavailable();
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('answers 503 before the function times out when SQS does not answer (a timeout would be a 500)', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(() => new Promise(() => {}));
    // 2.3 s left: SQS gets 0.3 s, then the answer goes out with 2 s to spare.
    const response = await handler(request({ body: JSON.stringify({ events: [open(1)] }) }), {
      ...context,
      getRemainingTimeInMillis: () => 2300,
    });
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body!).error.code).toBe('service_unavailable');
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('answers 503 when SQS refuses entries on the first try and on the retry', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input) => ({
      Successful: [],
      Failed: input.Entries.map((entry: SendMessageBatchRequestEntry) => ({
        Id: entry.Id,
        Code: 'InternalError',
        SenderFault: false,
      })),
    }));
    await expectUnavailable();
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('does not say "nothing was queued" when SQS took the events but answered too late: each may have been', async () => {
    // SQS takes the batch, but its answer comes after the deadline (the send completed; we gave up).
    sqsMock.on(SendMessageBatchCommand).callsFake(() => new Promise(() => {}));
    const response = await handler(
      request({ body: JSON.stringify({ events: [{ ...open(1), id: 'mine-1' }, open(2)] }) }),
      { ...context, getRemainingTimeInMillis: () => 2300 },
    );
    expect(response.statusCode).toBe(503);
    const { error } = JSON.parse(response.body!);
    expect(error.message).toBe(
      'Not all events could be confirmed as queued just now: 0 were queued, 2 may have been and 0 were not ' +
        '(each is said in details); send again only those that were not.',
    );
    expect(error.message).not.toMatch(/nothing|none/i);
    const [first, second] = error.details;
    expect(first).toEqual({ path: 'events[0]', message: expect.stringMatching(/^may have been queued as mine-1: /) });
    expect(second).toEqual({
      path: 'events[1]',
      message: expect.stringMatching(/^may have been queued as evt_[0-9A-Z]{26}: /),
    });
  });

  it('names the events it did queue when a later batch is refused', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input) =>
      input.Entries.some((entry: SendMessageBatchRequestEntry) => entry.Id === '10')
        ? {
            Successful: [],
            Failed: input.Entries.map((entry: SendMessageBatchRequestEntry) => ({
              Id: entry.Id,
              Code: 'InternalError',
              SenderFault: false,
            })),
          }
        : {
            Successful: input.Entries.map((entry: SendMessageBatchRequestEntry) => ({
              Id: entry.Id,
              MessageId: 'm',
              MD5OfMessageBody: 'x',
            })),
            Failed: [],
          },
    );
    const events = Array.from({ length: 12 }, (_, i) => ({ ...open(i), id: `e-${i}` }));
    const response = await postJson({ events });
    expect(response.status).toBe(503);
    expectErrorShape(response, 'service_unavailable');
    expect(response.json.error.message).toMatch(
      /^Not all events could be confirmed as queued just now: 10 were queued, 0 may have been and 2 were not/,
    );
    expect(response.json.error.details).toEqual([
      ...events
        .slice(0, 10)
        .map((event, i) => ({ path: `events[${i}]`, message: `was queued as ${event.id}: do not send it again` })),
      { path: 'events[10]', message: 'was not queued (e-10): send it again' },
      { path: 'events[11]', message: 'was not queued (e-11): send it again' },
    ]);
  });

  it('retries only the refused entries and answers 202 when the retry succeeds', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'a', MD5OfMessageBody: 'x' }],
        Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
      })
      .resolves({ Successful: [{ Id: '1', MessageId: 'b', MD5OfMessageBody: 'x' }], Failed: [] });
    const response = await postJson({ events: [open(1), open(2)] });

    expect(response.status).toBe(202);
    expect(response.json.accepted).toBe(2);
    const calls = batchCalls();
    expect(calls.map((entries) => entries.map((entry) => entry.Id))).toEqual([['0', '1'], ['1']]);
    expect(JSON.parse(calls[1]![0]!.MessageBody!).event.message).toBe('msg-2');
  });

  it('answers 202 when a rejected call succeeds on the retry', async () => {
    sqsMock.on(SendMessageBatchCommand).rejectsOnce(new Error('throttled')).resolves({ Successful: [], Failed: [] });
    const response = await postJson(open(1));

    expect(response.status).toBe(202);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });
});
