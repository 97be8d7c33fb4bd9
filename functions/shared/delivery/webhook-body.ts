import type { EventDetails, MailEvent } from '#shared/events/mail-event.ts';
import type { BodyFormat } from '#shared/loops/loop.ts';

/**
 * The fields of a delivered event (SPEC §5), in their documented order; also the record of the log
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
  'code',
  'extended',
  'description',
] as const satisfies readonly (keyof MailEvent & keyof WebhookRecord)[];

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
      for (const item of value) params.append(`${name}[]`, String(item));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) params.append(`${name}[${key}]`, String(item));
    } else if (value !== undefined) {
      params.append(name, String(value));
    }
  }
  return params.toString();
}

export function encodeJson(record: WebhookRecord): string {
  return JSON.stringify(record);
}

export function encodeBody(record: WebhookRecord, format: BodyFormat): { contentType: string; body: string } {
  return format === 'json'
    ? { contentType: 'application/json', body: encodeJson(record) }
    : { contentType: 'application/x-www-form-urlencoded', body: encodeForm(record) };
}
