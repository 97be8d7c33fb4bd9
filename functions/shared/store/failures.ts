import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FAILURE_RETENTION_DAYS, type FailureRecord } from '#shared/delivery/failure.ts';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { type Page, decodeCursor, pageOf } from './cursors.ts';
import {
  INDEX_NAME,
  TABLE,
  batchGet,
  expired,
  expiresAfterDays,
  itemKeys,
  isConditionalCheckFailure,
  conditionally,
} from './table.ts';

/**
 * Failed deliveries under their loop, one per (loop, event): a delivery that fails again after a
 * replay replaces its record. Listed newest first through the index.
 */

export async function recordFailure(failure: FailureRecord): Promise<void> {
  const pk = itemKeys.failures(failure.accountId, failure.loopId);
  await dynamo.send(
    new PutCommand({
      TableName: TABLE(),
      Item: {
        ...itemKeys.failure(failure.accountId, failure.loopId, failure.eventId),
        gsi1pk: pk,
        gsi1sk: `${failure.failedAt}#${failure.eventId}`,
        ...failure,
        // As JSON text: a DynamoDB number cannot hold every JSON number (1e21 in `fields`, say).
        delivery: JSON.stringify(failure.delivery),
        expiresAt: expiresAfterDays(new Date(failure.failedAt), FAILURE_RETENTION_DAYS),
      },
    }),
  );
}

export async function listFailures(
  accountId: string,
  loopId: string,
  limit: number,
  cursor: string | undefined,
  now: Date,
): Promise<Page<FailureRecord>> {
  const pk = itemKeys.failures(accountId, loopId);
  const page = await dynamo.send(
    new QueryCommand({
      TableName: TABLE(),
      IndexName: INDEX_NAME,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ScanIndexForward: false,
      Limit: limit + 1,
      ExclusiveStartKey: decodeCursor(cursor, {
        pk: (value) => value === pk,
        sk: (value) => value.startsWith('EVENT#'),
        gsi1pk: (value) => value === pk,
        gsi1sk: (value) => /^\d{4}-\d\d-\d\dT[\d:.]+Z#/.test(value),
      }),
    }),
  );
  const found = pageOf(page.Items ?? [], limit, ['pk', 'sk', 'gsi1pk', 'gsi1sk'], toFailure);
  // Filtered after paging, not in the query: a filter would make pages short and hide the cursor.
  return { ...found, items: found.items.filter((failure) => !failureExpired(failure, now)) };
}

function failureExpired(failure: FailureRecord, now: Date): boolean {
  return expiresAfterDays(new Date(failure.failedAt), FAILURE_RETENTION_DAYS) * 1000 <= now.getTime();
}

/**
 * How long a replay's mark holds a failure back from the next replay. Deliver clears the mark on
 * every path (delivered: the failure goes; failed again: a new record replaces it; dropped: the mark
 * is released), so this is only a backstop for a replay lost between its mark and its message: longer
 * than the default retry schedule (about 30 h with jitter).
 */
export const REPLAY_MARK_HOURS = 48;

/** Failures read per query page while looking for those to replay. */
const REPLAY_QUERY_PAGE = 1000;

/** Failures that no replay in flight holds, of these types: what a replay may claim. */
export interface ReplayCandidates {
  failures: FailureRecord[];
  /** More failures are left to look at than this call took (the caller stopped at `max` or its deadline). */
  more: boolean;
  /** Where the read stopped (an event id), when `more`: the next request may go on after it. */
  readUpTo?: string;
}

/**
 * Where the loop's current pass of replays got to (the last event id it took care of), so that the
 * next request of a big backlog goes on from there instead of reading past the failures already
 * queued. Kept for RESUME_MINUTES; a pass that reaches the end starts afresh next time.
 */
const RESUME_MINUTES = 10;
const resumeKey = (accountId: string, loopId: string) => ({ pk: itemKeys.failures(accountId, loopId), sk: 'REPLAY' });

async function readResume(accountId: string, loopId: string, now: Date): Promise<string | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: TABLE(), Key: resumeKey(accountId, loopId) }));
  return Item && !expired(Item, now) ? (Item.after as string) : undefined;
}

/** Saves where the pass got to, or (undefined) ends it: the next replay reads from the start. */
export async function saveReplayResume(accountId: string, loopId: string, after: string | undefined, now: Date) {
  if (after === undefined) {
    await dynamo.send(new DeleteCommand({ TableName: TABLE(), Key: resumeKey(accountId, loopId) }));
    return;
  }
  await dynamo.send(
    new PutCommand({
      TableName: TABLE(),
      Item: {
        ...resumeKey(accountId, loopId),
        after,
        expiresAt: Math.ceil(now.getTime() / 1000) + RESUME_MINUTES * 60,
      },
    }),
  );
}

/**
 * The loop's failures to replay, of the loop's event types and not already queued by a replay in
 * flight: those of these event ids, or else up to `max` of all of them, page by page, until
 * `deadline` (ms since the epoch). Failures a replay holds are read (and skipped) each time, at a
 * 1 MB page per query call; it never returns more than `max`.
 */
export async function failuresToReplay(
  accountId: string,
  loopId: string,
  types: readonly string[],
  eventIds: string[] | undefined,
  { max, deadline, now }: { max: number; deadline: number; now: Date },
): Promise<ReplayCandidates> {
  const stale = staleMark(now);
  const replayable = (item: Record<string, unknown>) =>
    !expired(item, now) &&
    types.includes(item.type as string) &&
    (item.replayQueuedAt === undefined || (item.replayQueuedAt as string) < stale);
  if (!types.length) return { failures: [], more: false };
  if (eventIds) {
    const items = await batchGet(eventIds.map((eventId) => itemKeys.failure(accountId, loopId, eventId)));
    return { failures: items.filter(replayable).map(toFailure), more: false };
  }
  const found: FailureRecord[] = [];
  const pk = itemKeys.failures(accountId, loopId);
  const resume = await readResume(accountId, loopId, now);
  let start: Record<string, unknown> | undefined = resume ? itemKeys.failure(accountId, loopId, resume) : undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: TABLE(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :event)',
        // Filtered by DynamoDB, so that failures a replay holds (or of types the loop no longer takes)
        // do not come back; Limit still bounds what is read.
        FilterExpression:
          '(attribute_not_exists(replayQueuedAt) OR replayQueuedAt < :stale) AND #type IN (' +
          types.map((_, index) => `:type${index}`).join(', ') +
          ')',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: {
          ':pk': pk,
          ':event': 'EVENT#',
          ':stale': stale,
          ...Object.fromEntries(types.map((type, index) => [`:type${index}`, type])),
        },
        Limit: Math.min(REPLAY_QUERY_PAGE, max - found.length),
        ExclusiveStartKey: start,
      }),
    );
    found.push(...(page.Items ?? []).filter(replayable).map(toFailure));
    start = page.LastEvaluatedKey;
  } while (start && found.length < max && Date.now() < deadline);
  const readUpTo = start ? String(start.sk).slice('EVENT#'.length) : undefined;
  return { failures: found, more: start !== undefined, ...(readUpTo ? { readUpTo } : {}) };
}

/**
 * Marks a failure as queued by a replay, unless a replay in flight already holds it or it changed
 * (delivered, failed again) since it was read: true when this replay may queue it.
 */
export async function markReplayQueued(failure: FailureRecord, now: Date): Promise<boolean> {
  return conditionally(
    new UpdateCommand({
      TableName: TABLE(),
      Key: itemKeys.failure(failure.accountId, failure.loopId, failure.eventId),
      UpdateExpression: 'SET replayQueuedAt = :now',
      ConditionExpression: 'failedAt = :failedAt AND (attribute_not_exists(replayQueuedAt) OR replayQueuedAt < :stale)',
      ExpressionAttributeValues: { ':now': now.toISOString(), ':failedAt': failure.failedAt, ':stale': staleMark(now) },
    }),
  );
}

/** Lets the next replay take a failure again: its replay was not queued, or deliver dropped it. */
export async function releaseReplay(accountId: string, loopId: string, eventId: string, failedAt: string) {
  await conditionally(
    new UpdateCommand({
      TableName: TABLE(),
      Key: itemKeys.failure(accountId, loopId, eventId),
      UpdateExpression: 'REMOVE replayQueuedAt',
      ConditionExpression: 'failedAt = :failedAt',
      ExpressionAttributeValues: { ':failedAt': failedAt },
    }),
  );
}

function staleMark(now: Date): string {
  return new Date(now.getTime() - REPLAY_MARK_HOURS * 3_600_000).toISOString();
}

/** Removes a failure once its replay went through, unless it failed again (a newer record) meanwhile. */
export async function clearFailure(accountId: string, loopId: string, eventId: string, failedAt: string) {
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: TABLE(),
        Key: itemKeys.failure(accountId, loopId, eventId),
        ConditionExpression: 'failedAt = :failedAt',
        ExpressionAttributeValues: { ':failedAt': failedAt },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

function toFailure(item: Record<string, unknown>): FailureRecord {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _gsi1pk,
    gsi1sk: _gsi1sk,
    expiresAt: _expiresAt,
    replayQueuedAt: _replayQueuedAt,
    delivery,
    ...failure
  } = item;
  return { ...failure, delivery: JSON.parse(delivery as string) } as unknown as FailureRecord;
}
