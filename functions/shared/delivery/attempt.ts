import { activeSecrets, type LoopRecord } from '#shared/loops/loop.ts';
import {
  OutboundError,
  type OutboundFailure,
  type OutboundRequest,
  type OutboundResponse,
  USER_AGENT,
} from '#shared/outbound/client.ts';
import { parseRetryAfter } from './retry-policy.ts';
import { webhookHeaders } from './signing.ts';
import { encodeBody, type WebhookRecord } from './webhook-body.ts';

/**
 * One delivery attempt, without AWS: build the signed request → send it → classify the answer.
 * deliver wraps it with the queue's bookkeeping; the test route calls it directly.
 */

/** docs/api.md §5: at most 64 KiB of a receiver's answer is read. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** The POST of one event to one loop, signed with every secret active at `now`. */
export function signedRequest(
  loop: LoopRecord,
  record: WebhookRecord,
  now: Date,
  timeoutMs: number,
): OutboundRequest & { headers: Record<string, string>; body: string } {
  const { contentType, body } = encodeBody(record, loop.format);
  const headers = webhookHeaders({
    id: record.id,
    timestamp: Math.floor(now.getTime() / 1000),
    body,
    secrets: activeSecrets(loop, now),
    contentType,
    userAgent: USER_AGENT,
  });
  return { method: 'POST', url: loop.url, headers, body, timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES };
}

/**
 * What one attempt came to. A failure says of what kind, so that nothing has to read it back out
 * of its words: the receiver answered a status other than 2xx, or it did not answer at all (the
 * guarded client's `timeout`, `connection` or `blocked`). `error` is the same in words, for people
 * and the logs: `HTTP 500`, `timeout: …`, `connection: …`, `blocked: …`.
 */
export type AttemptOutcome = Delivered | AttemptFailure;

export interface Delivered {
  ok: true;
  status: number;
  durationMs: number;
}

export type AttemptFailure =
  | {
      ok: false;
      kind: 'status';
      /** The receiver's status. */
      status: number;
      error: string;
      /** Seconds the receiver asked to wait (Retry-After). */
      retryAfter?: number;
      durationMs: number;
    }
  | { ok: false; kind: OutboundFailure; error: string; durationMs: number };

/** The receiver's status, when it answered. */
export function statusOf(outcome: AttemptOutcome): number | undefined {
  return outcome.ok || outcome.kind === 'status' ? outcome.status : undefined;
}

/** Anything but a 2xx is a failed attempt, a redirect included (never followed). */
export function classifyResponse(response: OutboundResponse, now: Date, durationMs: number): AttemptOutcome {
  const { status } = response;
  if (status >= 200 && status < 300) return { ok: true, status, durationMs };
  const retryAfter = parseRetryAfter(headerValue(response.headers['retry-after']), now);
  return {
    ok: false,
    kind: 'status',
    status,
    error: `HTTP ${status}`,
    durationMs,
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  };
}

/** Sends the request with `send` (the guarded client) and classifies what happened. */
export async function attempt(
  send: (request: OutboundRequest) => Promise<OutboundResponse>,
  request: OutboundRequest,
  now: Date,
  elapsed: () => number = stopwatch(),
): Promise<AttemptOutcome> {
  try {
    const response = await send(request);
    return classifyResponse(response, now, elapsed());
  } catch (error) {
    // Anything else is a bug of ours, not the receiver's failure: it must not count as an attempt.
    if (!(error instanceof OutboundError)) throw error;
    return { ok: false, kind: error.failure, error: `${error.failure}: ${error.message}`, durationMs: elapsed() };
  }
}

function stopwatch(): () => number {
  const start = performance.now();
  return () => Math.round(performance.now() - start);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
