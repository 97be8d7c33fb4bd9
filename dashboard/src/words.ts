/**
 * The API's words as a person would say them: a field's problem as a sentence about that field,
 * times as local dates, a receiver's answer once. Pure: table-tested in test/unit/dashboard-words.test.ts.
 */

/** What the form calls each field the API names in `details[].path` (its first segment). */
export const FIELD_LABELS: Record<string, string> = {
  url: 'script URL',
  events: 'event types',
  format: 'format',
  description: 'description',
  enabled: 'state',
  name: 'name',
  keyId: 'key id',
};

/** The field a detail's path is about: `events[2]` → `events`, `fields.x` → `fields`. */
export const fieldOf = (path: string | undefined) => (path ?? '').split(/[.[]/)[0] ?? '';

/** One of the API's complaints about a field, as a sentence: "Choose at least one event type." */
export function problemInWords(path: string | undefined, message: string): string {
  const name = fieldOf(path);
  const label = FIELD_LABELS[name] ?? name;
  const atLeast = /^must have at least (\d+) items?$/.exec(message);
  if (name === 'events' && atLeast) {
    return atLeast[1] === '1' ? 'Choose at least one event type.' : `Choose at least ${atLeast[1]} event types.`;
  }
  if (name === 'events' && message === 'must not repeat a type') return 'Choose each event type only once.';
  if (message === 'is required' || message === 'must not be empty') {
    return name === 'url' ? 'Enter the URL of your script.' : `Enter the ${label}.`;
  }
  const atMost = /^must be at most (\d+) characters$/.exec(message);
  if (atMost) return `The ${label} is too long: it can have at most ${Number(atMost[1]).toLocaleString()} characters.`;
  if (message === 'is not a known field') return `The ${label} is not something that can be set here.`;
  if (name === 'url' && !message.startsWith('must')) return `This URL cannot be used: ${message}.`;
  const sentence = label ? `The ${label} ${message}` : capitalise(message);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** An ISO time as this browser's local date and time. */
export const when = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** Text from the API with ISO times in it (`HTTP 410 at 2026-…Z: …`), the times said locally. */
export const withLocalTimes = (text: string) =>
  text.replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g, (iso) => when(iso));

/** A receiver's last answer: its status and what went wrong, without saying the status twice. */
export function answerInWords(status: number | undefined, error: string | undefined): string {
  const said = status ? `HTTP ${status}` : '';
  if (!error || error === said) return said || 'no answer';
  if (!said || error.includes(said)) return error;
  return `${said}: ${error}`;
}
