/** Twin tests: a request to the twin's API (`inject('twin')`) as a client makes it, its answer read. */
import { inject } from 'vitest';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** A request to the twin's API as a client makes it. */
export async function call(
  method: string,
  path: string,
  options: { key?: string; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<ApiAnswer> {
  const { apiUrl } = inject('twin');
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${apiUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON; the test sees the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
