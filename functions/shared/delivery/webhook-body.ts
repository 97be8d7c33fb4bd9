import type { EventDetails, MailEvent } from '#shared/events/mail-event.ts';
import type { BodyFormat } from '#shared/loops/loop.ts';

/**
 * The fields of a delivered event (docs/api.md §5), in their documented order; also the record of the log
 * files. Absent fields are omitted, never null.
 */
export interface WebhookRecord extends EventDetails {
  id: string;
  type: MailEvent['type'];
  /** `YYYY-MM-DD HH:MM:SS`, UTC. */
  timestamp: string;
  /** Unix seconds. */
  time: number;
  message: string;
}

const OPTIONAL_FIELDS = [
  'recipient',
  'profile',
  'fields',
  'tags',
  'ip',
  'useragent',
  'referer',
  'original',
  'machine',
  'code',
  'extended',
  'description',
] as const satisfies readonly (keyof MailEvent & keyof WebhookRecord)[];

/** Every field of a record, in the documented order (docs/api.md §5): also the columns of the log files. */
export const RECORD_FIELDS = [
  'id',
  'type',
  'timestamp',
  'time',
  'message',
  ...OPTIONAL_FIELDS,
] as const satisfies readonly (keyof WebhookRecord)[];

export function toRecord(event: MailEvent): WebhookRecord {
  const at = new Date(event.timestamp);
  const record: WebhookRecord = {
    id: event.id,
    type: event.type,
    timestamp: at.toISOString().slice(0, 19).replace('T', ' '),
    time: Math.floor(at.getTime() / 1000),
    message: event.message,
  };
  // Assigned one by one, in order, so the key order of the record is the documented field order.
  for (const name of OPTIONAL_FIELDS) {
    if (event[name] !== undefined) Object.assign(record, { [name]: event[name] });
  }
  return record;
}

/**
 * WHATWG `application/x-www-form-urlencoded`, with objects and arrays in the bracket notation PHP
 * reads into arrays: `fields[firstname]=Jane&tags[]=news&tags[]=nov`.
 */
export function encodeForm(record: WebhookRecord): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(record)) {
    if (Array.isArray(value)) {
      for (const item of value) params.append(`${name}[]`, formScalar(item));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries<string | number | boolean>(value)) {
        params.append(`${name}[${key}]`, formScalar(item));
      }
    } else if (value !== undefined) {
      params.append(name, formScalar(value));
    }
  }
  return params.toString();
}

/**
 * A scalar as PHP's `http_build_query` writes it, since form bodies are read by PHP-style code:
 * booleans as `1` / `0` (a receiver testing `if ($_POST['fields']['vip'])` would take the string
 * "false" for true), integers in plain digits as PHP writes its integers (JavaScript writes 1e21 as
 * "1e+21"), other numbers as JavaScript writes them. A form has no types; JSON bodies keep them.
 */
export function formScalar(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value).toString();
  return String(value);
}

export function encodeJson(record: WebhookRecord): string {
  return JSON.stringify(record);
}

export function encodeBody(record: WebhookRecord, format: BodyFormat): { contentType: string; body: string } {
  return format === 'json'
    ? { contentType: 'application/json', body: encodeJson(record) }
    : { contentType: 'application/x-www-form-urlencoded', body: encodeForm(record) };
}
