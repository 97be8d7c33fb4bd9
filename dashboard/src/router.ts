/** Goes to a hash route (`#/loops/…`); the same route again renders the page afresh. */
export function go(hash: string): void {
  if (location.hash === hash) dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
