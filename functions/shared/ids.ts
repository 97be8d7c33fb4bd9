import { monotonicFactory } from 'ulid';

/** Every identifier the system hands out: a type prefix and a ULID, so ids sort by creation time. */
export type IdPrefix = 'acc' | 'key' | 'loop' | 'evt';

const nextUlid = monotonicFactory();

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}
