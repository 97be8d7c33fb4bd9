/**
 * Cursors: the last key of a page, opaque to clients. A cursor is only accepted for the list it
 * came from, so a client cannot page through another account's items by forging one. Free of the
 * SDK, so that the http edge can tell an InvalidCursor without loading it.
 */

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** A cursor that no page of this list gave out (the http edge answers 400 invalid_cursor). */
export class InvalidCursor extends Error {
  override readonly name = 'InvalidCursor';
  constructor() {
    super('The cursor is not one this list gave out; start again without it.');
  }
}

/**
 * A page of at most `limit` items, read as `limit + 1`: the extra item only tells that more exist,
 * so a cursor is given exactly when there is a next page. The cursor is the last item's key.
 */
export function pageOf<T>(
  items: Record<string, unknown>[],
  limit: number,
  keyNames: string[],
  convert: (item: Record<string, unknown>) => T,
): Page<T> {
  const shown = items.slice(0, limit);
  const last = shown.at(-1);
  if (items.length <= limit || !last) return { items: shown.map(convert) };
  const key = Object.fromEntries(keyNames.map((name) => [name, last[name]]));
  return { items: shown.map(convert), nextCursor: Buffer.from(JSON.stringify(key)).toString('base64url') };
}

/**
 * A cursor's key must be exactly one of its list's keys: DynamoDB refuses (500) any other shape,
 * and any string that is not well-formed Unicode (a lone surrogate, which JSON can spell).
 */
export function decodeCursor(
  cursor: string | undefined,
  expected: Record<string, (value: string) => boolean>,
): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const names = Object.keys(expected);
  const valid =
    key !== null &&
    typeof key === 'object' &&
    !Array.isArray(key) &&
    Object.keys(key).length === names.length &&
    names.every((name) => {
      const value = (key as Record<string, unknown>)[name];
      return typeof value === 'string' && value.length <= 200 && value.isWellFormed() && expected[name]!(value);
    });
  if (!valid) throw new InvalidCursor();
  return key as Record<string, unknown>;
}
