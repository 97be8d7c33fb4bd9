import type { MessageContext } from '#shared/events/enrichment.ts';
import { batchGet, batchPut, expired, expiresAfterDays, itemKeys } from './table.ts';

/** The contexts `sent` events left behind (SPEC §4), one item per (account, message). */

export interface ContextToSave {
  accountId: string;
  message: string;
  context: MessageContext;
}

/** One write per `sent` event, batched 25 to a call; each expires after `ttlDays`. */
export async function saveMessageContexts(contexts: ContextToSave[], ttlDays: number, now: Date): Promise<void> {
  await batchPut(
    contexts.map(({ accountId, message, context }) => ({
      ...itemKeys.messageContext(accountId, message),
      accountId,
      message,
      // As JSON text: a DynamoDB number cannot hold every JSON number (1e21 in `fields`, say).
      context: JSON.stringify(context),
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
        JSON.parse(item.context as string) as MessageContext,
      ]),
  );
}
