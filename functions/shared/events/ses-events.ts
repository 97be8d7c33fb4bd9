import { createHash } from 'node:crypto';
import { type InboundEvent, InvalidEvents, type MailEvent, parseEventBatch } from './mail-event.ts';

/**
 * Amazon SES as a source (docs/ses.md): what an SES event (the `detail` of an EventBridge event of
 * source `aws.ses`, the same object SES publishes to SNS and Firehose) becomes. Pure: which account
 * it belongs to is the caller's question; this says where to look (the account tag, the
 * configuration set) and which events of ours it makes, validated as ingest validates them.
 *
 *   Send → sent (recipient, the message tags)        Bounce → bounce per bounced recipient
 *   Delivery → delivery per delivered recipient      Complaint → abuse per complained recipient
 *   Open → open (ip, useragent)                      Reject, Rendering Failure → failure
 *   Click → click (original, the link tags too)      Subscription → unsubscribe (an opt-out only)
 *   DeliveryDelay → nothing: SES is still trying; the Delivery or Bounce that ends it follows.
 */

/** The message tag that names the account, set per message by the sender. */
export const ACCOUNT_TAG = 'feedback-loops-account';
/** The system tag in which SES names the configuration set. */
const CONFIGURATION_SET_TAG = 'ses:configuration-set';
/** SES sends a message to at most 50 recipients; an event naming more did not come from SES. */
export const MAX_SES_RECIPIENTS = 50;
/** EventBridge's own limit on an event: anything bigger was not put there by SES. */
export const MAX_SES_EVENT_BYTES = 256 * 1024;

export type SesReading =
  /** Events of ours, and where the account is named. */
  | { kind: 'events'; messageId: string; accountTag?: string; configurationSet?: string; events: MailEvent[] }
  /** An SES event that stands for none of ours (a delivery delay, a subscription that opts in). */
  | { kind: 'ignored'; messageId: string; reason: string }
  /** Not an SES event as AWS documents it, or one that makes invalid events: kept for the operator. */
  | { kind: 'unreadable'; reason: string };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const objectAt = (value: unknown, key: string): Json | undefined =>
  isObject(value) && isObject(value[key]) ? value[key] : undefined;

class Unreadable extends Error {}

/** Reads one SES event (`detail`); `receivedAt` is the time of receipt, as ingest takes it. */
export function readSesEvent(detail: unknown, receivedAt: Date): SesReading {
  try {
    return read(detail, receivedAt);
  } catch (error) {
    if (error instanceof Unreadable) return { kind: 'unreadable', reason: error.message };
    if (error instanceof InvalidEvents) {
      const problems = error.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
      return { kind: 'unreadable', reason: `it makes invalid events: ${problems || error.message}` };
    }
    throw error;
  }
}

function read(detail: unknown, receivedAt: Date): SesReading {
  if (!isObject(detail)) throw new Unreadable('the detail is not an object');
  const eventType = text(detail.eventType);
  if (!eventType) throw new Unreadable('it has no eventType');
  const mail = objectAt(detail, 'mail');
  const messageId = text(mail?.messageId);
  if (!mail || !messageId) throw new Unreadable('it has no mail.messageId');
  const destination = addresses(mail.destination, 'mail.destination');
  const tags = isObject(mail.tags) ? mail.tags : {};
  const mailTimestamp = text(mail.timestamp);
  const where = {
    ...optional('accountTag', firstTagValue(tags, ACCOUNT_TAG)),
    ...optional('configurationSet', firstTagValue(tags, CONFIGURATION_SET_TAG)),
  };

  const make = (type: InboundEvent['type'], recipients: string[], timestamp: unknown, extra: Partial<InboundEvent>) =>
    recipients.map((recipient): InboundEvent => ({
      id: eventId(messageId, eventType, recipient, text(timestamp) ?? mailTimestamp ?? ''),
      type,
      message: messageId,
      recipient,
      ...optional('timestamp', text(timestamp) ?? mailTimestamp),
      ...extra,
    }));
  const section = (key: string) => {
    const found = objectAt(detail, key);
    if (!found) throw new Unreadable(`a ${eventType} event without its ${key} object`);
    return found;
  };

  let events: InboundEvent[];
  switch (eventType) {
    case 'Send':
      events = make('sent', destination, mailTimestamp, nonEmpty('tags', messageTags(tags)));
      break;
    case 'Delivery': {
      const delivery = section('delivery');
      const recipients =
        delivery.recipients === undefined ? destination : addresses(delivery.recipients, 'delivery.recipients');
      events = make('delivery', recipients, delivery.timestamp, {});
      break;
    }
    case 'Open': {
      const open = section('open');
      events = make('open', destination, open.timestamp, {
        ...optional('ip', text(open.ipAddress)),
        ...optional('useragent', clip(text(open.userAgent), 1024)),
      });
      break;
    }
    case 'Click': {
      const click = section('click');
      const linkTags = isObject(click.linkTags) ? tagStrings(click.linkTags) : [];
      events = make('click', destination, click.timestamp, {
        ...optional('ip', text(click.ipAddress)),
        ...optional('useragent', clip(text(click.userAgent), 1024)),
        ...optional('original', text(click.link)),
        // The event's own tags win over the message's in enrichment, so the message's come along.
        ...nonEmpty('tags', fitTags([...messageTags(tags), ...linkTags])),
      });
      break;
    }
    case 'Bounce': {
      const bounce = section('bounce');
      events = recipientsOf(bounce.bouncedRecipients, 'bounce.bouncedRecipients').flatMap((entry) =>
        make('bounce', [entry.address], bounce.timestamp, smtpStatus(entry.status, entry.diagnosticCode, bounce)),
      );
      break;
    }
    case 'Complaint': {
      const complaint = section('complaint');
      events = recipientsOf(complaint.complainedRecipients, 'complaint.complainedRecipients').flatMap((entry) =>
        make('abuse', [entry.address], complaint.timestamp, {
          ...optional('description', clip(text(complaint.complaintFeedbackType), 1024)),
        }),
      );
      break;
    }
    case 'Reject':
      events = make('failure', destination, mailTimestamp, {
        ...optional('description', clip(text(section('reject').reason), 1024)),
      });
      break;
    case 'Rendering Failure':
      events = make('failure', destination, mailTimestamp, {
        ...optional('description', clip(text(section('failure').errorMessage), 1024)),
      });
      break;
    case 'DeliveryDelay':
      section('deliveryDelay');
      return {
        kind: 'ignored',
        messageId,
        reason: 'a delivery delay: SES is still trying; its Delivery or Bounce follows',
      };
    case 'Subscription': {
      const subscription = section('subscription');
      const optedOut = optedOutTopics(subscription);
      if (!optedOut) return { kind: 'ignored', messageId, reason: 'a subscription change that opts out of nothing' };
      events = make('unsubscribe', destination, subscription.timestamp, {
        ...optional('description', clip(text(subscription.contactList), 1024)),
        ...nonEmpty('tags', fitTags(optedOut.map((topic) => `topic:${topic}`))),
      });
      break;
    }
    default:
      throw new Unreadable(`eventType "${eventType.slice(0, 64)}" is not one SES publishes`);
  }
  // The same validation and limits as POST /v1/events (parseEventBatch throws InvalidEvents).
  return { kind: 'events', messageId, ...where, events: parseEventBatch({ events }, receivedAt) };
}

/**
 * Derived from SES's own ids, so that a re-delivered SES event makes the same ids and the events
 * queue's client-id claim drops the copy: `ses-` and 40 hex digits of a SHA-256 (EVENT_ID_PATTERN).
 */
export function eventId(messageId: string, eventType: string, recipient: string, timestamp: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([messageId, eventType, recipient, timestamp]))
    .digest('hex');
  return `ses-${digest.slice(0, 40)}`;
}

/** `mail.destination` and the like: 1 to 50 addresses (a `Name <address>` gives its address). */
function addresses(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new Unreadable(`${path} is missing or empty`);
  if (value.length > MAX_SES_RECIPIENTS)
    throw new Unreadable(`${path} names ${value.length} recipients; SES sends to at most ${MAX_SES_RECIPIENTS}`);
  return [...new Set(value.map((entry, index) => address(entry, `${path}[${index}]`)))];
}

function address(value: unknown, path: string): string {
  const raw = text(value);
  if (!raw) throw new Unreadable(`${path} is not an address`);
  return /<([^<>]+)>\s*$/.exec(raw)?.[1]?.trim() ?? raw.trim();
}

interface RecipientEntry {
  address: string;
  status?: unknown;
  diagnosticCode?: unknown;
}

/** `bounce.bouncedRecipients`, `complaint.complainedRecipients`: objects with an `emailAddress`. */
function recipientsOf(value: unknown, path: string): RecipientEntry[] {
  if (!Array.isArray(value) || value.length === 0) throw new Unreadable(`${path} is missing or empty`);
  if (value.length > MAX_SES_RECIPIENTS)
    throw new Unreadable(`${path} names ${value.length} recipients; SES sends to at most ${MAX_SES_RECIPIENTS}`);
  return value.map((entry, index) => {
    if (!isObject(entry)) throw new Unreadable(`${path}[${index}] is not an object`);
    return {
      address: address(entry.emailAddress, `${path}[${index}].emailAddress`),
      status: entry.status,
      diagnosticCode: entry.diagnosticCode,
    };
  });
}

/**
 * A bounced recipient's `status` (the extended code, `5.1.1`) and `diagnosticCode`
 * (`smtp; 550 5.1.1 user unknown`): `code` is the diagnostic's SMTP reply code, `description` the
 * diagnostic, or the bounce's type and subtype when there is none.
 */
function smtpStatus(status: unknown, diagnosticCode: unknown, bounce: Json): Partial<InboundEvent> {
  const diagnostic = clip(text(diagnosticCode), 1024);
  const kind = [text(bounce.bounceType), text(bounce.bounceSubType)].filter(Boolean).join('/');
  return {
    ...optional('code', diagnostic ? /\b([245]\d\d)\b/.exec(diagnostic)?.[1] : undefined),
    ...optional('extended', clip(text(status), 1024)),
    ...optional('description', diagnostic ?? (kind || undefined)),
  };
}

/** The topics a subscription change opted out of, or null when it opts out of nothing. */
function optedOutTopics(subscription: Json): string[] | null {
  const after = objectAt(subscription, 'newTopicPreferences');
  const before = objectAt(subscription, 'oldTopicPreferences');
  if (!after) throw new Unreadable('a Subscription event without subscription.newTopicPreferences');
  const statuses = (preferences: Json | undefined) =>
    new Map(
      (Array.isArray(preferences?.topicSubscriptionStatus) ? preferences.topicSubscriptionStatus : [])
        .filter(isObject)
        .map((entry) => [String(entry.topicName), String(entry.subscriptionStatus)] as const),
    );
  const was = statuses(before);
  const topics = [...statuses(after)]
    .filter(([topic, status]) => status === 'OptOut' && was.get(topic) !== 'OptOut')
    .map(([topic]) => topic);
  const allNow = after.unsubscribeAll === true && before?.unsubscribeAll !== true;
  return allNow || topics.length ? topics : null;
}

function firstTagValue(tags: Json, name: string): string | undefined {
  const values = tags[name];
  return Array.isArray(values) ? text(values[0]) : undefined;
}

/** The message tags as ours, `name:value`, without SES's system tags and the account tag. */
function messageTags(tags: Json): string[] {
  const own = Object.fromEntries(
    Object.entries(tags).filter(([name]) => !name.startsWith('ses:') && name !== ACCOUNT_TAG),
  );
  return fitTags(tagStrings(own));
}

function tagStrings(tags: Json): string[] {
  return Object.entries(tags).flatMap(([name, values]) =>
    (Array.isArray(values) ? values : [values])
      .filter((value) => typeof value === 'string')
      .map((value) => `${name}:${value}`),
  );
}

/** Tags that fit ours (1–100 characters, at most 50): SES allows longer ones, which are left out. */
function fitTags(tags: string[]): string[] {
  return [...new Set(tags.filter((tag) => tag.length >= 1 && tag.length <= 100))].slice(0, 50);
}

/** At most `maxBytes` of UTF-8, cut at a character boundary. */
function clip(value: string | undefined, maxBytes: number): string | undefined {
  if (value === undefined || Buffer.byteLength(value) <= maxBytes) return value;
  let cut = value.slice(0, maxBytes);
  while (Buffer.byteLength(cut) > maxBytes) cut = cut.slice(0, -1);
  return cut;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function nonEmpty<K extends string>(key: K, values: string[]): { [P in K]?: string[] } {
  return (values.length ? { [key]: values } : {}) as { [P in K]?: string[] };
}
