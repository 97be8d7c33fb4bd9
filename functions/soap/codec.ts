/**
 * XML ↔ the JSON the REST routes take and answer, guided by the operations' shapes. Decoding is
 * lenient on purpose: a value that is not what the XSD says is passed on as it came, so that the REST
 * route's own validation refuses it with its own error.
 */
import type { Field, Shape } from './shapes.ts';
import type { XmlElement } from './envelope.ts';
import { NAMESPACE, escapeXml } from './wsdl.ts';

const isNil = (element: XmlElement) =>
  Object.entries(element.attributes).some(([name, value]) => /(^|:)nil$/.test(name) && value === 'true') &&
  element.children.length === 0;

/** The JSON of the children of `element`, field by field; elements the shape does not name are passed on too. */
export function decodeFields(element: XmlElement, fields: readonly Field[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const child of element.children) {
    const key = child.ns === NAMESPACE || child.ns === undefined ? child.name : `{${child.ns}}${child.name}`;
    const field =
      child.ns === NAMESPACE || child.ns === undefined ? fields.find((f) => f.name === child.name) : undefined;
    const value = field ? decode(child, field.shape) : decodeUnknown(child);
    if (field?.many) ((result[key] ??= []) as unknown[]).push(value);
    else if (key in result) result[key] = [result[key], value].flat();
    else result[key] = value;
  }
  return result;
}

function decodeUnknown(element: XmlElement): unknown {
  return element.children.length ? decodeFields(element, []) : element.text;
}

function decode(element: XmlElement, shape: Shape): unknown {
  if (isNil(element)) return null;
  switch (shape.kind) {
    case 'object':
      return decodeFields(element, shape.fields);
    case 'map': {
      const map: Record<string, unknown> = {};
      for (const item of element.children) {
        const { key, value } = decodeFields(item, [
          { name: 'key', shape: { kind: 'scalar', type: 'string' }, optional: false, many: false },
          { name: 'value', shape: shape.value, optional: false, many: false },
        ]);
        map[String(key)] = value;
      }
      return map;
    }
    case 'choice': {
      const chosen = element.children.filter((child) => shape.options.includes(child.name as never));
      if (chosen.length !== 1) return element.children.length ? decodeFields(element, []) : element.text;
      return scalar(chosen[0]!.text, chosen[0]!.name as never);
    }
    case 'scalar':
      return element.children.length ? decodeFields(element, []) : scalar(element.text, shape.type);
  }
}

function scalar(text: string, type: string): unknown {
  const trimmed = text.trim();
  if (type === 'int' && /^[-+]?\d+$/.test(trimmed)) return Number(trimmed);
  if (type === 'double' && trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  if (type === 'boolean' && /^(true|1)$/.test(trimmed)) return true;
  if (type === 'boolean' && /^(false|0)$/.test(trimmed)) return false;
  return text;
}

// ---- answers ----

/** The children of an element in the answer, `fields` from `value`, in the XSD's order. */
export function encodeFields(value: Record<string, unknown>, fields: readonly Field[]): string {
  let xml = '';
  for (const field of fields) {
    const item = value[field.name];
    if (item === undefined || item === null) continue;
    for (const one of field.many && Array.isArray(item) ? item : [item]) {
      xml += `<tns:${field.name}>${encode(one, field.shape)}</tns:${field.name}>`;
    }
  }
  return xml;
}

function encode(value: unknown, shape: Shape): string {
  switch (shape.kind) {
    case 'object':
      return encodeFields(value as Record<string, unknown>, shape.fields);
    case 'map':
      return Object.entries(value as Record<string, unknown>)
        .map(
          ([key, item]) =>
            `<tns:item><tns:key>${escapeXml(key)}</tns:key><tns:value>${encode(item, shape.value)}</tns:value></tns:item>`,
        )
        .join('');
    case 'choice': {
      const type =
        typeof value === 'boolean'
          ? 'boolean'
          : typeof value === 'number'
            ? shape.options.includes('int') && Number.isInteger(value)
              ? 'int'
              : 'double'
            : 'string';
      return `<tns:${type}>${escapeXml(String(value))}</tns:${type}>`;
    }
    case 'scalar':
      return escapeXml(String(value));
  }
}
