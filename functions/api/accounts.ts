import { generateApiKey, hashApiKey } from '#shared/accounts/api-keys.ts';
import { clock } from '#shared/runtime/clock.ts';
import { notFound } from '#shared/http/errors.ts';
import type { ApiEvent, ApiResult } from '#shared/http/api-handler.ts';
import { isId, newId } from '#shared/runtime/ids.ts';
import {
  accountExists,
  addApiKey,
  createAccount,
  listAccounts,
  listApiKeys,
  revokeApiKey,
} from '#shared/store/accounts.ts';
import { ConditionFailed } from '#shared/store/table.ts';
import type { RequestOf } from '#shared/http/routes.ts';

/** A new API key of the account: the key shown once, its hash and the record stored under it. */
function newKey(accountId: string) {
  const key = generateApiKey();
  const record = { keyId: newId('key'), accountId, createdAt: clock.now().toISOString() };
  return { key, hash: hashApiKey(key), record };
}

export async function postAccount(_event: ApiEvent, request: RequestOf<'POST /v1/accounts'>): Promise<ApiResult> {
  const { name } = request.body();
  const account = { id: newId('acc'), name, createdAt: clock.now().toISOString(), loopCount: 0 };
  const { key, hash, record } = newKey(account.id);
  await createAccount(account, { hash, record });
  return {
    status: 201,
    body: { id: account.id, name, createdAt: account.createdAt, apiKey: { id: record.keyId, key } },
  };
}

export async function getAccounts(_event: ApiEvent, request: RequestOf<'GET /v1/accounts'>): Promise<ApiResult> {
  const { limit, cursor } = request.page();
  const page = await listAccounts(limit, cursor);
  return {
    status: 200,
    body: {
      accounts: page.items.map(({ id, name, createdAt }) => ({ id, name, createdAt })),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    },
  };
}

export async function getKeys(
  event: ApiEvent,
  request: RequestOf<'GET /v1/accounts/{accountId}/keys'>,
): Promise<ApiResult> {
  const accountId = event.pathParameters!.accountId!;
  if (!isId('acc', accountId) || !(await accountExists(accountId))) throw notFound(`There is no account ${accountId}.`);
  const { limit, cursor } = request.page();
  const page = await listApiKeys(accountId, limit, cursor);
  return { status: 200, body: { keys: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
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
