import { ROUTES, type RouteSpec, routeKey } from '#shared/http/routes.ts';
import { TRACKED_LINK } from './fixture.ts';
import type { Answer } from './http.ts';
import type { FuzzRequest } from './model.ts';

/** What can be wrong with one answer. */
export type FindingKind = '5xx' | 'shape' | 'status' | 'accepted' | 'leak' | 'transport' | 'state' | 'delivery';

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const INTERNALS = /\n\s+at |node_modules|\.ts:\d+|\.mjs:\d+|Error: |TransactionCanceled|ValidationException/;

/**
 * Whether a non-2xx answer is in the error shape of docs/api.md §2 (functions/shared/http/errors.ts):
 * JSON, `{"error": {"code": snake_case, "message": a sentence, "details"?: [{path, message}]}}` and
 * nothing else, no internals; a 405 names the methods in `Allow`, a 429 says when in `Retry-After`.
 */
export function shapeProblem(method: string, answer: Answer): string | undefined {
  if (answer.status === 405 && !answer.headers.allow) return '405 without Allow';
  if (answer.status === 429 && !answer.headers['retry-after']) return '429 without Retry-After';
  if (method === 'HEAD') return undefined;
  if (!/^application\/json/.test(answer.headers['content-type'] ?? ''))
    return `content type ${answer.headers['content-type']}`;
  let body: any;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'body is not JSON';
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body is not an object';
  if (Object.keys(body).join() !== 'error') return `members ${Object.keys(body).join(', ')}`;
  const { error } = body;
  if (error === null || typeof error !== 'object') return 'error is not an object';
  const extra = Object.keys(error).filter((name) => !['code', 'message', 'details'].includes(name));
  if (extra.length) return `error has ${extra.join(', ')}`;
  if (typeof error.code !== 'string' || !SNAKE_CASE.test(error.code)) return `code ${JSON.stringify(error.code)}`;
  if (typeof error.message !== 'string' || !error.message.trim()) return 'no message';
  if (error.details !== undefined) {
    if (!Array.isArray(error.details) || !error.details.length) return 'details is not a non-empty array';
    for (const detail of error.details) {
      if (typeof detail?.path !== 'string' || typeof detail?.message !== 'string' || Object.keys(detail).length !== 2)
        return `detail ${JSON.stringify(detail).slice(0, 100)}`;
    }
  }
  if (INTERNALS.test(answer.text)) return 'internals in the answer';
  return undefined;
}

const NOT_JSON = new Set((ROUTES as readonly RouteSpec[]).filter((route) => route.answers).map(routeKey));

/** The problems of one answer to one request: its kind and a line to read. */
export function checkAnswer(
  request: FuzzRequest,
  answer: Answer,
  foreignIds: string[],
): { kind: FindingKind; detail: string }[] {
  if (answer.transportError) return [{ kind: 'transport', detail: answer.transportError }];
  const found: { kind: FindingKind; detail: string }[] = [];
  const { status } = answer;
  if (status >= 500) found.push({ kind: '5xx', detail: `${status} ${answer.text.slice(0, 300)}` });
  // Routes that answer a browser (the tracking pixel and redirect) answer their errors in HTML, not JSON.
  else if (status >= 300 && status !== 302 && status !== 304 && !NOT_JSON.has(request.route)) {
    const problem = shapeProblem(request.method, answer);
    if (problem) found.push({ kind: 'shape', detail: `${status}: ${problem}: ${answer.text.slice(0, 300)}` });
  }
  if (request.expect === 'refused' && status < 400)
    found.push({ kind: 'accepted', detail: `${status} ${answer.text.slice(0, 200)}` });
  if (status < 500 && status !== 429 && request.statuses && !request.statuses.includes(status)) {
    found.push({
      kind: 'status',
      detail: `${status}, expected ${request.statuses.join(' or ')}: ${answer.text.slice(0, 200)}`,
    });
  }
  // No open redirect: a click redirects only to the link its token signs.
  if (request.route === 'GET /t/c/{token}' && status === 302 && answer.headers.location !== TRACKED_LINK)
    found.push({ kind: 'status', detail: `302 to ${answer.headers.location}, which no token signs` });
  const leaked = foreignIds.filter((id) => answer.text.includes(id) || (answer.headers.location ?? '').includes(id));
  if (leaked.length) found.push({ kind: 'leak', detail: `the answer shows ${leaked.join(', ')}` });
  return found;
}
