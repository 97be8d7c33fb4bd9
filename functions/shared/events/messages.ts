import type { MailEvent } from './mail-event.ts';

/** A message on the events queue: one accepted event of one account. */
export interface QueuedEvent {
  accountId: string;
  receivedAt: string;
  event: MailEvent;
  /** The client gave the event's id: it is an idempotency key (SPEC §4). */
  clientId?: boolean;
}

/** A message on the deliveries queue: one (enriched) event for one loop. */
export interface QueuedDelivery {
  accountId: string;
  loopId: string;
  event: MailEvent;
  /** Set when the delivery is a replay of a recorded failure: which one, and the attempts made before. */
  replayOf?: { failedAt: string; attempts: number };
}
