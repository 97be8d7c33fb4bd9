import * as z from 'zod';
import { generateApiKey, hashApiKey } from '#shared/accounts/api-keys.ts';
import { clock } from '#shared/runtime/clock.ts';
import { notFound } from '#shared/http/errors.ts';
import type { ApiEvent, ApiResult } from '#shared/http/api-handler.ts';
import { isId, newId } from '#shared/runtime/ids.ts';
import { addApiKey, createAccount, listAccounts, revokeApiKey } from '#shared/store/accounts.ts';
import { ConditionFailed } from '#shared/store/table.ts';
import { parseRequest } from '#shared/http/validation.ts';
import { pageParams, readBody } from './request.ts';

export const createAccountSchema = z
  .strictObject({ name: z.string().trim().min(1).max(200).describe("The account's name, for the operator.") })
  .describe('A new account');

export const accountSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string() })
  .describe('An account');
export const apiKeySchema = z.object({
  id: z.string(),
  key: z.string().describe('Shown only in this answer; stored only as a hash.'),
});
export const createdAccountSchema = accountSchema
  .extend({ apiKey: apiKeySchema })
  .describe('The new account with its first API key');
export const accountListSchema = z.object({ accounts: z.array(accountSchema), nextCursor: z.string().optional() });

/** A new API key of the account: the key shown once, its hash and the record stored under it. */
function newKey(accountId: string) {
  const key = generateApiKey();
  const record = { keyId: newId('key'), accountId, createdAt: clock.now().toISOString() };
  return { key, hash: hashApiKey(key), record };
}

export async function postAccount(event: ApiEvent): Promise<ApiResult> {
  const { name } = parseRequest(createAccountSchema, readBody(event));
  const account = { id: newId('acc'), name, createdAt: clock.now().toISOString(), loopCount: 0 };
  const { key, hash, record } = newKey(account.id);
  await createAccount(account, { hash, record });
  return {
    status: 201,
    body: { id: account.id, name, createdAt: account.createdAt, apiKey: { id: record.keyId, key } },
  };
}

export async function getAccounts(event: ApiEvent): Promise<ApiResult> {
  const { limit, cursor } = pageParams(event);
  const page = await listAccounts(limit, cursor);
  return {
    status: 200,
    body: {
      accounts: page.items.map(({ id, name, createdAt }) => ({ id, name, createdAt })),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    },
  };
}

export async function postKey(event: ApiEvent): Promise<ApiResult> {
  const accountId = event.pathParameters!.accountId!;
  if (!isId('acc', accountId)) throw notFound(`There is no account ${accountId}.`);
  const { key, hash, record } = newKey(accountId);
  try {
    await addApiKey(hash, record);
  } catch (error) {
    if (error instanceof ConditionFailed) throw notFound(`There is no account ${accountId}.`);
    throw error;
  }
  return { status: 201, body: { id: record.keyId, key } };
}

export async function deleteKey(event: ApiEvent): Promise<ApiResult> {
  const { accountId, keyId } = event.pathParameters as { accountId: string; keyId: string };
  if (!isId('acc', accountId) || !isId('key', keyId) || !(await revokeApiKey(accountId, keyId))) {
    throw notFound(`Account ${accountId} has no key ${keyId}.`);
  }
  return { status: 204 };
}
