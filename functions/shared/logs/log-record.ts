import type { AttemptFailure } from '#shared/delivery/attempt.ts';
import { RECORD_FIELDS, toRecord, type WebhookRecord } from '#shared/delivery/webhook-body.ts';
import type { EventType } from '#shared/events/event-types.ts';
import type { MailEvent } from '#shared/events/mail-event.ts';
import type { QueuedDelivery } from '#shared/events/messages.ts';

/**
 * The log files (docs/api.md §8): per account, per UTC day (the day the event was accepted), per type,
 * named `<prefix>.<YYYY-MM-DD>`. An event's record has the fields of its webhook body; a
 * `loop-errors` record describes one failed delivery attempt.
 */

export const EVENT_LOG_PREFIXES = {
  sent: 'sent',
  delivery: 'deliveries',
  open: 'opens',
  click: 'clicks',
  bounce: 'bounces',
  failure: 'failures',
  unsubscribe: 'unsubscribes',
  abuse: 'abuses',
} as const satisfies Record<EventType, string>;

export const LOOP_ERRORS = 'loop-errors';
export const LOG_PREFIXES = [...Object.values(EVENT_LOG_PREFIXES), LOOP_ERRORS] as const;
export type LogPrefix = (typeof LOG_PREFIXES)[number];

export const LOG_FORMATS = ['json', 'csv', 'xml'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** One failed delivery attempt (docs/api.md §5, §8): `status` when the receiver answered, `error` otherwise. */
export interface LoopErrorRecord {
  /** Unix seconds of the attempt, as `time` is in an event's record. */
  time: number;
  eventId: string;
  type: string;
  loopId: string;
  url: string;
  attempt: number;
  status?: number;
  error?: string;
}

export type LogRecord = WebhookRecord | LoopErrorRecord;

/** A record with the file it goes to: its account's, of that day, of that prefix. */
export interface FiledRecord {
  accountId: string;
  date: string;
  prefix: LogPrefix;
  record: LogRecord;
}

/** An accepted event's record, in the file of its type and of the day it was accepted. */
export function eventRecord(accountId: string, receivedAt: string, event: MailEvent): FiledRecord {
  return {
    accountId,
    date: logDate(receivedAt),
    prefix: EVENT_LOG_PREFIXES[event.type as EventType],
    record: toRecord(event),
  };
}

/**
 * A failed attempt as its record in the account's `loop-errors` file of the attempt's day. Its
 * number counts the attempts before a replay too, as the failure's `attempts` does.
 */
export function loopErrorRecord(
  delivery: QueuedDelivery,
  loop: { accountId: string; id: string; url: string },
  attempt: number,
  failure: AttemptFailure,
  now: Date,
): FiledRecord & { record: LoopErrorRecord } {
  const record: LoopErrorRecord = {
    time: Math.floor(now.getTime() / 1000),
    eventId: delivery.event.id,
    type: delivery.event.type,
    loopId: loop.id,
    url: loop.url,
    attempt: (delivery.replayOf?.attempts ?? 0) + attempt,
    ...(failure.kind === 'status' ? { status: failure.status } : { error: failure.error }),
  };
  return { accountId: loop.accountId, date: logDate(now), prefix: LOOP_ERRORS, record };
}

/** The columns of a file's CSV header, in order: every field a record of that file may have. */
export const EVENT_COLUMNS = RECORD_FIELDS;
export const LOOP_ERROR_COLUMNS = [
  'time',
  'eventId',
  'type',
  'loopId',
  'url',
  'attempt',
  'status',
  'error',
] as const satisfies readonly (keyof LoopErrorRecord)[];

export function columnsOf(prefix: LogPrefix): readonly string[] {
  return prefix === LOOP_ERRORS ? LOOP_ERROR_COLUMNS : EVENT_COLUMNS;
}

/**
 * What makes two records the same, for a closed day's file to hold each once: the event id; for a
 * loop error, the attempt of that event to that loop.
 */
export function recordKey(prefix: LogPrefix, record: LogRecord): string {
  if (prefix === LOOP_ERRORS) {
    const error = record as LoopErrorRecord;
    return `${error.eventId} ${error.loopId} ${error.attempt} ${error.time}`;
  }
  return (record as WebhookRecord).id;
}

/** `clicks.2026-11-21` */
export function logFileName(prefix: LogPrefix, date: string): string {
  return `${prefix}.${date}`;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar date `YYYY-MM-DD` (not 2026-02-30). */
export function isLogDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

/** The prefix and date of a file name, or undefined when it names no possible file. */
export function parseLogFileName(name: string): { prefix: LogPrefix; date: string } | undefined {
  const dot = name.lastIndexOf('.');
  const prefix = name.slice(0, dot) as LogPrefix;
  const date = name.slice(dot + 1);
  return dot > 0 && LOG_PREFIXES.includes(prefix) && isLogDate(date) ? { prefix, date } : undefined;
}

/** The UTC day of an instant: the day of the file an event accepted then goes to. */
export function logDate(at: Date | string): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** A message on the log queue: records of one log file (account, accepted day, prefix), flushed together. */
export interface QueuedLogRecords {
  accountId: string;
  date: string;
  prefix: LogPrefix;
  records: LogRecord[];
}
