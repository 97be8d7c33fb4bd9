import { domainToASCII, domainToUnicode } from 'node:url';

/** RFC 5321: at most 254 octets in all and 64 before the `@`. */
export const ADDRESS_MAX_BYTES = 254;
export const LOCAL_PART_MAX_BYTES = 64;

export const RECIPIENT_ERROR = 'must be an e-mail address';

/**
 * A local part as RFC 5322 `dot-atom`, with RFC 6531's addition of any non-ASCII character: `atext`
 * or non-ASCII, in atoms separated by single dots. Not allowed: controls, separators (spaces of any
 * kind), format and unassigned characters, except the zero-width (non-)joiners some scripts need.
 * Quoted local parts ("john doe"@…) are refused: no mail system of an account sends them.
 */
const LOCAL_ATOM = /^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\p{ASCII}\p{C}\p{Z}]|\u200C|\u200D)+$/u;
/** A domain label as written (before IDNA): letters, marks and digits of any script, and hyphens. */
const UNICODE_LABEL = /^[\p{L}\p{M}\p{N}-]+$/u;
/** The same label after IDNA (`xn--…` for an international one): an RFC 1123 host name label. */
const ASCII_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** A top-level domain: letters, or an IDN one (`xn--p1ai`); never all digits (an IP address). */
const ASCII_TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * Whether `value` is an e-mail address, internationalised ones included (RFC 6531: `zoë@example.com`,
 * `用户@例子.广告`, `user@bücher.example`): `local@domain`, at most 64 octets of UTF-8 before the `@`
 * and 254 in all, a domain of at least two labels that IDNA (UTS #46, as `new URL` does) turns into a
 * valid host name. Addresses are kept as written, never converted to punycode.
 */
export function isEmailAddress(value: string): boolean {
  if (Buffer.byteLength(value, 'utf8') > ADDRESS_MAX_BYTES) return false;
  const at = value.indexOf('@');
  if (at !== value.lastIndexOf('@')) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (at < 1 || Buffer.byteLength(local, 'utf8') > LOCAL_PART_MAX_BYTES) return false;
  if (!local.split('.').every((atom) => LOCAL_ATOM.test(atom))) return false;
  // domainToASCII alone would also accept what a URL parser tolerates (`a/b.com` gives `a`, and it
  // drops invisible characters), so the domain is first checked as written.
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => UNICODE_LABEL.test(label))) return false;
  const ascii = domainToASCII(domain);
  if (ascii === '' || ascii.length > 253) return false;
  const asciiLabels = ascii.split('.');
  if (!asciiLabels.every((label) => ASCII_LABEL.test(label)) || !ASCII_TLD.test(asciiLabels.at(-1)!)) return false;
  // An `xn--` label that is no valid punycode comes back from domainToUnicode unchanged.
  return !domainToUnicode(ascii)
    .split('.')
    .some((label) => label.startsWith('xn--'));
}
