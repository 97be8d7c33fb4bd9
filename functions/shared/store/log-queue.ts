import type { FiledRecord, LogRecord, QueuedLogRecords } from '#shared/logs/log-record.ts';
import { bySourceMessage, sendBatches } from '#shared/runtime/sqs-send.ts';
import { SQS_LIMITS } from '#shared/runtime/sqs-limits.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/**
 * The log queue buffers records until the log writer flushes them (its batching window is
 * `logFlushSeconds`). Records of one file travel packed, many to a message, so that logging an
 * event costs a fraction of an SQS request, not one.
 */

/** Room for a message's envelope around its records. */
const ENVELOPE_BYTES = 512;

/** A record with its file (logs/ builds them: eventRecord, loopErrorRecord), and whose it is. */
export interface LogEntry extends FiledRecord {
  /** The SQS message id of the record it comes from: its failure is reported back per source. */
  sourceMessageId: string;
}

/**
 * Queues the records, packed per file; answers the source messages whose records could not be
 * queued. Every function that logs has LOG_QUEUE_URL set by the stack (AppFunction.sendsTo).
 */
export async function queueLogRecords(entries: LogEntry[]): Promise<Map<string, unknown>> {
  const notSent = await sendBatches(requireEnv(ENV.LOG_QUEUE_URL), pack(entries));
  return bySourceMessage(notSent, (message) => message.sources);
}

/** Groups the entries per file and packs each group into messages that SQS takes. */
function pack(entries: LogEntry[]): { body: string; sources: Set<string> }[] {
  const groups = new Map<string, LogEntry[]>();
  for (const entry of entries) {
    const key = `${entry.accountId} ${entry.date} ${entry.prefix}`;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  const messages: { body: string; sources: Set<string> }[] = [];
  for (const group of groups.values()) {
    const { accountId, date, prefix } = group[0]!;
    let records: LogRecord[] = [];
    let sources = new Set<string>();
    let bytes = 0;
    const flush = () => {
      if (!records.length) return;
      const body = JSON.stringify({ accountId, date, prefix, records } satisfies QueuedLogRecords);
      messages.push({ body, sources });
      records = [];
      sources = new Set();
      bytes = 0;
    };
    for (const entry of group) {
      const size = Buffer.byteLength(JSON.stringify(entry.record)) + 1;
      if (bytes + size > SQS_LIMITS.batchBytes - ENVELOPE_BYTES) flush();
      records.push(entry.record);
      sources.add(entry.sourceMessageId);
      bytes += size;
    }
    flush();
  }
  return messages;
}
