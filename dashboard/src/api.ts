/**
 * Calls this origin's API with the signed-in key; every failure becomes an ApiCallError in words.
 * The API's types come from its own zod schemas, imported as types only: the bundle holds no zod.
 */
import type * as z from 'zod';
import type { errorSchema } from '#shared/http/responses.ts';
import type { createLoopSchema, loopListSchema, loopSchema, secretSchema } from '#shared/loops/schemas.ts';
import type { trackingSecretSchema, trackingUrlsSchema } from '#shared/http/tracking-schemas.ts';
import { session } from './session.ts';

export { EVENT_TYPES } from '#shared/events/event-types.ts';
export type {
  Account,
  AccountList,
  ApiKey,
  ApiKeyList,
  CreatedAccount,
  Download,
  Failure,
  FailureList,
  LogFile,
  LogList,
  Replayed,
  TestResult,
} from '#shared/http/responses.ts';

export type Loop = z.output<typeof loopSchema>;
export type LoopList = z.output<typeof loopListSchema>;
export type LoopInput = z.input<typeof createLoopSchema>;
export type Secret = z.output<typeof secretSchema>;
export type TrackingUrls = z.output<typeof trackingUrlsSchema>;
export type TrackingSecret = z.output<typeof trackingSecretSchema>;
/** What the API answers when it refuses: `{"error": {code, message, details?}}`. */
type ErrorAnswer = z.output<typeof errorSchema>;
export type ErrorDetail = NonNullable<ErrorAnswer['error']['details']>[number];

/** A call to the API that failed: what it answered (status 0: it could not be reached). */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** Set by main: what to do when the key stops working (revoked while signed in). */
export const onUnauthorized = { handler: () => {} };

export async function api<T>(method: string, path: string, body?: unknown, key = session.key()): Promise<T> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiCallError(0, 'network', `The API could not be reached (${(error as Error).message}). Try again.`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (response.ok) return parsed as T;
  const error = (parsed as Partial<ErrorAnswer> | undefined)?.error;
  if (response.status === 401) {
    if (key === session.key()) onUnauthorized.handler();
    throw new ApiCallError(401, 'unauthorized', 'This key is not valid: it is unknown or has been revoked.');
  }
  throw new ApiCallError(
    response.status,
    error?.code ?? 'http_error',
    error?.message ?? `The API answered ${response.status} ${response.statusText}.`,
    error?.details ?? [],
  );
}
