import type { MailEvent } from './mail-event.ts';

/** A message on the events queue: one accepted event of one account. */
export interface QueuedEvent {
  accountId: string;
  receivedAt: string;
  event: MailEvent;
}

/** A message on the deliveries queue: one event for one loop. */
export interface QueuedDelivery {
  accountId: string;
  loopId: string;
  event: MailEvent;
}
