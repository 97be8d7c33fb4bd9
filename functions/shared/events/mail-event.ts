import * as z from 'zod';
import { ADDRESS_MAX_BYTES, isEmailAddress, LOCAL_PART_MAX_BYTES, RECIPIENT_ERROR } from './email-address.ts';
import {
  formatPath,
  humanMessage,
  issueDetails,
  type Problem as SchemaProblem,
} from '#shared/runtime/schema-problems.ts';
import { newId } from '#shared/runtime/ids.ts';
import { type AnyEventType, EVENT_TYPES } from './event-types.ts';

/**
 * The inbound e-mail event (docs/api.md §4): its schema, which also generates the OpenAPI document, and
 * `parseEventBatch`, which turns a request body into accepted events or one InvalidEvents listing
 * every problem.
 */

const KiB = 1024;
const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export const LIMITS = {
  maxEventsPerRequest: 500,
  maxRequestBytes: 1024 * KiB,
  idMaxLength: 64,
  /** A client id seen again within this window is accepted but not delivered or logged twice. */
  idempotencyWindowDays: 7,
  messageMaxLength: 128,
  timestampMaxAgeMs: 30 * DAY_MS,
  timestampMaxLeadMs: 5 * MINUTE_MS,
  /** RFC 5321 (and RFC 6531 for UTF-8): in octets. */
  addressMaxBytes: ADDRESS_MAX_BYTES,
  localPartMaxBytes: LOCAL_PART_MAX_BYTES,
  profileMaxLength: 128,
  maxFields: 100,
  fieldNameMaxLength: 64,
  fieldValueMaxBytes: KiB,
  maxTags: 50,
  tagMaxLength: 100,
  useragentMaxBytes: KiB,
  refererMaxBytes: 2 * KiB,
  originalMaxBytes: 2 * KiB,
  smtpTextMaxBytes: KiB,
  /**
   * A `sent` event's `fields` and `tags` together, as JSON (`{"fields":{…},"tags":[…]}`, UTF-8): the
   * message context it leaves behind is copied into every later event of the message, logged and
   * delivered to each loop, so a big one would multiply a small request many times over.
   */
  contextMaxBytes: 8 * KiB,
} as const;

/** The normalised accepted event: what is queued, enriched, delivered and logged. */
/** What an event may carry besides its identity; delivered and logged as it is. */
export interface EventDetails {
  recipient?: string;
  profile?: string;
  fields?: Record<string, string | number | boolean>;
  tags?: string[];
  ip?: string;
  useragent?: string;
  referer?: string;
  original?: string;
  /** The open or click came from a machine: a mail-privacy proxy, a link scanner, a prefetch (docs/tracking.md). */
  machine?: boolean;
  code?: string;
  extended?: string;
  description?: string;
}

export interface MailEvent extends EventDetails {
  id: string;
  type: AnyEventType;
  message: string;
  /** ISO 8601 UTC with milliseconds, e.g. `2026-11-21T10:00:00.000Z`. */
  timestamp: string;
}

// ---- schema ----

/**
 * "KiB" limits count UTF-8 bytes, which JSON Schema cannot express. The same number as a character cap
 * is implied by the byte cap (a character is at least one byte), so it goes first: it documents a
 * maxLength and stops early on huge strings.
 */
function withinBytes<S extends z.ZodString | z.ZodURL>(schema: S, maxBytes: number): S {
  const error = `must be at most ${maxBytes / KiB} KiB (${maxBytes} bytes of UTF-8)`;
  return schema
    .max(maxBytes, { error, abort: true })
    .refine((s) => Buffer.byteLength(s, 'utf8') <= maxBytes, { error }) as S;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An event id, the client's or ours (`evt_<ULID>`); also what the failures replay takes. */
export const EVENT_ID_PATTERN = new RegExp(`^[A-Za-z0-9._:-]{1,${LIMITS.idMaxLength}}$`);
/** EVENT_ID_PATTERN in words, for an error message. */
export const EVENT_ID_RULE = `1 to ${LIMITS.idMaxLength} of A-Z, a-z, 0-9, '.', '_', ':', '-'`;
const FIELD_NAME_PATTERN = new RegExp(`^[A-Za-z0-9_.-]{1,${LIMITS.fieldNameMaxLength}}$`);

const fieldName = z.string().regex(FIELD_NAME_PATTERN, {
  error: `is not a valid field name: use 1 to ${LIMITS.fieldNameMaxLength} of A-Z, a-z, 0-9, '_', '.', '-'`,
});

const fieldValue = z.union([withinBytes(z.string(), LIMITS.fieldValueMaxBytes), z.number(), z.boolean()], {
  error: 'must be a string, a number or a boolean',
});

const timestampSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date and time with a zone, e.g. 2026-11-21T10:00:00Z' })
  .describe(
    'When it happened: ISO 8601 with seconds and a zone (Z or ±hh:mm). Default: the time of receipt. ' +
      `At most ${LIMITS.timestampMaxAgeMs / DAY_MS} days old and ${LIMITS.timestampMaxLeadMs / MINUTE_MS} minutes ahead.`,
  );

export const inboundEventSchema = z
  .strictObject({
    id: z
      .string()
      .regex(EVENT_ID_PATTERN, { error: `must be ${EVENT_ID_RULE}` })
      .optional()
      .describe(
        `Your id for the event, an idempotency key: sent again within ${LIMITS.idempotencyWindowDays} days it is ` +
          'accepted but not delivered or logged twice. Default: evt_<ULID>.',
      ),
    type: z.enum(EVENT_TYPES).describe('What happened to the message.'),
    message: z.string().min(1).max(LIMITS.messageMaxLength).describe('The id of the e-mail message it concerns.'),
    timestamp: timestampSchema.optional(),
    recipient: z
      .string()
      .max(LIMITS.addressMaxBytes, { error: RECIPIENT_ERROR, abort: true })
      .refine(isEmailAddress, { error: RECIPIENT_ERROR })
      .meta({ format: 'idn-email' })
      .optional()
      .describe('The e-mail address of the recipient; required for `sent`.'),
    profile: z.string().max(LIMITS.profileMaxLength).optional().describe('The profile id of the recipient.'),
    fields: z
      .record(fieldName, fieldValue)
      // Also runs when a value is invalid, so both problems are reported at once.
      .refine((fields) => Object.keys(fields).length <= LIMITS.maxFields, {
        error: `must have at most ${LIMITS.maxFields} fields`,
        when: (payload) => isObject(payload.value),
      })
      .meta({ maxProperties: LIMITS.maxFields })
      .optional()
      .describe(
        'Profile data of the recipient, e.g. {"firstname": "Jane"}. In a `sent` event, `fields` and `tags` ' +
          `together are at most ${LIMITS.contextMaxBytes / KiB} KiB of JSON.`,
      ),
    tags: z
      .array(z.string().min(1).max(LIMITS.tagMaxLength))
      .max(LIMITS.maxTags)
      .optional()
      .describe('Tags of the message.'),
    ip: z
      .union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' })
      .optional()
      .describe('The IP address the open or click came from.'),
    useragent: withinBytes(z.string(), LIMITS.useragentMaxBytes)
      .optional()
      .describe('The user agent of the open or click.'),
    referer: withinBytes(z.string(), LIMITS.refererMaxBytes).optional().describe('The referer of the open or click.'),
    original: withinBytes(
      z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
      LIMITS.originalMaxBytes,
    )
      .optional()
      .describe('The clicked URL (`click`).'),
    machine: z
      .boolean()
      .optional()
      .describe('The open or click came from a machine (a mail-privacy proxy, a link scanner), not a person.'),
    code: withinBytes(z.string(), LIMITS.smtpTextMaxBytes)
      .optional()
      .describe('SMTP status code (`bounce`, `failure`).'),
    extended: withinBytes(z.string(), LIMITS.smtpTextMaxBytes)
      .optional()
      .describe('Extended SMTP status code (`bounce`, `failure`).'),
    description: withinBytes(z.string(), LIMITS.smtpTextMaxBytes)
      .optional()
      .describe('SMTP status text (`bounce`, `failure`).'),
  })
  .refine((event) => event.type !== 'sent' || event.recipient !== undefined, {
    path: ['recipient'],
    error: 'is required for sent events',
    // Also when other fields are invalid, so the client learns everything from one answer.
    when: (payload) => isObject(payload.value),
  })
  .describe('One e-mail event.');

export type InboundEvent = z.infer<typeof inboundEventSchema>;

export const eventsBatchSchema = z
  .strictObject({
    events: z
      .array(inboundEventSchema)
      .min(1)
      .max(LIMITS.maxEventsPerRequest)
      .describe(`1 to ${LIMITS.maxEventsPerRequest} events.`),
  })
  .describe('A batch of events.');

export const eventsRequestSchema = z
  .union([inboundEventSchema, eventsBatchSchema])
  .describe(
    `One event, or {"events": [...]}: at most ${LIMITS.maxEventsPerRequest} events and ` +
      `${LIMITS.maxRequestBytes / (1024 * KiB)} MiB per request. All or nothing.`,
  );

// ---- parsing ----

/**
 * Validates an already JSON-parsed `POST /v1/events` body. All or nothing: any problem throws one
 * InvalidEvents with every problem; it never throws anything else.
 */
export function parseEventBatch(payload: unknown, receivedAt: Date): MailEvent[] {
  if (!isObject(payload)) {
    throw new InvalidEvents('The body must be one event object or {"events": [...]}.');
  }
  const isBatch = Object.hasOwn(payload, 'events');
  const rawEvents = isBatch ? payload.events : [payload];
  // Size problems of the whole batch get one clear sentence rather than a detail per event.
  if (Array.isArray(rawEvents) && rawEvents.length === 0) {
    throw new InvalidEvents('The events array is empty: send at least one event.');
  }
  if (Array.isArray(rawEvents) && rawEvents.length > LIMITS.maxEventsPerRequest) {
    throw new InvalidEvents(
      `A request may hold at most ${LIMITS.maxEventsPerRequest} events; this one has ${rawEvents.length}.`,
      [],
      'too-many',
    );
  }

  const schema = isBatch ? eventsBatchSchema : inboundEventSchema;
  const result = schema.safeParse(payload, { error: humanMessage });
  const problems: Problem[] = result.success ? [] : result.error.issues.flatMap((issue) => toProblems(issue));
  if (Array.isArray(rawEvents)) problems.push(...crossEventProblems(rawEvents, isBatch, receivedAt));

  if (!result.success || problems.length > 0) {
    // Sorted by event (stable), so each event's problems read together.
    const details = problems.sort((a, b) => a.event - b.event).map((problem) => problem.detail);
    const count = details.length === 1 ? '1 problem was' : `${details.length} problems were`;
    throw new InvalidEvents(`No events were accepted: ${count} found (see details).`, details);
  }

  const events = 'events' in result.data ? result.data.events : [result.data];
  return events.map(({ id, timestamp, ...rest }) => ({
    id: id ?? newId('evt'),
    ...rest,
    timestamp: (timestamp === undefined ? receivedAt : new Date(timestamp)).toISOString(),
  }));
}

/**
 * Why a request's events are refused, every problem at once (a path and a sentence each): the http
 * edge answers 400 `invalid_events`, or `too_many_events` when the batch is over the count.
 */
export class InvalidEvents extends Error {
  override readonly name = 'InvalidEvents';
  constructor(
    message: string,
    readonly problems: SchemaProblem[] = [],
    readonly reason: 'invalid' | 'too-many' = 'invalid',
  ) {
    super(message);
  }
}

/** A detail, and the index of the event it belongs to (-1 for the envelope) for ordering. */
interface Problem {
  event: number;
  detail: SchemaProblem;
}

/** Checks that need the receipt time or the other events, which a schema of one event cannot do. */
function crossEventProblems(rawEvents: unknown[], isBatch: boolean, receivedAt: Date): Problem[] {
  const problems: Problem[] = [];
  const report = (index: number, path: string[], message: string) =>
    problems.push(problemAt(isBatch ? ['events', index, ...path] : path, message));
  const firstIndexOfId = new Map<string, number>();

  rawEvents.forEach((raw, index) => {
    if (!isObject(raw)) return;
    // A malformed timestamp is already reported by the schema.
    if (typeof raw.timestamp === 'string' && timestampSchema.safeParse(raw.timestamp).success) {
      const aheadMs = Date.parse(raw.timestamp) - receivedAt.getTime();
      if (aheadMs > LIMITS.timestampMaxLeadMs) {
        report(
          index,
          ['timestamp'],
          `must not be more than ${LIMITS.timestampMaxLeadMs / MINUTE_MS} minutes in the future`,
        );
      } else if (-aheadMs > LIMITS.timestampMaxAgeMs) {
        report(index, ['timestamp'], `must not be more than ${LIMITS.timestampMaxAgeMs / DAY_MS} days old`);
      }
    }
    // zod skips a "__proto__" key of a record (copying it would replace the prototype), so it would
    // vanish without a word; JSON.parse does keep it as an ordinary key.
    if (isObject(raw.fields) && Object.hasOwn(raw.fields, '__proto__')) {
      report(index, ['fields', '__proto__'], 'is a reserved name');
    }
    if (raw.type === 'sent') {
      const contextBytes = contextSize(raw.fields, raw.tags);
      if (contextBytes > LIMITS.contextMaxBytes) {
        report(
          index,
          ['fields'],
          `together with tags must be at most ${LIMITS.contextMaxBytes / KiB} KiB of JSON in a sent event ` +
            `(the message's context, copied into each later event); these are ${contextBytes} bytes`,
        );
      }
    }
    if (typeof raw.id === 'string') {
      const first = firstIndexOfId.get(raw.id);
      if (first === undefined) firstIndexOfId.set(raw.id, index);
      else report(index, ['id'], `repeats the id of events[${first}]; an id may appear only once per request`);
    }
  });
  return problems;
}

/** The bytes of `{"fields":{…},"tags":[…]}` (UTF-8 JSON), without what is absent or empty. */
export function contextSize(fields: unknown, tags: unknown): number {
  const context: Record<string, unknown> = {};
  if (isObject(fields) && Object.keys(fields).length > 0) context.fields = fields;
  if (Array.isArray(tags) && tags.length > 0) context.tags = tags;
  return Object.keys(context).length ? Buffer.byteLength(JSON.stringify(context), 'utf8') : 0;
}

function toProblems(issue: z.core.$ZodIssue): Problem[] {
  return issueDetails(issue).map(({ path, message }) => problemAt(path, message));
}

function problemAt(path: PropertyKey[], message: string): Problem {
  const event = path[0] === 'events' && typeof path[1] === 'number' ? path[1] : -1;
  return { event, detail: { path: formatPath(path), message } };
}
