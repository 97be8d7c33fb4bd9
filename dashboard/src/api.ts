/** Calls this origin's API with the signed-in key; every failure becomes an ApiCallError in words. */
import { session } from './session.ts';

export interface ErrorDetail {
  path?: string;
  message: string;
}

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
  const error = (parsed as { error?: { code?: string; message?: string; details?: ErrorDetail[] } } | undefined)?.error;
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

export interface Loop {
  id: string;
  url: string;
  events: string[];
  format: 'form' | 'json';
  description: string;
  enabled: boolean;
  status: 'unverified' | 'verified' | 'disabled';
  disabledReason?: string;
  verification: { file: string; content: string; locations: string[]; lastCheckedAt?: string; lastError?: string };
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export const EVENT_TYPES = ['sent', 'delivery', 'open', 'click', 'bounce', 'failure', 'unsubscribe', 'abuse'];
