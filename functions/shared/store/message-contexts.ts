import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { MessageContext } from '#shared/events/enrichment.ts';
import { batchGet, batchPut, expired, expiresAfterDays, itemKeys } from './table.ts';

/** The contexts `sent` events left behind (docs/api.md §4), one item per (account, message). */

export interface ContextToSave {
  accountId: string;
  message: string;
  context: MessageContext;
}

/**
 * A context longer than this is stored deflated: DynamoDB bills a write unit per started KB, and a
 * `sent` with a kilobyte of profile fields would otherwise take two (or more) units.
 */
export const DEFLATE_ABOVE_BYTES = 400;

/** One write per `sent` event, batched 25 to a call; each expires after `ttlDays`. */
export async function saveMessageContexts(contexts: ContextToSave[], ttlDays: number, now: Date): Promise<void> {
  await batchPut(
    contexts.map(({ accountId, message, context }) => ({
      ...itemKeys.messageContext(accountId, message),
      accountId,
      message,
      // As JSON text: a DynamoDB number cannot hold every JSON number (1e21 in `fields`, say).
      ...storedContext(JSON.stringify(context)),
      expiresAt: expiresAfterDays(now, ttlDays),
    })),
  );
}

/** The stored contexts of these messages, by `contextKey(accountId, message)`; one BatchGetItem per 100. */
export async function readMessageContexts(
  messages: { accountId: string; message: string }[],
  now: Date,
  key: (accountId: string, message: string) => string,
): Promise<Map<string, MessageContext>> {
  const items = await batchGet(messages.map(({ accountId, message }) => itemKeys.messageContext(accountId, message)));
  return new Map(
    items
      .filter((item) => !expired(item, now))
      .map((item) => [
        key(item.accountId as string, item.message as string),
        JSON.parse(contextText(item)) as MessageContext,
      ]),
  );
}

function storedContext(text: string): { context: string } | { contextDeflated: Uint8Array } {
  return Buffer.byteLength(text) > DEFLATE_ABOVE_BYTES ? { contextDeflated: deflateRawSync(text) } : { context: text };
}

/** Items written before contexts were deflated hold `context` as text; both read the same. */
function contextText(item: Record<string, unknown>): string {
  if (item.contextDeflated instanceof Uint8Array) return inflateRawSync(item.contextDeflated).toString('utf8');
  return item.context as string;
}
