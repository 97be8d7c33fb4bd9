import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { seededRandom } from '../seeded-random.ts';

/**
 * The twin's fault injection: a proxy between the functions and the emulator that fails a share of
 * their AWS calls as AWS fails them, chosen per service and action, at a rate, from a seeded sequence.
 * Nothing of it is in the product: the functions only see AWS answering as AWS sometimes does.
 */

/** `throttle` and `error` answer at once (the SDK retries both); `timeout` holds the call unanswered. */
export type FaultKind = 'throttle' | 'error' | 'timeout' | 'mixed';
export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'error', 'timeout', 'mixed'];

export interface FaultRule {
  service: string;
  /** An action name, or `*` for every action of the service. */
  action: string;
  rate: number;
}

/** One AWS call as the proxy sees it. */
export interface AwsCall {
  /** The signing name: sqs, dynamodb, s3, secretsmanager… */
  service: string;
  action: string;
  /** Whose credentials signed it (each function has its role's own). */
  accessKeyId: string;
}

export class FaultSpecError extends Error {}

/** `sqs:SendMessageBatch=0.2,dynamodb:*=0.05` → rules; anything else is refused with what is wrong. */
export function parseFaultSpec(spec: string): FaultRule[] {
  return spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^([a-z0-9-]+|\*):([A-Za-z0-9]+|\*)=([0-9.]+)$/.exec(part);
      const rate = Number(match?.[3]);
      if (!match || !(rate >= 0 && rate <= 1))
        throw new FaultSpecError(`"${part}": write faults as service:Action=rate (rate 0…1), e.g. sqs:SendMessage=0.2`);
      return { service: match[1]!, action: match[2]!, rate };
    });
}

export interface FaultSettings {
  rules: FaultRule[];
  seed: number;
  kind: FaultKind;
}

export class FaultProxy {
  private server: http.Server | undefined;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly held = new Set<Socket>();
  private settings: FaultSettings = { rules: [], seed: 0, kind: 'mixed' };
  private random = seededRandom(0);
  /** Injected faults by `service:Action kind`, and calls passed through. */
  readonly counts = new Map<string, number>();
  endpoint = '';

  constructor(
    private readonly upstream: string,
    /** Told of each call the emulator answered, before the caller hears back (a crash happens there). */
    private readonly callers: Map<
      string,
      { spec: { credentials: { accessKeyId: string } }; sawCall(call: AwsCall): void }
    > = new Map(),
    settings?: Partial<FaultSettings>,
  ) {
    if (settings) this.configure(settings);
  }

  private afterCall(call: AwsCall): void {
    for (const caller of this.callers.values())
      if (caller.spec.credentials.accessKeyId === call.accessKeyId) caller.sawCall(call);
  }

  async start(): Promise<string> {
    const server = http.createServer((request, response) => void this.handle(request, response));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    for (const socket of this.held) socket.destroy();
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  configure(settings: Partial<FaultSettings>): FaultSettings {
    this.settings = { ...this.settings, ...settings };
    this.random = seededRandom(this.settings.seed);
    this.counts.clear();
    return this.settings;
  }

  get current(): FaultSettings {
    return this.settings;
  }

  private rateFor({ service, action }: AwsCall): number {
    const rule = this.settings.rules.find(
      (candidate) =>
        (candidate.service === '*' || candidate.service === service) &&
        (candidate.action === '*' || candidate.action.toLowerCase() === action.toLowerCase()),
    );
    return rule?.rate ?? 0;
  }

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const call = awsCall(request, body);
    const rate = this.rateFor(call);
    if (rate > 0 && this.random() < rate) {
      const kind = this.settings.kind === 'mixed' ? (this.random() < 0.5 ? 'throttle' : 'error') : this.settings.kind;
      this.count(`${call.service}:${call.action} ${kind}`);
      if (kind === 'timeout') {
        // Never answered: the caller's own timeout (or the function's) ends it.
        const socket = request.socket;
        this.held.add(socket);
        socket.once('close', () => this.held.delete(socket));
        return;
      }
      const fault = faultResponse(call, kind, request);
      response.writeHead(fault.status, fault.headers);
      response.end(fault.body);
      return;
    }
    this.count('passed');
    const upstream = new URL(this.upstream);
    const forwarded = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      // The Host header stays as signed.
      headers: request.headers,
      agent: this.agent,
    });
    forwarded.on('response', async (answer) => {
      const parts: Buffer[] = [];
      for await (const part of answer) parts.push(part as Buffer);
      this.afterCall(call);
      if (response.destroyed) return;
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      response.end(Buffer.concat(parts));
    });
    forwarded.on('error', () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    forwarded.end(body);
  }
}

/** The service from the signature's credential scope; the action from the target, the query, or S3's method. */
export function awsCall(request: IncomingMessage, body: Buffer): AwsCall {
  const credential = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(request.headers.authorization ?? ''));
  const query = new URL(request.url ?? '/', 'http://x');
  const queryCredential = /^([^/]+)\/\d{8}\/[^/]+\/([^/]+)\//.exec(query.searchParams.get('X-Amz-Credential') ?? '');
  const accessKeyId = credential?.[1] ?? queryCredential?.[1] ?? '';
  const service = credential?.[2] ?? queryCredential?.[2] ?? 'unknown';
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') return { service, action: target.slice(target.lastIndexOf('.') + 1), accessKeyId };
  const form = String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(body.toString('utf8'))
    : undefined;
  const action = form?.get('Action') ?? query.searchParams.get('Action');
  if (action) return { service, action, accessKeyId };
  return { service, action: service === 's3' ? s3Action(request.method ?? 'GET', query) : 'unknown', accessKeyId };
}

function s3Action(method: string, url: URL): string {
  const hasKey = url.pathname.split('/').filter(Boolean).length > 1;
  const params = url.searchParams;
  if (params.has('uploads')) return 'CreateMultipartUpload';
  if (params.has('uploadId'))
    return method === 'PUT' ? 'UploadPart' : method === 'DELETE' ? 'AbortMultipartUpload' : 'CompleteMultipartUpload';
  if (method === 'POST' && params.has('delete')) return 'DeleteObjects';
  if (!hasKey) return method === 'GET' ? 'ListObjectsV2' : method === 'HEAD' ? 'HeadBucket' : `${method}Bucket`;
  return { GET: 'GetObject', PUT: 'PutObject', DELETE: 'DeleteObject', HEAD: 'HeadObject' }[method] ?? method;
}

interface Fault {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What AWS answers, in the call's protocol, so that the SDK classifies it as it classifies AWS's own. */
export function faultResponse(call: AwsCall, kind: 'throttle' | 'error', request: IncomingMessage): Fault {
  const requestId = randomUUID();
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') {
    const contentType = String(request.headers['content-type'] ?? 'application/x-amz-json-1.0');
    const { status, code, message, namespace, queryCode } = jsonFault(call.service, kind);
    return {
      status,
      headers: {
        'content-type': contentType,
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': code,
        ...(queryCode ? { 'x-amzn-query-error': queryCode } : {}),
      },
      body: JSON.stringify({ __type: `${namespace}#${code}`, message }),
    };
  }
  const [status, code, message] =
    call.service === 's3'
      ? kind === 'throttle'
        ? [503, 'SlowDown', 'Please reduce your request rate.']
        : [500, 'InternalError', 'We encountered an internal error. Please try again.']
      : kind === 'throttle'
        ? [400, call.service === 'sqs' ? 'RequestThrottled' : 'Throttling', 'Rate exceeded']
        : [500, 'InternalError', 'An internal error occurred.'];
  const xml =
    call.service === 's3'
      ? `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`
      : `<ErrorResponse><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type><Code>${code}</Code>` +
        `<Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amz-request-id': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`,
  };
}

function jsonFault(service: string, kind: 'throttle' | 'error') {
  if (service === 'dynamodb') {
    const namespace = 'com.amazonaws.dynamodb.v20120810';
    return kind === 'throttle'
      ? {
          status: 400,
          namespace,
          code: 'ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        }
      : { status: 500, namespace, code: 'InternalServerError', message: 'Internal server error' };
  }
  if (service === 'sqs') {
    // SQS speaks JSON with its query-protocol error codes alongside.
    const namespace = 'com.amazonaws.sqs';
    return kind === 'throttle'
      ? {
          status: 400,
          namespace,
          code: 'ThrottlingException',
          message: 'Rate exceeded',
          queryCode: 'RequestThrottled;Sender',
        }
      : {
          status: 500,
          namespace,
          code: 'InternalError',
          message: 'An internal error occurred.',
          queryCode: 'InternalError;Receiver',
        };
  }
  const namespace = `com.amazonaws.${service}`;
  return kind === 'throttle'
    ? { status: 400, namespace, code: 'ThrottlingException', message: 'Rate exceeded' }
    : { status: 500, namespace, code: 'InternalServiceError', message: 'An internal error occurred.' };
}
