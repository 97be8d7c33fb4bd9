import type { MailEvent } from './mail-event.ts';

/** A message on the events queue: one accepted event of one account. */
export interface QueuedEvent {
  accountId: string;
  receivedAt: string;
  event: MailEvent;
  /** The client gave the event's id: it is an idempotency key (docs/api.md §4). */
  idFromClient?: boolean;
}

/** A message on the deliveries queue: one (enriched) event for one loop. */
export interface QueuedDelivery {
  accountId: string;
  loopId: string;
  event: MailEvent;
  /** Set when the delivery is a replay of a recorded failure: which one, and the attempts made before. */
  replayOf?: { failedAt: string; attempts: number };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isEvent = (value: unknown) =>
  isObject(value) &&
  typeof value.id === 'string' &&
  typeof value.type === 'string' &&
  typeof value.message === 'string';

/** What a consumer reads of an events-queue message (ingest wrote it; anything else was put there by hand). */
export const isQueuedEvent = (body: unknown): boolean =>
  isObject(body) && typeof body.accountId === 'string' && typeof body.receivedAt === 'string' && isEvent(body.event);

/** What a consumer reads of a deliveries-queue message. */
export const isQueuedDelivery = (body: unknown): boolean =>
  isObject(body) && typeof body.accountId === 'string' && typeof body.loopId === 'string' && isEvent(body.event);
