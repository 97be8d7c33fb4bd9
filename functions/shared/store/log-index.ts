import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LogFormat, LogPrefix } from '#shared/logs/log-record.ts';
import { dynamo } from '#shared/runtime/dynamo.ts';
import {
  INDEX_NAME,
  TABLE,
  expired,
  expiresAfterDays,
  itemKeys,
  queryAll,
  isConditionalCheckFailure,
  conditionally,
} from './table.ts';

/**
 * The index of the log files: one item per (account, day, type) with its record count and size,
 * so listing a day answers from one Query instead of listing S3 chunks. `complete` turns true
 * once compaction has made the day's one object per format; until then the file is in the
 * sparse `LOGS_OPEN` index that compaction reads. `version` counts the chunks written, so
 * compaction can tell whether one arrived while it worked.
 */
export interface LogFileEntry {
  accountId: string;
  date: string;
  prefix: LogPrefix;
  records: number;
  /** Bytes of its JSON Lines. */
  size: number;
  complete: boolean;
  version: number;
  /** The snapshots built of the open file, by format: at which version, and when (docs/api.md §8). */
  snapshots: Partial<Record<LogFormat, Snapshot>>;
}

export interface Snapshot {
  version: number;
  builtAt: string;
}

const SNAPSHOT_ATTRIBUTES: Record<LogFormat, string> = { json: 'snapshotJson', csv: 'snapshotCsv', xml: 'snapshotXml' };

const OPEN = 'LOGS_OPEN';

/** Counts a flushed chunk into its file, which is open (again) until the next compaction. */
export async function addChunk(
  entry: { accountId: string; date: string; prefix: LogPrefix },
  records: number,
  bytes: number,
  retentionDays: number,
): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: TABLE(),
      Key: itemKeys.logFile(entry.accountId, entry.date, entry.prefix),
      UpdateExpression:
        'ADD records :records, #size :bytes, version :one ' +
        'SET accountId = :account, #date = :date, prefix = :prefix, complete = :false, ' +
        'gsi1pk = :open, gsi1sk = :openKey, expiresAt = :expires',
      ExpressionAttributeNames: { '#size': 'size', '#date': 'date' },
      ExpressionAttributeValues: {
        ':records': records,
        ':bytes': bytes,
        ':one': 1,
        ':account': entry.accountId,
        ':date': entry.date,
        ':prefix': entry.prefix,
        ':false': false,
        ':open': OPEN,
        ':openKey': `${entry.date}#${entry.accountId}#${entry.prefix}`,
        ':expires': expiresAfterDays(new Date(`${entry.date}T00:00:00.000Z`), retentionDays + 1),
      },
    }),
  );
}

/** The files not compacted yet whose day ended before `today`. */
export async function openFilesBefore(today: string): Promise<LogFileEntry[]> {
  const items = await queryAll({
    IndexName: INDEX_NAME,
    KeyConditionExpression: 'gsi1pk = :open AND gsi1sk < :today',
    ExpressionAttributeValues: { ':open': OPEN, ':today': today },
  });
  return items.map(toEntry);
}

/**
 * Marks a file compacted with its exact counts, unless a chunk arrived meanwhile (its version
 * moved on): then it stays open and the next compaction takes the new chunk too.
 */
export async function markCompacted(entry: LogFileEntry, records: number, size: number): Promise<boolean> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: TABLE(),
        Key: itemKeys.logFile(entry.accountId, entry.date, entry.prefix),
        UpdateExpression: 'SET complete = :true, records = :records, #size = :size REMOVE gsi1pk, gsi1sk',
        ConditionExpression: 'version = :version',
        ExpressionAttributeNames: { '#size': 'size' },
        ExpressionAttributeValues: { ':true': true, ':records': records, ':size': size, ':version': entry.version },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/** The account's files of a day, or of every day (newest first). */
export async function listLogFiles(accountId: string, now: Date, date?: string): Promise<LogFileEntry[]> {
  const items = await queryAll({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': itemKeys.logFiles(accountId), ':prefix': date ? `FILE#${date}#` : 'FILE#' },
    ScanIndexForward: false,
  });
  return items.filter((item) => !expired(item, now)).map(toEntry);
}

export async function getLogFile(
  accountId: string,
  date: string,
  prefix: LogPrefix,
  now: Date,
): Promise<LogFileEntry | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: TABLE(), Key: itemKeys.logFile(accountId, date, prefix) }),
  );
  return Item && !expired(Item, now) ? toEntry(Item) : undefined;
}

/**
 * Records that the open file's snapshot in `format` was built at `snapshot.version`, so that the
 * next download of that version reuses it; a snapshot of a later version already recorded stays.
 */
export async function recordSnapshot(entry: LogFileEntry, format: LogFormat, snapshot: Snapshot): Promise<void> {
  await conditionally(
    new UpdateCommand({
      TableName: TABLE(),
      Key: itemKeys.logFile(entry.accountId, entry.date, entry.prefix),
      UpdateExpression: 'SET #snapshot = :snapshot',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#snapshot) OR #snapshot.version < :version)',
      ExpressionAttributeNames: { '#snapshot': SNAPSHOT_ATTRIBUTES[format] },
      ExpressionAttributeValues: { ':snapshot': snapshot, ':version': snapshot.version },
    }),
  );
}

function toEntry(item: Record<string, unknown>): LogFileEntry {
  return {
    accountId: item.accountId as string,
    date: item.date as string,
    prefix: item.prefix as LogPrefix,
    records: (item.records as number | undefined) ?? 0,
    size: (item.size as number | undefined) ?? 0,
    complete: item.complete === true,
    version: (item.version as number | undefined) ?? 0,
    snapshots: Object.fromEntries(
      Object.entries(SNAPSHOT_ATTRIBUTES).flatMap(([format, attribute]) =>
        item[attribute] ? [[format, item[attribute] as Snapshot]] : [],
      ),
    ),
  };
}
