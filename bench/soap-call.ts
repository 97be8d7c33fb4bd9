/**
 * The whole call's CPU, SOAP against REST, in this process: the soap function's handler and the
 * REST route's own function (api for the loops, ingest for events) answer the same request, with
 * their AWS calls answered by the test kit's in-memory table and aws-sdk-client-mock (SQS, Secrets
 * Manager), and the functions' environment from the synthesized template (bench/stack.ts). A REST
 * call is the authoriser function's invocation (API Gateway caches no answer: resultsCacheTtl 0)
 * and then the route's function with the authoriser's context; the SOAP route has no authoriser,
 * the SOAP function resolves the key itself. Both remember a resolved key in memory, as a warm
 * Lambda does. Loop_list of 50 loops, Loop_create, Event_send of 10 events.
 * CPU is process.cpuUsage (user + system) around the handler only, summed over many calls after a
 * warm-up; what puts the state back between calls (a created loop removed) is not counted.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { ApiEvent } from '#shared/http/api-handler.ts';
import { ACCOUNT_ID, KEY_ID, apiEvent, authorizerEvent, callers, lambdaContext } from '../test/support/factories.ts';
import { accountWithKey } from '../test/support/account-items.ts';
import { FakeTable, type Item } from '../test/support/fake-table.ts';
import { benchStack } from './stack.ts';

export const SOAP_TARGET_RATIO = 2;

type Handler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const NS = 'urn:feedback-loops:soap:v1';
const API_KEY = 'fl_bench0123456789abcdef0123456789abcdef';
const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="${NS}"><SOAP-ENV:Header><ns1:Authentication><ns1:accessToken>${API_KEY}</ns1:accessToken></ns1:Authentication></SOAP-ENV:Header><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;

const soapRequest = (operation: string, body: string) =>
  apiEvent({
    method: 'POST',
    path: '/v1/soap',
    routeKey: 'POST /v1/soap',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${NS}#${operation}"` },
    body: envelope(body),
  });

const restRequest = (routeKey: string, body?: unknown, query?: Record<string, string>) => {
  const [method, path] = routeKey.split(' ') as [string, string];
  return apiEvent({
    method,
    path,
    routeKey,
    caller: callers.account(ACCOUNT_ID, KEY_ID),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    ...(query ? { queryStringParameters: query, rawQueryString: new URLSearchParams(query).toString() } : {}),
  });
};

const EVENTS = Array.from({ length: 10 }, (_, i) => ({
  type: 'click',
  message: `message-${i}`,
  recipient: 'jane@example.com',
  original: 'https://example.com/offer?utm_source=mail',
  tags: ['news', 'nov'],
  fields: { firstname: 'Jane', plan: 'pro', age: 42 },
}));
const soapEvents = EVENTS.map(
  (event) =>
    `<ns1:events><ns1:type>${event.type}</ns1:type><ns1:message>${event.message}</ns1:message><ns1:recipient>${event.recipient}</ns1:recipient>` +
    `<ns1:original>${event.original.replace('&', '&amp;')}</ns1:original>${event.tags.map((tag) => `<ns1:tags>${tag}</ns1:tags>`).join('')}` +
    `<ns1:fields><ns1:item><ns1:key>firstname</ns1:key><ns1:value><ns1:string>Jane</ns1:string></ns1:value></ns1:item>` +
    `<ns1:item><ns1:key>plan</ns1:key><ns1:value><ns1:string>pro</ns1:string></ns1:value></ns1:item>` +
    `<ns1:item><ns1:key>age</ns1:key><ns1:value><ns1:double>42</ns1:double></ns1:value></ns1:item></ns1:fields></ns1:events>`,
).join('');

const CREATE = { url: 'https://receiver.example.com/hooks/copernica.php', events: ['open', 'click'], format: 'json' };

export interface CallFigures {
  name: string;
  soapMs: number;
  /** The authoriser and the route's function. */
  restMs: number;
  /** The route's function alone. */
  routeMs: number;
}

/** CPU ms per call of `run`, over `count` calls after `warmUp`, `reset` (not counted) after each. */
async function cpuPerCall(run: () => Promise<unknown>, reset: () => void, count: number, warmUp = 100) {
  for (let i = 0; i < warmUp; i++) {
    await run();
    reset();
  }
  let micros = 0;
  for (let i = 0; i < count; i++) {
    const before = process.cpuUsage();
    await run();
    const spent = process.cpuUsage(before);
    micros += spent.user + spent.system;
    reset();
  }
  return micros / count / 1000;
}

export async function soapCallBench(count = Number(process.env.BENCH_SOAP_CALLS ?? 2000)): Promise<CallFigures[]> {
  const { environments } = await benchStack();
  const tableName = environments.soap!.TABLE_NAME!;
  Object.assign(process.env, environments.authorizer, environments.api, environments.ingest, environments.soap, {
    MAX_LOOPS_PER_ACCOUNT: '100',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_LAMBDA_LOG_LEVEL: 'ERROR',
    AWS_REGION: 'eu-west-1',
  });
  const [{ dynamo }, { sqs }, { secrets }] = await Promise.all([
    import('#shared/runtime/dynamo.ts'),
    import('#shared/runtime/sqs.ts'),
    import('#shared/runtime/secrets.ts'),
  ]);
  const table = new FakeTable(tableName);
  const dynamoMock = mockClient(dynamo);
  const sqsMock = mockClient(sqs);
  const secretsMock = mockClient(secrets);
  table.install(dynamoMock);
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries?: { Id?: string }[] }) => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}` })),
    Failed: [],
  }));
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'fl_admin-not-used-here' });
  table.put(...accountWithKey(API_KEY));

  const soap = ((await import('../functions/soap/handler.ts')) as unknown as { handler: Handler }).handler;
  const api = ((await import('../functions/api/handler.ts')) as unknown as { handler: Handler }).handler;
  const ingest = ((await import('../functions/ingest/handler.ts')) as unknown as { handler: Handler }).handler;
  const authorizer = (
    (await import('../functions/authorizer/handler.ts')) as unknown as {
      handler: (event: unknown, context: Context) => Promise<{ isAuthorized: boolean }>;
    }
  ).handler;
  const context = lambdaContext('soap');
  /** A REST call as API Gateway makes it: the authoriser, then (if it allows) the route's function. */
  const rest = (route: Handler, event: ApiEvent) => {
    const asked = authorizerEvent({
      method: event.requestContext.http.method,
      path: event.requestContext.http.path,
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    return async () => {
      if (!(await authorizer(asked, context)).isAuthorized) throw new Error('the authoriser refused the bench key');
      return route(event, context);
    };
  };
  const expectOk = (response: APIGatewayProxyStructuredResultV2, what: string) => {
    if (response.statusCode! >= 300)
      throw new Error(`${what}: ${response.statusCode} ${response.body?.slice(0, 1500)}`);
  };

  const snapshot = () => new Map([...table.items].map(([key, item]) => [key, structuredClone(item)]));
  const restore = (saved: Map<string, Item>) => () => {
    if (table.items.size !== saved.size || table.requests.length > 10_000) {
      table.items.clear();
      for (const [key, item] of saved) table.items.set(key, structuredClone(item));
    }
    table.requests.length = 0;
  };
  const beforeLoops = snapshot();
  const figures: CallFigures[] = [];

  // Loop_create: the loop it made is taken away again (not counted), so every call creates the same.
  const createRest = restRequest('POST /v1/loops', CREATE);
  const createSoap = soapRequest(
    'Loop_create',
    `<ns1:Loop_create><ns1:url>${CREATE.url}</ns1:url><ns1:events>open</ns1:events><ns1:events>click</ns1:events><ns1:format>json</ns1:format></ns1:Loop_create>`,
  );
  expectOk(await api(createRest, context), 'REST Loop_create');
  restore(beforeLoops)();
  expectOk(await soap(createSoap, context), 'SOAP Loop_create');
  restore(beforeLoops)();
  figures.push({
    name: 'Loop_create',
    soapMs: await cpuPerCall(() => soap(createSoap, context), restore(beforeLoops), count),
    restMs: await cpuPerCall(rest(api, createRest), restore(beforeLoops), count),
    routeMs: await cpuPerCall(() => api(createRest, context), restore(beforeLoops), count),
  });

  // Loop_list of 50 loops, made through the API.
  for (let i = 0; i < 50; i++)
    expectOk(await api(restRequest('POST /v1/loops', { ...CREATE, url: `${CREATE.url}?n=${i}` }), context), 'seed');
  const withLoops = snapshot();
  const listRest = restRequest('GET /v1/loops', undefined, { limit: '50' });
  const listSoap = soapRequest('Loop_list', '<ns1:Loop_list><ns1:limit>50</ns1:limit></ns1:Loop_list>');
  const listed = await soap(listSoap, context);
  expectOk(listed, 'SOAP Loop_list');
  if ((listed.body!.match(/<tns:loops>|<loops>/g) ?? []).length !== 50 && !listed.body!.includes('loop_')) {
    throw new Error('SOAP Loop_list did not list the loops');
  }
  figures.push({
    name: 'Loop_list (50 loops)',
    soapMs: await cpuPerCall(() => soap(listSoap, context), restore(withLoops), count),
    restMs: await cpuPerCall(rest(api, listRest), restore(withLoops), count),
    routeMs: await cpuPerCall(() => api(listRest, context), restore(withLoops), count),
  });

  // Event_send of 10 events: validated, enriched, sent to the events queue (SQS answered by the mock).
  const sendRest = restRequest('POST /v1/events', { events: EVENTS });
  const sendSoap = soapRequest('Event_send', `<ns1:Event_send>${soapEvents}</ns1:Event_send>`);
  expectOk(await ingest(sendRest, context), 'REST Event_send');
  const sent = await soap(sendSoap, context);
  expectOk(sent, 'SOAP Event_send');
  if (!sent.body!.includes('>10<')) throw new Error(`SOAP Event_send: ${sent.body}`);
  const resetQueue = () => {
    restore(withLoops)();
    sqsMock.resetHistory();
  };
  figures.push({
    name: 'Event_send (10 events)',
    soapMs: await cpuPerCall(() => soap(sendSoap, context), resetQueue, count),
    restMs: await cpuPerCall(rest(ingest, sendRest), resetQueue, count),
    routeMs: await cpuPerCall(() => ingest(sendRest, context), resetQueue, count),
  });

  dynamoMock.restore();
  sqsMock.restore();
  secretsMock.restore();
  const micros = (ms: number) => `${(ms * 1000).toFixed(0).padStart(5)} µs`;
  for (const { name, soapMs, restMs, routeMs } of figures) {
    console.log(
      `${`whole call, ${name}`.padEnd(48)} SOAP ${micros(soapMs)}   REST ${micros(restMs)} (route alone ${micros(routeMs)})   ${(soapMs / restMs).toFixed(2)}×`,
    );
  }
  return figures;
}
