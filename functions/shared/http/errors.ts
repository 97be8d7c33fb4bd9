import { InvalidEvents } from '#shared/events/mail-event.ts';
import { TooManyChecks } from '#shared/loops/check-limits.ts';
import { InvalidCursor } from '#shared/store/cursors.ts';

/**
 * The one error shape of the API (docs/api.md §2). The http edge and the handlers throw ApiError, and
 * `fromDomainError` turns what the domain and the store say went wrong into one; the HTTP layer
 * answers it as `{"error": {"code", "message", "details"?}}` with its status. Anything else that
 * escapes a handler is a bug and is answered as a 500 without internals.
 */
export interface ErrorDetail {
  /** Where in the request the problem is, e.g. `events[3].type`. */
  path: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: ErrorDetail[];
  /** Extra response headers, e.g. `Allow` on a 405. */
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    if (options.details?.length) this.details = options.details;
    if (options.headers) this.headers = options.headers;
  }

  toBody(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
}

export const badRequest = (code: string, message: string, details?: ErrorDetail[]) =>
  new ApiError(400, code, message, details ? { details } : {});
export const unauthorized = () =>
  new ApiError(401, 'unauthorized', 'A valid API key is required: send it as "Authorization: Bearer <key>".');
export const forbidden = (message = 'This API key may not use this route.') => new ApiError(403, 'forbidden', message);
export const notFound = (message = 'No such resource.') => new ApiError(404, 'not_found', message);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
export const payloadTooLarge = (message: string) => new ApiError(413, 'payload_too_large', message);
export const unsupportedMediaType = () =>
  new ApiError(415, 'unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json".');

/** How long a client waits after a 503 before it sends again. */
export const RETRY_AFTER_SECONDS = 5;
/**
 * A service the API depends on is failing just now (docs/api.md §3): the client may send the same request
 * again after `Retry-After` seconds. The one way the API answers 503.
 */
export const serviceUnavailable = (message: string, details?: ErrorDetail[]) =>
  new ApiError(503, 'service_unavailable', message, {
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    ...(details ? { details } : {}),
  });

/** The ApiError that answers an error the domain or the store threw in its own terms, if it is one. */
export function fromDomainError(error: unknown): ApiError | undefined {
  if (error instanceof InvalidEvents) {
    return badRequest(
      error.reason === 'too-many' ? 'too_many_events' : 'invalid_events',
      error.message,
      error.problems,
    );
  }
  if (error instanceof InvalidCursor) return badRequest('invalid_cursor', error.message);
  if (error instanceof TooManyChecks) {
    return new ApiError(429, 'too_many_requests', error.message, {
      headers: { 'retry-after': String(error.retryAfterSeconds) },
    });
  }
  return undefined;
}
