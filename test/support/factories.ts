/**
 * Builders for what the functions are invoked with (SQS batches, HTTP API payload 2.0 requests,
 * authoriser requests, scheduled events, Lambda contexts) and for the records they work on (mail
 * events, loops, queued messages). Each gives a valid default and takes overrides, so a test states
 * only what matters to it.
 */
import { randomUUID } from 'node:crypto';
import type {
  APIGatewayRequestAuthorizerEventV2,
  Context,
  SQSEvent,
  SQSRecord,
  SQSRecordAttributes,
  ScheduledEvent,
} from 'aws-lambda';
import type { QueuedDelivery, QueuedEvent } from '#shared/events/messages.ts';
import type { MailEvent } from '#shared/events/mail-event.ts';
import type { ApiEvent } from '#shared/http/api-handler.ts';
import type { AuthorizerContext } from '#shared/http/principal.ts';
import type { LoopRecord } from '#shared/loops/loop.ts';

export const AWS_ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const ACCOUNT_ID = 'acc_01JDTEST0000000000000000AA';
export const KEY_ID = 'key_01JDTEST0000000000000000AA';
export const LOOP_ID = 'loop_01JDTEST000000000000000AA';
/** A fixed moment for tests that need one; the events and loops below are made at or before it. */
export const NOW = new Date('2026-11-21T10:00:00.000Z');

// ---- Lambda ----

/** The Lambda context a handler under test is invoked with. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${AWS_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The event EventBridge sends a scheduled function. */
export function scheduledEvent(time: Date = NOW): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: AWS_ACCOUNT,
    time: time.toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${AWS_ACCOUNT}:rule/schedule`],
    detail: {},
  };
}

// ---- SQS ----

export interface SqsRecordOptions {
  messageId?: string;
  receiptHandle?: string;
  /** How often SQS has handed the message out, this time included (1 on the first attempt). */
  receiveCount?: number;
  queue?: string;
  attributes?: Partial<SQSRecordAttributes>;
}

/**
 * An SQS record as an event source mapping passes it. `body` is JSON-encoded unless it is a string,
 * so a test can also hand over a body that is not JSON.
 */
export function sqsRecord(body: unknown, options: SqsRecordOptions = {}): SQSRecord {
  const messageId = options.messageId ?? randomUUID();
  const queue = options.queue ?? 'queue';
  return {
    messageId,
    receiptHandle: options.receiptHandle ?? `receipt-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(NOW.getTime()),
      SenderId: 'AROAEXAMPLE:sender',
      ApproximateFirstReceiveTimestamp: String(NOW.getTime()),
      ...options.attributes,
    },
    messageAttributes: {},
    md5OfBody: 'md5',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${AWS_ACCOUNT}:${queue}`,
    awsRegion: REGION,
  };
}

/** An SQS batch: records, or bodies (each made a record with the same options). */
export function sqsEvent(records: (SQSRecord | { body: unknown; options?: SqsRecordOptions })[]): SQSEvent {
  return {
    Records: records.map((entry) => ('messageId' in entry ? entry : sqsRecord(entry.body, entry.options))),
  };
}

// ---- API Gateway (HTTP API, payload 2.0) ----

/** Who the authoriser said is calling; `null` for a request that reached the route without its context. */
export type Caller = AuthorizerContext | null;

export const callers = {
  admin: (): AuthorizerContext => ({ kind: 'admin' }),
  account: (accountId = ACCOUNT_ID, keyId = KEY_ID): AuthorizerContext => ({ kind: 'account', accountId, keyId }),
  /** No key (`missing`) or a key that is not known (`invalid`). */
  none: (reason: 'missing' | 'invalid' = 'missing'): AuthorizerContext => ({ kind: 'anonymous', reason }),
  unavailable: (): AuthorizerContext => ({ kind: 'unavailable' }),
};

export interface ApiEventOptions {
  method?: string;
  /** The raw path, without the query string. */
  path?: string;
  /** The matched route (`POST /v1/events`), or `$default` when none matched. Default: `<method> <path>`. */
  routeKey?: string;
  rawQueryString?: string;
  queryStringParameters?: Record<string, string>;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  /** Default: an anonymous caller without a key. */
  caller?: Caller;
  time?: Date;
}

/** An HTTP API request as API Gateway passes it to a route's function. */
export function apiEvent(options: ApiEventOptions = {}): ApiEvent {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/v1/health';
  const routeKey = options.routeKey ?? `${method} ${path}`;
  const caller = options.caller === undefined ? callers.none() : options.caller;
  const time = options.time ?? NOW;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: options.rawQueryString ?? '',
    headers: { host: 'api.example.com', ...options.headers },
    ...(options.queryStringParameters ? { queryStringParameters: options.queryStringParameters } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: AWS_ACCOUNT,
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: '21/Nov/2026:10:00:00 +0000',
      timeEpoch: time.getTime(),
      ...(caller ? { authorizer: { lambda: caller } } : {}),
    },
    isBase64Encoded: options.isBase64Encoded ?? false,
    ...(options.body !== undefined ? { body: options.body } : {}),
  } as ApiEvent;
}

/** The request the Lambda authoriser gets (payload 2.0, no identity source): the headers as sent. */
export function authorizerEvent(
  options: { method?: string; path?: string; headers?: Record<string, string> } = {},
): APIGatewayRequestAuthorizerEventV2 {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/v1/events';
  const routeKey = `${method} ${path}`;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:${REGION}:${AWS_ACCOUNT}:api/$default/${method}${path}`,
    identitySource: [],
    routeKey,
    rawPath: path,
    rawQueryString: '',
    cookies: [],
    headers: { host: 'api.example.com', ...options.headers },
    queryStringParameters: {},
    requestContext: {
      accountId: AWS_ACCOUNT,
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: '21/Nov/2026:10:00:00 +0000',
      timeEpoch: NOW.getTime(),
    },
    pathParameters: {},
    stageVariables: {},
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

// ---- records ----

let sequence = 0;
/** A unique suffix, so that records built in one test never share an id by accident. */
const next = () => String(++sequence).padStart(6, '0');

/** An accepted event, as ingest queues it (normalised timestamp, an id). */
export function mailEvent(overrides: Partial<MailEvent> = {}): MailEvent {
  const n = next();
  return {
    id: `evt_${n}`,
    type: 'open',
    message: `msg-${n}`,
    timestamp: new Date(NOW.getTime() - 60_000).toISOString(),
    ...overrides,
  };
}

/** A `sent` event with a full context: recipient, profile, fields, tags. */
export function sentEvent(overrides: Partial<MailEvent> = {}): MailEvent {
  return mailEvent({
    type: 'sent',
    recipient: 'jane@example.com',
    profile: 'profile-1',
    fields: { firstname: 'Jane', plan: 'pro' },
    tags: ['news', 'nov'],
    timestamp: new Date(NOW.getTime() - 3_600_000).toISOString(),
    ...overrides,
  });
}

/** A `whsec_` secret that Standard Webhooks libraries accept, made from a seed (readable in failures). */
export function secretFor(seed: string): string {
  return `whsec_${Buffer.from(seed.padEnd(32, '.').slice(0, 32)).toString('base64')}`;
}

/** A loop as stored: by default verified, enabled, subscribed to every type, JSON format. */
export function loopRecord(overrides: Partial<LoopRecord> = {}): LoopRecord {
  const n = next();
  const createdAt = new Date(NOW.getTime() - 24 * 3_600_000).toISOString();
  return {
    id: `loop_${n}`,
    accountId: ACCOUNT_ID,
    url: `https://receiver.example.com/hooks/${n}.php`,
    events: ['sent', 'delivery', 'open', 'click', 'bounce', 'failure', 'unsubscribe', 'abuse'],
    format: 'json',
    description: '',
    enabled: true,
    status: 'verified',
    secrets: [{ value: secretFor(`secret-${n}`) }],
    verification: {
      file: `fl-${n}.txt`,
      content: `content-${n}`,
      checkUntil: new Date(NOW.getTime() + 6 * 24 * 3_600_000).toISOString(),
    },
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

/** A message of the events queue. */
export function queuedEvent(event: MailEvent = mailEvent(), overrides: Partial<QueuedEvent> = {}): QueuedEvent {
  return { accountId: ACCOUNT_ID, receivedAt: NOW.toISOString(), event, ...overrides };
}

/** A message of the deliveries queue: this event for this loop. */
export function queuedDelivery(
  loop: Pick<LoopRecord, 'id' | 'accountId'>,
  event: MailEvent = mailEvent(),
  overrides: Partial<QueuedDelivery> = {},
): QueuedDelivery {
  return { accountId: loop.accountId, loopId: loop.id, event, ...overrides };
}
