import { LIMITS, type MailEvent } from './mail-event.ts';

/**
 * Enrichment (docs/api.md §4): a `sent` event leaves what it knows of the message (its context) behind,
 * and every later event of that message is filled in with it where the event itself lacks it.
 */
export interface MessageContext {
  recipient?: string;
  profile?: string;
  fields?: Record<string, string | number | boolean>;
  tags?: string[];
}

/** The context a `sent` event leaves behind; undefined for other types, or when it holds nothing. */
export function contextOf(event: MailEvent): MessageContext | undefined {
  if (event.type !== 'sent') return undefined;
  const context: MessageContext = {};
  if (event.recipient !== undefined) context.recipient = event.recipient;
  if (event.profile !== undefined) context.profile = event.profile;
  if (event.fields !== undefined && Object.keys(event.fields).length > 0) context.fields = event.fields;
  if (event.tags !== undefined && event.tags.length > 0) context.tags = event.tags;
  return Object.keys(context).length > 0 ? context : undefined;
}

/**
 * The event with its message's context filled in. The event's own values win: its recipient,
 * profile and tags replace the context's, and of `fields` its own keys win while the context adds
 * the others (up to the 100 fields an event may carry, its own first).
 */
export function enrich(event: MailEvent, context: MessageContext | undefined): MailEvent {
  if (!context || event.type === 'sent') return event;
  const enriched: MailEvent = { ...event };
  if (enriched.recipient === undefined && context.recipient !== undefined) enriched.recipient = context.recipient;
  if (enriched.profile === undefined && context.profile !== undefined) enriched.profile = context.profile;
  if (enriched.tags === undefined && context.tags !== undefined) enriched.tags = context.tags;
  if (context.fields) enriched.fields = mergeFields(event.fields ?? {}, context.fields);
  return enriched;
}

function mergeFields(
  own: Record<string, string | number | boolean>,
  context: Record<string, string | number | boolean>,
): Record<string, string | number | boolean> {
  const merged = { ...own };
  let count = Object.keys(merged).length;
  for (const [name, value] of Object.entries(context)) {
    if (count >= LIMITS.maxFields) break;
    if (Object.hasOwn(merged, name)) continue;
    merged[name] = value;
    count++;
  }
  return merged;
}

/**
 * The contexts a batch of events brings along, by `<accountId> <message>`. Events are applied in
 * their own time order, so that of two `sent` events of one message the later one wins.
 */
export function contextsInBatch(events: { accountId: string; event: MailEvent }[]): Map<string, MessageContext> {
  const contexts = new Map<string, { at: string; context: MessageContext }>();
  for (const { accountId, event } of events) {
    const context = contextOf(event);
    if (!context) continue;
    const key = contextKey(accountId, event.message);
    const known = contexts.get(key);
    if (!known || known.at <= event.timestamp) contexts.set(key, { at: event.timestamp, context });
  }
  return new Map([...contexts].map(([key, { context }]) => [key, context]));
}

/**
 * The key of a message's context in a batch, `<accountId> <message>`, and back: an account id has
 * no space, so the first space splits it (a message id may have spaces).
 */
export function contextKey(accountId: string, message: string): string {
  return `${accountId} ${message}`;
}

export function splitContextKey(key: string): [accountId: string, message: string] {
  const space = key.indexOf(' ');
  return [key.slice(0, space), key.slice(space + 1)];
}
