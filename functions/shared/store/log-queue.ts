import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { LogPrefix, LogRecord, QueuedLogRecords } from '#shared/logs/log-record.ts';
import { sqs } from '#shared/runtime/sqs.ts';
import { requireEnv } from '#shared/runtime/config.ts';

/**
 * The log queue buffers records until the log writer flushes them (its batching window is
 * `logFlushSeconds`). Records of one file travel packed, many to a message, so that logging an
 * event costs a fraction of an SQS request, not one.
 */

/** SQS takes at most 10 messages and 256 KiB per batch (and per message). */
const MAX_BATCH_BYTES = 256 * 1024;
/** Room for a message's envelope around its records. */
const ENVELOPE_BYTES = 512;
const MAX_BATCH_ENTRIES = 10;

export interface LogEntry {
  accountId: string;
  date: string;
  prefix: LogPrefix;
  record: LogRecord;
  /** Who asked for it (an SQS message id): its failure is reported back per owner. */
  owner: string;
}

/**
 * Queues the records, packed per file; answers the owners whose records could not be queued.
 * Every function that logs has LOG_QUEUE_URL set by the stack (AppFunction.sendsTo).
 */
export async function queueLogRecords(entries: LogEntry[]): Promise<Map<string, unknown>> {
  const messages = pack(entries);
  const batches: (typeof messages)[] = [];
  for (const message of messages) {
    const batch = batches.at(-1);
    const bytes = (batch ?? []).reduce((sum, entry) => sum + entry.bytes, 0);
    if (!batch || batch.length === MAX_BATCH_ENTRIES || bytes + message.bytes > MAX_BATCH_BYTES)
      batches.push([message]);
    else batch.push(message);
  }
  const failed = new Map<string, unknown>();
  await Promise.all(
    batches.map(async (batch) => {
      const entries = batch.map((message, index) => ({ Id: String(index), MessageBody: message.body }));
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: requireEnv('LOG_QUEUE_URL'), Entries: entries }),
        );
        for (const failure of result.Failed ?? []) {
          for (const owner of batch[Number(failure.Id)]!.owners)
            failed.set(owner, new Error(`log records not queued: ${failure.Code}`));
        }
      } catch (error) {
        for (const message of batch) for (const owner of message.owners) failed.set(owner, error);
      }
    }),
  );
  return failed;
}

/** Groups the entries per file and packs each group into messages of at most MAX_BATCH_BYTES. */
function pack(entries: LogEntry[]): { body: string; bytes: number; owners: Set<string> }[] {
  const groups = new Map<string, LogEntry[]>();
  for (const entry of entries) {
    const key = `${entry.accountId} ${entry.date} ${entry.prefix}`;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  const messages: { body: string; bytes: number; owners: Set<string> }[] = [];
  for (const group of groups.values()) {
    const { accountId, date, prefix } = group[0]!;
    let records: LogRecord[] = [];
    let owners = new Set<string>();
    let bytes = 0;
    const flush = () => {
      if (!records.length) return;
      const body = JSON.stringify({ accountId, date, prefix, records } satisfies QueuedLogRecords);
      messages.push({ body, bytes: Buffer.byteLength(body), owners });
      records = [];
      owners = new Set();
      bytes = 0;
    };
    for (const entry of group) {
      const size = Buffer.byteLength(JSON.stringify(entry.record)) + 1;
      if (bytes + size > MAX_BATCH_BYTES - ENVELOPE_BYTES) flush();
      records.push(entry.record);
      owners.add(entry.owner);
      bytes += size;
    }
    flush();
  }
  return messages;
}
