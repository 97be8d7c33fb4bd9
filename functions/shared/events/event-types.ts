/**
 * The e-mail event types (docs/api.md §4). A module of its own, free of Node APIs, so that the loop and API
 * schemas that name them can be read by the browser dashboard's type check too.
 */
export const EVENT_TYPES = ['sent', 'delivery', 'open', 'click', 'bounce', 'failure', 'unsubscribe', 'abuse'] as const;
/** `test` is produced only by `POST /v1/loops/{id}/test`, never ingested. */
export const ALL_EVENT_TYPES = [...EVENT_TYPES, 'test'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type AnyEventType = (typeof ALL_EVENT_TYPES)[number];
