/**
 * Reads a SOAP 1.1 envelope, hardened: at most 1 MiB, no DOCTYPE or entity declaration (no XXE, no
 * entity expansion), nesting at most 64 deep, well-formed, in the SOAP envelope namespace. What fails
 * is an EnvelopeError, answered as a soap:Client fault.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const MAX_ENVELOPE_BYTES = 1024 * 1024;
export const MAX_DEPTH = 64;

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** An element, with its namespace resolved. */
export interface XmlElement {
  ns: string | undefined;
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Apart from text: CDATA holds no entity references to decode.
  cdataPropName: '__cdata',
  commentPropName: '#comment',
});

/** The five predefined entities and character references; nothing else is an entity here. */
function decodeText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos)?;?/g, (whole, ref: string | undefined) => {
    if (!ref || !whole.endsWith(';'))
      throw new EnvelopeError('An & that starts no predefined entity or character reference.');
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!isXmlChar(code)) throw new EnvelopeError(`The character reference &${ref}; is not a character XML allows.`);
      return String.fromCodePoint(code);
    }
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[ref]!;
  });
}

const isXmlChar = (code: number) =>
  code === 0x9 ||
  code === 0xa ||
  code === 0xd ||
  (code >= 0x20 && code <= 0xd7ff) ||
  (code >= 0xe000 && code <= 0xfffd) ||
  (code >= 0x10000 && code <= 0x10ffff);

/** The deepest nesting of elements, counted before anything is parsed (comments and CDATA left out). */
function depthOf(xml: string): number {
  const tags = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  let depth = 0;
  let deepest = 0;
  for (const match of tags.matchAll(/<(\/?)[^\s>/!?][^>]*?(\/?)>/g)) {
    if (match[1]) depth--;
    else if (!match[2]) deepest = Math.max(deepest, ++depth);
    else deepest = Math.max(deepest, depth + 1);
  }
  return deepest;
}

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElement(node: Node, scope: Map<string, string>): XmlElement {
  const qname = Object.keys(node).find((key) => key !== ':@')!;
  const attributes = node[':@'] ?? {};
  const local = new Map(scope);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'xmlns') local.set('', decodeText(value));
    else if (name.startsWith('xmlns:')) local.set(name.slice(6), decodeText(value));
  }
  const [prefix, name] = qname.includes(':') ? qname.split(':', 2) : ['', qname];
  if (prefix && !local.has(prefix)) throw new EnvelopeError(`The prefix ${prefix}: of <${qname}> is not declared.`);
  const ns = local.get(prefix!) || undefined;
  const children: XmlElement[] = [];
  let text = '';
  for (const child of node[qname] as Node[]) {
    if ('#text' in child) text += decodeText(String(child['#text']));
    else if ('__cdata' in child) text += (child.__cdata as Node[]).map((part) => String(part['#text'] ?? '')).join('');
    else if (!('#comment' in child)) children.push(toElement(child, local));
  }
  const plainAttributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) plainAttributes[key] = decodeText(value);
  return { ns, name: name!, attributes: plainAttributes, children, text };
}

/** The header and body elements of a SOAP 1.1 envelope. */
export function parseEnvelope(bytes: Buffer): { header: XmlElement | undefined; body: XmlElement } {
  if (bytes.length > MAX_ENVELOPE_BYTES) {
    throw new EnvelopeError(`The envelope is ${bytes.length} bytes; at most ${MAX_ENVELOPE_BYTES} are accepted.`);
  }
  const xml = bytes.toString('utf8');
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw new EnvelopeError('A DOCTYPE or entity declaration is not accepted in a SOAP message.');
  }
  if (depthOf(xml) > MAX_DEPTH) throw new EnvelopeError(`The envelope nests deeper than ${MAX_DEPTH} elements.`);
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) throw new EnvelopeError(`The envelope is not well-formed XML: ${valid.err.msg}`);
  let nodes: Node[];
  try {
    nodes = parser.parse(xml) as Node[];
  } catch (error) {
    throw new EnvelopeError(`The envelope is not well-formed XML: ${(error as Error).message}`);
  }
  const roots = nodes.filter((node) => !('#text' in node) && !('#comment' in node));
  if (roots.length !== 1) throw new EnvelopeError('The message must have exactly one root element, the Envelope.');
  const envelope = toElement(roots[0]!, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  if (envelope.name !== 'Envelope' || envelope.ns !== ENVELOPE_NS) {
    throw new EnvelopeError(`The root element must be a SOAP 1.1 Envelope in the namespace ${ENVELOPE_NS}.`);
  }
  const parts = envelope.children.filter((child) => child.ns === ENVELOPE_NS);
  const header = parts.find((part) => part.name === 'Header');
  const body = parts.find((part) => part.name === 'Body');
  if (!body) throw new EnvelopeError('The envelope has no Body.');
  if (body.children.length !== 1) throw new EnvelopeError('The Body must hold exactly one element, the operation.');
  return { header, body: body.children[0]! };
}
