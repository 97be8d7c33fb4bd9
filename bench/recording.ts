/**
 * moto's request recording (`MOTO_RECORDER_FILEPATH`, one JSON object a line: headers, method, url,
 * body), read as AWS would bill it: each request's service and action, who made it (the access key
 * it was signed with) and its billing units: SQS 64 KB chunks, DynamoDB request units, the S3
 * request class.
 */
import { readFileSync } from 'node:fs';
import { PRICES } from './prices.ts';

export interface RecordedRequest {
  service: string;
  action: string;
  accessKeyId: string;
  /** What the request is billed by: SQS chunks, DynamoDB read or write units, S3 requests of its class. */
  units: number;
  unit: 'request' | 'chunk' | 'RRU' | 'WRU' | 'PUT-class' | 'GET-class' | 'free';
  /** SQS: the queue's URL; DynamoDB: the table. */
  target: string;
  body: Record<string, unknown>;
}

interface Entry {
  headers: Record<string, string>;
  method: string;
  url: string;
  body: string | null;
  body_encoded: boolean;
}

export function readRecording(file: string): RecordedRequest[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // nothing recorded yet
  }
  // moto appends each entry and its newline in separate writes when the entry is large, so entries
  // of concurrent requests can run together: each one starts with its headers.
  return text
    .split(/(?=\{"headers": )/)
    .map((piece) => piece.trim())
    .filter((piece) => piece.startsWith('{'))
    .map((piece) => JSON.parse(piece) as Entry)
    .filter((entry) => !new URL(entry.url).pathname.startsWith('/moto-api/'))
    .map(classify);
}

function header(entry: Entry, name: string): string {
  const found = Object.entries(entry.headers).find(([key]) => key.toLowerCase() === name);
  return found?.[1] ?? '';
}

function classify(entry: Entry): RecordedRequest {
  const credential = /Credential=([^/]+)\/[^/]+\/[^/]+\/([^/]+)\//.exec(header(entry, 'authorization'));
  const accessKeyId = credential?.[1] ?? '';
  const service = credential?.[2] ?? 'unknown';
  const raw = entry.body_encoded ? Buffer.from(entry.body ?? '', 'base64').toString('utf8') : (entry.body ?? '');
  const target = header(entry, 'x-amz-target');
  let body: Record<string, unknown> = {};
  if (target) {
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      // not JSON
    }
  }
  const base = { service, accessKeyId, body, target: '' };
  if (service === 's3') return { ...base, ...s3Request(entry) };
  const action = target.split('.').pop() ?? entry.method;
  if (service === 'sqs') {
    const bytes = Buffer.byteLength(raw);
    return {
      ...base,
      action,
      target: String(body.QueueUrl ?? ''),
      unit: 'chunk',
      units: Math.max(1, Math.ceil(bytes / PRICES.sqs.chunkBytes)),
    };
  }
  if (service === 'dynamodb') return { ...base, action, ...dynamoUnits(action, body) };
  return { ...base, action, unit: 'request', units: 1 };
}

function s3Request(entry: Entry): Pick<RecordedRequest, 'action' | 'unit' | 'units' | 'target'> {
  const url = new URL(entry.url);
  const query = url.searchParams;
  const [, bucket = '', ...key] = url.pathname.split('/');
  const onObject = key.join('/') !== '';
  let action: string;
  if (entry.method === 'PUT') action = query.has('partNumber') ? 'UploadPart' : onObject ? 'PutObject' : 'PutBucket';
  else if (entry.method === 'POST')
    action = query.has('uploads')
      ? 'CreateMultipartUpload'
      : query.has('uploadId')
        ? 'CompleteMultipartUpload'
        : 'DeleteObjects';
  else if (entry.method === 'DELETE') action = query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  else if (entry.method === 'HEAD') action = onObject ? 'HeadObject' : 'HeadBucket';
  else action = onObject ? (query.has('uploadId') ? 'ListParts' : 'GetObject') : 'ListObjectsV2';
  const putClass = ['PUT', 'POST'].includes(entry.method) || action === 'ListObjectsV2' || action === 'ListParts';
  const unit = entry.method === 'DELETE' ? 'free' : putClass ? 'PUT-class' : 'GET-class';
  return { action, unit, units: 1, target: bucket };
}

type Attr = Record<string, unknown>;

/** An item's size as DynamoDB counts it: attribute names plus values. */
export function itemBytes(item: Record<string, Attr>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: Attr): number {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner));
    case 'N':
      return Math.ceil(String(inner).replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
    case 'B':
      return Buffer.from(String(inner), 'base64').length;
    case 'SS':
    case 'NS':
    case 'BS':
      return (inner as string[]).reduce((sum, one) => sum + valueBytes({ [type.slice(0, 1)]: one }), 0);
    case 'M':
      return 3 + itemBytes(inner as Record<string, Attr>) + Object.keys(inner as object).length;
    case 'L':
      return 3 + (inner as Attr[]).reduce((sum, one) => sum + 1 + valueBytes(one), 0);
    default:
      return 1; // BOOL, NULL
  }
}

const writeUnits = (item: Record<string, Attr>) => Math.max(1, Math.ceil(itemBytes(item) / 1024));

/**
 * Request units as on-demand DynamoDB bills them. Reads are taken as items of at most 4 KB (this
 * project's items are far smaller): 0.5 RRU eventually consistent, 1 strongly, per key read, and per
 * Query. An UpdateItem is billed on the item's size, which the request does not show: 1 WRU (its
 * items are under 1 KB). Transactions cost double.
 */
function dynamoUnits(
  action: string,
  body: Record<string, unknown>,
): Pick<RecordedRequest, 'unit' | 'units' | 'target'> {
  const read = (consistent: unknown) => (consistent ? 1 : 0.5);
  const table = String(body.TableName ?? Object.keys((body.RequestItems as object) ?? {})[0] ?? '');
  switch (action) {
    case 'PutItem':
      return { unit: 'WRU', units: writeUnits(body.Item as Record<string, Attr>), target: table };
    case 'UpdateItem':
    case 'DeleteItem':
      return { unit: 'WRU', units: 1, target: table };
    case 'BatchWriteItem': {
      const requests = Object.values(
        body.RequestItems as Record<string, { PutRequest?: { Item: Record<string, Attr> } }[]>,
      );
      const units = requests
        .flat()
        .reduce((sum, request) => sum + (request.PutRequest ? writeUnits(request.PutRequest.Item) : 1), 0);
      return { unit: 'WRU', units, target: table };
    }
    case 'TransactWriteItems': {
      const items = body.TransactItems as { Put?: { Item: Record<string, Attr> } }[];
      return {
        unit: 'WRU',
        units: items.reduce((sum, item) => sum + 2 * (item.Put ? writeUnits(item.Put.Item) : 1), 0),
        target: table,
      };
    }
    case 'GetItem':
    case 'Query':
    case 'Scan':
      return { unit: 'RRU', units: read(body.ConsistentRead), target: table };
    case 'BatchGetItem': {
      const tables = Object.values(body.RequestItems as Record<string, { Keys: unknown[]; ConsistentRead?: boolean }>);
      return {
        unit: 'RRU',
        units: tables.reduce((sum, one) => sum + one.Keys.length * read(one.ConsistentRead), 0),
        target: table,
      };
    }
    case 'TransactGetItems':
      return { unit: 'RRU', units: 2 * (body.TransactItems as unknown[]).length, target: table };
    default:
      return { unit: 'request', units: 0, target: table };
  }
}
