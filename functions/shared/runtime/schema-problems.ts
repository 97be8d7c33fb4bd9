import type * as z from 'zod';

/**
 * What a zod schema found wrong with a payload, in human words: a path such as `events[3].type`
 * and a sentence, never zod's own jargon. Free of HTTP: the domain (events/mail-event.ts) reports
 * its problems with it, and the http edge (http/validation.ts) answers them as a 400's details.
 */
export interface Problem {
  path: string;
  message: string;
}

/** Turns one zod issue into details; unions and unknown keys need unpacking to say something useful. */
export function issueDetails(
  issue: z.core.$ZodIssue,
  prefix: PropertyKey[] = [],
): { path: PropertyKey[]; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: 'is not a known field' }));
  }
  if (issue.code === 'invalid_union') {
    // When exactly one alternative got past the type check (a too-long string field value, say), its
    // complaint is the useful one; otherwise the union's own message says what is allowed.
    const closeCalls = issue.errors.filter((branch) => branch.some((inner) => inner.code !== 'invalid_type'));
    if (closeCalls.length === 1) return closeCalls[0]!.flatMap((inner) => issueDetails(inner, path));
  }
  if (issue.code === 'invalid_key' && issue.issues[0]) {
    return [{ path, message: issue.issues[0].message }];
  }
  return [{ path, message: issue.message }];
}

/** `['events', 3, 'fields', 'first name']` → `events[3].fields.first name`. */
export function formatPath(path: PropertyKey[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

/**
 * Human sentences for the generic issue kinds; schema-level messages (formats, byte limits) take
 * precedence over this map, so it only speaks when the schema did not.
 */
export const humanMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value'))
    return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeNames[issue.expected] ?? `of type ${issue.expected}`}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${issue.maximum} characters`
        : `must have at most ${issue.maximum} items`;
    case 'too_small':
      if (issue.origin === 'string') {
        return issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      }
      return `must have at least ${issue.minimum} items`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    default:
      return undefined;
  }
};

const typeNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
};
