import { monotonicFactory } from 'ulid';

/** Every identifier the system hands out: a type prefix and a ULID, so ids sort by creation time. */
export type IdPrefix = 'acc' | 'key' | 'loop' | 'evt';

const nextUlid = monotonicFactory();

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Whether `value` is an id of this kind; anything else cannot name a stored item. */
export function isId(prefix: IdPrefix, value: string | undefined): value is string {
  return value !== undefined && value.startsWith(`${prefix}_`) && ULID.test(value.slice(prefix.length + 1));
}
