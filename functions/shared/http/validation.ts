import * as z from 'zod';
import { formatPath, humanMessage, issueDetails } from '#shared/runtime/schema-problems.ts';
import { badRequest } from './errors.ts';

/**
 * Request validation with zod, answered in the API's error shape: one `details` entry per
 * problem, with a path such as `events[3].type` and a human sentence, never zod's own jargon.
 */
export function parseRequest<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const result = schema.safeParse(payload, { error: humanMessage });
  if (result.success) return result.data;
  const details = result.error.issues
    .flatMap((issue) => issueDetails(issue))
    .map(({ path, message }) => ({ path: formatPath(path), message }));
  const count = details.length === 1 ? '1 problem' : `${details.length} problems`;
  throw badRequest('invalid_request', `The request is not valid: ${count} (see details).`, details);
}
