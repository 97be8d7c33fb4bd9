import type { LogPrefix, LogRecord } from '#shared/logs/log-record.ts';
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

/** A message on the log queue: records of one log file (account, accepted day, prefix), flushed together. */
export interface QueuedLogRecords {
  accountId: string;
  date: string;
  prefix: LogPrefix;
  records: LogRecord[];
}
