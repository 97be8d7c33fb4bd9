/**
 * The SOAP layer's own CPU per call, in this process: what POST /v1/soap does besides running the
 * REST route's handler (which is the same code, with the same AWS calls, in both APIs): parse and
 * check the envelope, build the REST request, turn the REST answer into XML. Against what REST's
 * edge does for the same call (parse the JSON body, stringify the answer). Loop_list of 50 loops
 * (the larger answer) and Loop_create (a body and a small answer).
 */
import type { ApiEvent } from '#shared/http/api-handler.ts';
import { parseEnvelope } from '../functions/soap/envelope.ts';
import { OPERATIONS } from '../functions/soap/shapes.ts';
import { restEvent, soapAnswer } from '../functions/soap/soap-call.ts';

const NS = 'urn:feedback-loops:soap:v1';
const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="${NS}"><SOAP-ENV:Header><ns1:Authentication><ns1:accessToken>fl_0123456789abcdef0123456789abcdef</ns1:accessToken></ns1:Authentication></SOAP-ENV:Header><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;

const loop = (i: number) => ({
  id: `loop_01M9${String(i).padStart(22, '0')}`,
  url: `https://example.com/hooks/${i}/copernica.php`,
  events: ['open', 'click', 'bounce'],
  format: 'form',
  description: 'The shop’s receiver',
  enabled: true,
  status: 'verified',
  verification: {
    file: 'fl-00d704c54afe1fdae51a.txt',
    content: 'zwkmjS97Wzb5_wSXHi8MBWBKg7F1Bkbp',
    locations: [`https://example.com/hooks/${i}/fl-00d704c54afe1fdae51a.txt`],
    lastCheckedAt: '2026-12-04T18:57:10.565Z',
  },
  createdAt: '2026-12-04T18:57:10.565Z',
  updatedAt: '2026-12-04T18:57:10.565Z',
});

const soapEvent = {
  requestContext: { http: { method: 'POST', path: '/v1/soap' } },
  headers: {},
} as unknown as ApiEvent;
const principal = { kind: 'account', accountId: 'acc_1', keyId: 'key_1' };

export const CALLS = [
  {
    name: 'Loop_list (50 loops)',
    request: envelope('<ns1:Loop_list><ns1:limit>50</ns1:limit></ns1:Loop_list>'),
    restBody: undefined as string | undefined,
    answer: { loops: Array.from({ length: 50 }, (_, i) => loop(i)), nextCursor: 'eyJwayI6ImFjY18xIn0' },
  },
  {
    name: 'Loop_create',
    request: envelope(
      '<ns1:Loop_create><ns1:url>https://example.com/hooks/copernica.php</ns1:url><ns1:events>open</ns1:events><ns1:events>click</ns1:events><ns1:format>json</ns1:format></ns1:Loop_create>',
    ),
    restBody: JSON.stringify({
      url: 'https://example.com/hooks/copernica.php',
      events: ['open', 'click'],
      format: 'json',
    }),
    answer: { ...loop(1), secret: 'whsec_M8x30ORygdxj3lCRHOe6pgZMUcNn/L1U6AAbRc2FYUQ=' },
  },
];

/** One call's SOAP edge: the envelope in, the REST request built, the REST answer out as XML. */
export function soapEdge(call: (typeof CALLS)[number]) {
  const { body } = parseEnvelope(Buffer.from(call.request));
  const operation = OPERATIONS.find((candidate) => candidate.name === body.name)!;
  const rest = restEvent(soapEvent, operation, body, principal);
  if (rest.body) JSON.parse(rest.body); // what the REST route then does with it, as in restEdge
  return soapAnswer(operation, { statusCode: 200, body: JSON.stringify(call.answer) }).body;
}

/** The same call's REST edge: the JSON body parsed, the answer stringified. */
export function restEdge(call: (typeof CALLS)[number]) {
  if (call.restBody) JSON.parse(call.restBody);
  return JSON.stringify(call.answer);
}
