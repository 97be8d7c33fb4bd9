import { hashApiKey } from '#shared/accounts/api-keys.ts';
import { itemKeys } from '#shared/store/table.ts';
import { ACCOUNT_ID, KEY_ID, NOW } from './factories.ts';

/**
 * The table items of account ACCOUNT_ID (named Acme) and its key KEY_ID, `apiKey`, as the store keeps
 * them (the key by its hash): for a handler that resolves the key itself, as the SOAP function does.
 * Apart from factories.ts, which loads no store module.
 */
export function accountWithKey(apiKey: string, loopCount = 0): Record<string, unknown>[] {
  return [
    { ...itemKeys.account(ACCOUNT_ID), id: ACCOUNT_ID, name: 'Acme', loopCount },
    { ...itemKeys.apiKey(hashApiKey(apiKey)), keyId: KEY_ID, accountId: ACCOUNT_ID, createdAt: NOW.toISOString() },
  ];
}
