/**
 * The SOAP API (docs/soap.md) as PHP shops call it: every operation through PHP's SoapClient in WSDL
 * mode, each answer compared with the REST answer for the same state; faults; a second client (the
 * `soap` npm package); and the envelopes a hostile caller sends.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OPERATIONS } from '../../functions/soap/shapes.ts';
import { call } from '../support/twin-api.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';
import { phpSoap } from '../support/php-soap.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';

/** What PHP gives back for a REST answer: an empty array is no element at all, so no property. */
function withoutEmptyArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyArrays);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => !(Array.isArray(item) && item.length === 0))
      .map(([key, item]) => [key, withoutEmptyArrays(item)]),
  );
}

/** PHP's answer to `operation` equals REST's, and `Client` faults carry REST's error. */
async function sameAsRest(soap: Promise<{ result?: any; fault?: any }>, rest: Promise<{ status: number; body: any }>) {
  const [soapAnswer, restAnswer] = await Promise.all([soap, rest]);
  if (restAnswer.status >= 400) {
    expect(soapAnswer.fault?.code).toBe('soap:Client');
    // PHP reads a fault's detail without the schema: one `details` comes as an object, not a list.
    const { details, ...error } = soapAnswer.fault.detail.error;
    const soapError = details === undefined ? error : { ...error, details: [details].flat() };
    expect(soapError).toEqual(restAnswer.body.error);
  } else {
    expect(soapAnswer.fault).toBeUndefined();
    expect(soapAnswer.result).toEqual(withoutEmptyArrays(restAnswer.body ?? {}));
  }
  return soapAnswer;
}

const { adminKey } = inject('twin');

describe('every operation through PHP SoapClient, as REST answers it', () => {
  let receiver: Loopback;
  let apiKey: string;
  let loopId: string;
  beforeAll(async () => {
    receiver = await startLoopback();
    ({ apiKey } = await createAccount('Soap Ltd'));
  });
  afterAll(() => receiver.close());

  it('has an operation for every account and operator route, named as its record', () => {
    expect(OPERATIONS.map((operation) => operation.name)).toEqual(
      expect.arrayContaining(['Account_create', 'Loop_create', 'Loop_list', 'Event_send', 'Logfile_getUrl']),
    );
  });

  it('Account_create, Account_list, Key_create, Key_revoke', async () => {
    const created = await phpSoap('Account_create', { name: 'Made over SOAP' }, adminKey);
    expect(created.result).toMatchObject({ name: 'Made over SOAP', apiKey: { id: expect.any(String) } });
    const accountId = created.result.id;
    // The first page is stable: accounts made meanwhile by other tests come later.
    await sameAsRest(
      phpSoap('Account_list', { limit: 2 }, adminKey),
      call('GET', '/v1/accounts?limit=2', { key: adminKey }),
    );
    const first = await phpSoap('Account_list', { limit: 1 }, adminKey);
    const cursor = first.result.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    await sameAsRest(
      phpSoap('Account_list', { limit: 1, cursor }, adminKey),
      call('GET', `/v1/accounts?limit=1&cursor=${encodeURIComponent(cursor)}`, { key: adminKey }),
    );
    const key = await phpSoap('Key_create', { accountId }, adminKey);
    expect(key.result).toEqual({ id: expect.any(String), key: expect.any(String) });
    expect(await phpSoap('Key_revoke', { accountId, keyId: key.result.id }, adminKey)).toEqual({ result: {} });
    await sameAsRest(
      phpSoap('Key_revoke', { accountId, keyId: key.result.id }, adminKey),
      call('DELETE', `/v1/accounts/${accountId}/keys/${key.result.id}`, { key: adminKey }),
    );
  });

  it('Loop_create, Loop_verify, Loop_get, Loop_list (paged), Loop_update', async () => {
    const created = await phpSoap(
      'Loop_create',
      { url: `${receiver.origin}/soap/hook.php`, events: ['open'], format: 'json', description: 'über SOAP <&>' },
      apiKey,
    );
    expect(created.result).toMatchObject({
      events: ['open'],
      format: 'json',
      enabled: true,
      status: 'unverified',
      secret: expect.stringMatching(/^whsec_/),
    });
    loopId = created.result.id;
    receiver.serve(`/soap/${created.result.verification.file}`, { body: `${created.result.verification.content}\n` });
    const verified = await phpSoap('Loop_verify', { loopId }, apiKey);
    expect(verified.result.status).toBe('verified');
    await sameAsRest(phpSoap('Loop_get', { loopId }, apiKey), call('GET', `/v1/loops/${loopId}`, { key: apiKey }));

    await phpSoap('Loop_create', { url: 'https://example.com/second', events: ['click', 'bounce'] }, apiKey);
    const page = await sameAsRest(
      phpSoap('Loop_list', { limit: 1 }, apiKey),
      call('GET', '/v1/loops?limit=1', { key: apiKey }),
    );
    const cursor = page.result.nextCursor;
    await sameAsRest(
      phpSoap('Loop_list', { limit: 1, cursor }, apiKey),
      call('GET', `/v1/loops?limit=1&cursor=${encodeURIComponent(cursor)}`, { key: apiKey }),
    );
    await sameAsRest(phpSoap('Loop_list', {}, apiKey), call('GET', '/v1/loops', { key: apiKey }));

    const updated = await phpSoap('Loop_update', { loopId, description: 'changed', enabled: false }, apiKey);
    expect(updated.result).toMatchObject({ description: 'changed', enabled: false });
    expect(await phpSoap('Loop_update', { loopId, enabled: true }, apiKey)).toMatchObject({
      result: { enabled: true },
    });
    await sameAsRest(phpSoap('Loop_get', { loopId }, apiKey), call('GET', `/v1/loops/${loopId}`, { key: apiKey }));
  });

  it('Loop_test, Loop_rotateSecret, Failure_list, Failure_replay', async () => {
    const tested = await phpSoap('Loop_test', { loopId }, apiKey);
    expect(tested.result).toEqual({ delivered: true, status: 200, durationMs: expect.any(Number) });
    const rotated = await phpSoap('Loop_rotateSecret', { loopId }, apiKey);
    expect(rotated.result.secret).toMatch(/^whsec_/);
    await sameAsRest(
      phpSoap('Failure_list', { loopId, limit: 10 }, apiKey),
      call('GET', `/v1/loops/${loopId}/failures?limit=10`, { key: apiKey }),
    );
    await sameAsRest(
      phpSoap('Failure_replay', { loopId }, apiKey),
      call('POST', `/v1/loops/${loopId}/failures/replay`, { key: apiKey }),
    );
    await sameAsRest(
      phpSoap('Failure_replay', { loopId, eventIds: ['evt_a', 'evt_b'] }, apiKey),
      call('POST', `/v1/loops/${loopId}/failures/replay`, { key: apiKey, body: { eventIds: ['evt_a', 'evt_b'] } }),
    );
  });

  it('Event_send: one event or a batch; fields, numbers and booleans reach the receiver exactly', async () => {
    const one = await phpSoap(
      'Event_send',
      {
        id: 'soap-fields-1',
        type: 'open',
        message: 'msg-soap-1',
        tags: ['a'],
        fields: {
          item: [
            { key: 'firstname', value: { string: 'Jane' } },
            { key: 'age', value: { double: 42 } },
            { key: 'score', value: { double: 2.5 } },
            { key: 'vip', value: { boolean: true } },
            { key: 'empty', value: { string: '' } },
          ],
        },
      },
      apiKey,
    );
    expect(one.result).toEqual({ accepted: 1, ids: ['soap-fields-1'] });
    const [delivered] = await receiver.waitFor((request) => request.body.includes('soap-fields-1'));
    const body = JSON.parse(delivered!.body);
    expect(body.fields).toEqual({ firstname: 'Jane', age: 42, score: 2.5, vip: true, empty: '' });
    expect(body.tags).toEqual(['a']);

    const batch = await phpSoap(
      'Event_send',
      {
        events: [
          { type: 'click', message: 'm-2' },
          { type: 'open', message: 'm-3', id: 'soap-batch-3' },
        ],
      },
      apiKey,
    );
    expect(batch.result).toEqual({ accepted: 2, ids: [expect.stringMatching(/^evt_/), 'soap-batch-3'] });
  });

  it('Logfile_list and Logfile_getUrl', async () => {
    await sameAsRest(phpSoap('Logfile_list', {}, apiKey), call('GET', '/v1/logfiles', { key: apiKey }));
    await sameAsRest(
      phpSoap('Logfile_list', { date: '2026-01-02' }, apiKey),
      call('GET', '/v1/logfiles?date=2026-01-02', { key: apiKey }),
    );
    await sameAsRest(
      phpSoap('Logfile_getUrl', { name: 'opens.2026-01-02', format: 'csv' }, apiKey),
      call('GET', '/v1/logfiles/opens.2026-01-02?format=csv&redirect=false', { key: apiKey }),
    );
  });

  it('Loop_delete, then the loop is not_found as in REST', async () => {
    const other = await phpSoap('Loop_create', { url: 'https://example.com/gone', events: ['open'] }, apiKey);
    expect(await phpSoap('Loop_delete', { loopId: other.result.id }, apiKey)).toEqual({ result: {} });
    await sameAsRest(
      phpSoap('Loop_get', { loopId: other.result.id }, apiKey),
      call('GET', `/v1/loops/${other.result.id}`, { key: apiKey }),
    );
  });
});

describe('faults', () => {
  let apiKey: string;
  let otherLoop: { id: string };
  let receiver: Loopback;
  beforeAll(async () => {
    receiver = await startLoopback();
    ({ apiKey } = await createAccount('Soap Faults'));
    const other = await createAccount('Someone Else');
    otherLoop = await createVerifiedLoop(other.apiKey, receiver);
  });
  afterAll(() => receiver.close());

  it.each([
    ['an unknown event type', { url: 'https://example.com/h', events: ['opened'] }],
    ['a url over 2048 characters', { url: `https://example.com/${'a'.repeat(2040)}`, events: ['open'] }],
    ['a private address', { url: 'https://10.1.2.3/hook', events: ['open'] }],
  ])('bad input (%s): soap:Client with REST’s code, message and details', async (_name, body) => {
    const fault = await sameAsRest(
      phpSoap('Loop_create', body, apiKey),
      call('POST', '/v1/loops', { key: apiKey, body }),
    );
    expect(fault.fault.detail.error.code).toBe('invalid_request');
  });

  it('a wrong key, and no key: unauthorized', async () => {
    await sameAsRest(phpSoap('Loop_list', {}, 'not-a-key'), call('GET', '/v1/loops', { key: 'not-a-key' }));
    await sameAsRest(phpSoap('Loop_list', {}), call('GET', '/v1/loops'));
  });

  it('another account’s loop: not_found, as in REST, and unchanged', async () => {
    for (const [operation, rest] of [
      ['Loop_get', call('GET', `/v1/loops/${otherLoop.id}`, { key: apiKey })],
      ['Loop_delete', call('DELETE', `/v1/loops/${otherLoop.id}`, { key: apiKey })],
      ['Loop_rotateSecret', call('POST', `/v1/loops/${otherLoop.id}/secret/rotate`, { key: apiKey })],
    ] as const) {
      const answer = await sameAsRest(phpSoap(operation, { loopId: otherLoop.id }, apiKey), rest);
      expect(answer.fault.detail.error.code).toBe('not_found');
    }
    const update = await phpSoap('Loop_update', { loopId: otherLoop.id, enabled: false }, apiKey);
    expect(update.fault?.detail.error.code).toBe('not_found');
    const other = await call('GET', `/v1/loops/${otherLoop.id}`, { key: inject('twin').adminKey });
    expect(other.status).toBe(403);
  });

  it('an operator operation with an account key, and an account operation with the admin key: forbidden', async () => {
    await sameAsRest(phpSoap('Account_list', {}, apiKey), call('GET', '/v1/accounts', { key: apiKey }));
    await sameAsRest(phpSoap('Loop_list', {}, adminKey), call('GET', '/v1/loops', { key: adminKey }));
  });

  it('a value that is not what the XSD says: the REST route refuses it, naming the field', async () => {
    const body =
      '<tns:Loop_create><tns:url>https://example.com/h</tns:url><tns:events>open</tns:events><tns:enabled>maybe</tns:enabled><tns:colour>red</tns:colour></tns:Loop_create>';
    const auth = `<tns:Authentication><tns:accessToken>${apiKey}</tns:accessToken></tns:Authentication>`;
    const answer = await postSoap(soapEnvelope(body, auth), { action: 'Loop_create' });
    expect(answer.status).toBe(500);
    expect(answer.text).toContain('<tns:code>invalid_request</tns:code>');
    expect(answer.text).toContain('<tns:path>enabled</tns:path>');
    expect(answer.text).toContain('<tns:path>colour</tns:path>');
  });

  it('takes the key from Authorization: Bearer too', async () => {
    const envelope = soapEnvelope('<tns:Loop_list/>');
    const answer = await postSoap(envelope, { action: 'Loop_list', authorization: `Bearer ${apiKey}` });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('Loop_listResponse');
  });
});

// ---- raw envelopes ----

const NS = 'urn:feedback-loops:soap:v1';
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

function soapEnvelope(body: string, header = '') {
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP_ENV}" xmlns:tns="${NS}">${header ? `<soap:Header>${header}</soap:Header>` : ''}<soap:Body>${body}</soap:Body></soap:Envelope>`;
}

async function postSoap(
  body: string,
  options: { action?: string | null; authorization?: string; contentType?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'text/xml; charset=utf-8' };
  if (options.action !== null) headers.soapaction = `"${NS}#${options.action ?? ''}"`;
  if (options.authorization) headers.authorization = options.authorization;
  const response = await fetch(`${inject('twin').apiUrl}/v1/soap`, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
}

describe('malformed envelopes: only soap:Client faults, nothing changed', () => {
  let apiKey: string;
  beforeAll(async () => {
    ({ apiKey } = await createAccount('Soap Fuzz'));
  });
  const auth = () => `<tns:Authentication><tns:accessToken>${apiKey}</tns:accessToken></tns:Authentication>`;
  const create =
    '<tns:Loop_create><tns:url>https://example.com/fuzz</tns:url><tns:events>open</tns:events></tns:Loop_create>';
  const deep = (levels: number) => `${'<tns:description>'.repeat(levels)}x${'</tns:description>'.repeat(levels)}`;

  const cases: [string, () => string, { action?: string | null; contentType?: string }, string][] = [
    ['broken XML', () => soapEnvelope(create, auth()).slice(0, -20), { action: 'Loop_create' }, 'malformed_envelope'],
    [
      'a tag left open',
      () => soapEnvelope(`<tns:Loop_create><tns:url>x</tns:Loop_create>`, auth()),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    [
      'a DOCTYPE with an external entity (XXE)',
      () =>
        `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${soapEnvelope(create.replace('https://example.com/fuzz', '&xxe;'), auth())}`,
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    [
      'an entity bomb',
      () =>
        `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
        soapEnvelope(create.replace('https://example.com/fuzz', '&lol2;'), auth()),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    [
      'an undeclared entity',
      () => soapEnvelope(create.replace('fuzz', '&nope;'), auth()),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    [
      'the SOAP 1.2 envelope namespace',
      () => soapEnvelope(create, auth()).replace(SOAP_ENV, 'http://www.w3.org/2003/05/soap-envelope'),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    [
      'the operation in another namespace',
      () => soapEnvelope(create, auth()).replace(`xmlns:tns="${NS}"`, 'xmlns:tns="urn:elsewhere"'),
      { action: 'Loop_create' },
      'unknown_operation',
    ],
    [
      'an unknown operation',
      () => soapEnvelope('<tns:Loop_explode/>', auth()),
      { action: 'Loop_explode' },
      'unknown_operation',
    ],
    ['a wrong SOAPAction', () => soapEnvelope(create, auth()), { action: 'Loop_delete' }, 'invalid_soap_action'],
    ['no SOAPAction', () => soapEnvelope(create, auth()), { action: null }, 'invalid_soap_action'],
    [
      'JSON instead of XML',
      () => '{"url":"https://example.com/fuzz"}',
      { action: 'Loop_create', contentType: 'application/json' },
      'unsupported_media_type',
    ],
    [
      'more than 1 MiB',
      () =>
        soapEnvelope(
          create.replace(
            '</tns:Loop_create>',
            `<tns:description>${'a'.repeat(1024 * 1024)}</tns:description></tns:Loop_create>`,
          ),
          auth(),
        ),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    [
      'nesting deeper than 64',
      () => soapEnvelope(create.replace('</tns:Loop_create>', `${deep(70)}</tns:Loop_create>`), auth()),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    ['an empty body', () => '', { action: 'Loop_create' }, 'malformed_envelope'],
    [
      'two operations in the Body',
      () => soapEnvelope(create + create, auth()),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
    [
      'an undeclared prefix',
      () => soapEnvelope(create.replace(/tns:/g, 'zz:'), auth()),
      { action: 'Loop_create' },
      'malformed_envelope',
    ],
  ];

  it.each(cases)('%s', async (_name, body, options, code) => {
    const before = (await call('GET', '/v1/loops?limit=200', { key: apiKey })).body;
    const answer = await postSoap(body(), options);
    expect(answer.status).toBe(500);
    expect(answer.text).toContain('<faultcode>soap:Client</faultcode>');
    expect(answer.text).toContain(`<tns:code>${code}</tns:code>`);
    expect(answer.text).not.toMatch(/root:|lollol|at .*\.ts/);
    expect((await call('GET', '/v1/loops?limit=200', { key: apiKey })).body).toEqual(before);
  });

  it('the same envelope, well-formed, does create the loop (the cases fail for their fault only)', async () => {
    const answer = await postSoap(soapEnvelope(create, auth()), { action: 'Loop_create' });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('<tns:url>https://example.com/fuzz</tns:url>');
  });
});
