import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { sqs } from './sqs.ts';
import { SQS_LIMITS } from './sqs-limits.ts';

/**
 * The one way the functions send to a queue: `sendBatches` packs the messages into SendMessageBatch
 * calls (SQS_LIMITS: 10 entries, 256 KiB) and answers the messages that did not go, each with why,
 * so that the caller maps them back to whoever they belong to (`bySourceMessage` for an SQS consumer).
 */

/** One message to send; a caller's own fields (whose it is) ride along and come back with a failure. */
export interface Outgoing {
  body: string;
}

export interface NotSent<M extends Outgoing> {
  message: M;
  reason: unknown;
}

export interface SendOptions {
  /** Sends what failed (refused by SQS, or in a call that failed) once more. Off by default. */
  resendOnce?: boolean;
  /** SendMessageBatch calls in flight at once; by default every batch at once. */
  parallelCalls?: number;
  /** Gives up waiting once it aborts: what is not sent then fails with its reason and is not resent. */
  abortSignal?: AbortSignal;
}

/** An entry SQS refused in an answer that took the others. */
export class RefusedBySqs extends Error {
  override readonly name = 'RefusedBySqs';
  constructor(
    readonly code: string | undefined,
    message: string | undefined,
  ) {
    super(`SQS refused the message: ${code ?? 'unknown'} ${message ?? ''}`.trim());
  }
}

/**
 * Sends the messages to the queue, in order, ten (and at most 256 KiB) to a call. A message over
 * 256 KiB goes alone, and SQS refuses it. Answers the messages not sent (none when all went).
 */
export async function sendBatches<M extends Outgoing>(
  queueUrl: string,
  messages: readonly M[],
  options: SendOptions = {},
): Promise<NotSent<M>[]> {
  const batches = packBatches(messages.map((message, index) => ({ index, message })));
  const notSent: NotSent<M>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < batches.length) notSent.push(...(await sendBatch(queueUrl, batches[next++]!, options)));
  };
  const parallel = Math.min(options.parallelCalls ?? batches.length, batches.length);
  await Promise.all(Array.from({ length: parallel }, worker));
  return notSent;
}

/**
 * What an SQS consumer reports: the source records (their SQS message ids) whose messages did not
 * go, with why. A message may carry the work of several records (`sourcesOf` names them).
 */
export function bySourceMessage<M extends Outgoing>(
  notSent: readonly NotSent<M>[],
  sourcesOf: (message: M) => Iterable<string>,
): Map<string, unknown> {
  const failed = new Map<string, unknown>();
  for (const { message, reason } of notSent) for (const source of sourcesOf(message)) failed.set(source, reason);
  return failed;
}

interface Entry<M> {
  /** Its place among the messages: the entry's Id, unique across the calls. */
  index: number;
  message: M;
}

/** Splits the entries, in order, into batches within SQS_LIMITS. */
function packBatches<M extends Outgoing>(entries: readonly Entry<M>[]): Entry<M>[][] {
  const batches: Entry<M>[][] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.message.body);
    const batch = batches.at(-1);
    if (!batch || batch.length === SQS_LIMITS.batchEntries || bytes + size > SQS_LIMITS.batchBytes) {
      batches.push([entry]);
      bytes = size;
    } else {
      batch.push(entry);
      bytes += size;
    }
  }
  return batches;
}

async function sendBatch<M extends Outgoing>(
  queueUrl: string,
  batch: Entry<M>[],
  options: SendOptions,
  resent = false,
): Promise<NotSent<M>[]> {
  const { abortSignal } = options;
  let notSent: (NotSent<M> & { entry: Entry<M> })[];
  try {
    const Entries: SendMessageBatchRequestEntry[] = batch.map(({ index, message }) => ({
      Id: String(index),
      MessageBody: message.body,
    }));
    const command = new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries });
    const sending = sqs.send(command, abortSignal ? { abortSignal } : {});
    const result = await (abortSignal ? beforeAbort(sending, abortSignal) : sending);
    const byId = new Map(batch.map((entry) => [String(entry.index), entry]));
    notSent = (result.Failed ?? []).flatMap((failure) => {
      const entry = byId.get(failure.Id ?? '');
      return entry ? [{ entry, message: entry.message, reason: new RefusedBySqs(failure.Code, failure.Message) }] : [];
    });
  } catch (error) {
    notSent = batch.map((entry) => ({ entry, message: entry.message, reason: error }));
  }
  if (notSent.length && options.resendOnce && !resent && !abortSignal?.aborted) {
    return sendBatch(
      queueUrl,
      notSent.map(({ entry }) => entry),
      options,
      true,
    );
  }
  return notSent.map(({ message, reason }) => ({ message, reason }));
}

/** The work, or the signal's reason once it aborts (whether or not the work heeds the signal). */
function beforeAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_resolve, reject) => {
      if (signal.aborted) reject(signal.reason as Error);
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    }),
  ]);
}
