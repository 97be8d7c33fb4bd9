import { badRequest } from '#shared/http/errors.ts';
import { type ApiEvent, readJsonBody } from '#shared/http/api-handler.ts';

/** Management requests are small; SPEC §4's 1 MiB is for event batches. */
const MAX_BODY_BYTES = 64 * 1024;
export const PAGE = { defaultLimit: 50, maxLimit: 200 };

export const readBody = (event: ApiEvent) => readJsonBody(event, MAX_BODY_BYTES);

/** `?limit=` (1–200, default 50) and `?cursor=` of a list. */
export function pageParams(event: ApiEvent): { limit: number; cursor: string | undefined } {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).filter((name) => name !== 'limit' && name !== 'cursor');
  if (unknown.length) {
    throw badRequest('invalid_request', `Unknown query parameter ${unknown.join(', ')}; lists take limit and cursor.`);
  }
  let limit = PAGE.defaultLimit;
  if (query.limit !== undefined) {
    if (!/^\d{1,3}$/.test(query.limit) || Number(query.limit) < 1 || Number(query.limit) > PAGE.maxLimit) {
      throw badRequest('invalid_request', `limit must be a whole number from 1 to ${PAGE.maxLimit}.`, [
        { path: 'limit', message: `must be a whole number from 1 to ${PAGE.maxLimit}` },
      ]);
    }
    limit = Number(query.limit);
  }
  return { limit, cursor: query.cursor || undefined };
}
