import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { ROUTES, type RouteSpec } from '#shared/http/routes.ts';
import { decodeFields, encodeFields } from '../../functions/soap/codec.ts';
import { EnvelopeError, parseEnvelope } from '../../functions/soap/envelope.ts';
import { OPERATIONS, isSoapRoute, operationOf } from '../../functions/soap/shapes.ts';
import { wsdlDocument } from '../../functions/soap/wsdl.ts';

const NS = 'urn:feedback-loops:soap:v1';
const envelope = (body: string) =>
  Buffer.from(
    `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="${NS}"><s:Body>${body}</s:Body></s:Envelope>`,
  );

describe('SOAP operations from the route table (no drift)', () => {
  it('has one operation per account and operator route, named by its record, and none for the rest', () => {
    const soapRoutes = (ROUTES as readonly RouteSpec[]).filter(
      (route) => route.access !== 'public' && route.soap !== false,
    );
    expect(OPERATIONS.map((operation) => operation.name)).toEqual(soapRoutes.map((route) => route.operation));
    expect(OPERATIONS.map((operation) => operation.name)).not.toContain('Health_get');
    expect(OPERATIONS.map((operation) => operation.name)).not.toContain('OpenApi_get');
    const wsdl = wsdlDocument(OPERATIONS, 'https://api.example/v1/soap');
    for (const route of soapRoutes) {
      expect(wsdl).toContain(`<wsdl:operation name="${route.operation}">`);
      expect(wsdl).toContain(`soapAction="${NS}#${route.operation}"`);
    }
  });

  it('takes every field of every body schema, path parameter and paging parameter of its route', () => {
    for (const operation of OPERATIONS) {
      const names = operation.input.map((field) => field.name);
      for (const name of operation.route.path.match(/\{(\w+)\}/g) ?? []) expect(names).toContain(name.slice(1, -1));
      if (operation.route.paged) expect(names).toEqual(expect.arrayContaining(['limit', 'cursor']));
      const body = operation.route.body?.schema as z.ZodType | undefined;
      const json = body ? (z.toJSONSchema(body, { unrepresentable: 'any' }) as any) : undefined;
      for (const branch of json?.anyOf ?? (json ? [json] : [])) {
        for (const property of Object.keys(branch.properties ?? {})) expect(names).toContain(property);
      }
    }
  });

  it('makes an operation of a new route by itself, and leaves out a route marked soap: false', () => {
    const route: RouteSpec = {
      method: 'POST',
      path: '/v1/things/{thingId}/polish',
      access: 'account',
      fn: 'api',
      operation: 'Thing_polish',
      summary: 'Polish a thing',
      body: { schema: z.object({ shine: z.number().int(), colours: z.array(z.string()).optional() }) },
      status: 200,
      response: z.object({ polished: z.boolean(), at: z.iso.datetime() }),
    };
    const operation = operationOf(route);
    expect(operation.input.map((field) => [field.name, field.in, field.many, field.optional])).toEqual([
      ['thingId', 'path', false, false],
      ['shine', 'body', false, false],
      ['colours', 'body', true, true],
    ]);
    const wsdl = wsdlDocument([operation], 'https://api.example/v1/soap');
    expect(wsdl).toContain('<xsd:element name="shine" type="xsd:long"/>');
    expect(wsdl).toContain('<xsd:element name="colours" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>');
    expect(wsdl).toContain('<xsd:element name="polished" type="xsd:boolean"/>');
    expect(wsdl).toContain('<xsd:element name="at" type="xsd:dateTime"/>');
    expect(isSoapRoute({ ...route, soap: false })).toBe(false);
    expect(isSoapRoute({ ...route, access: 'public' })).toBe(false);
  });
});

describe('the codec', () => {
  const eventSend = OPERATIONS.find((operation) => operation.name === 'Event_send')!;

  it('decodes arrays, numbers, booleans and the open map by the shapes', () => {
    const { body } = parseEnvelope(
      envelope(
        '<t:Event_send><t:type>open</t:type><t:message>a &amp; b &#x263A;</t:message><t:tags>x</t:tags>' +
          '<t:fields><t:item><t:key>n</t:key><t:value><t:double>4.5</t:double></t:value></t:item>' +
          '<t:item><t:key>b</t:key><t:value><t:boolean>false</t:boolean></t:value></t:item></t:fields></t:Event_send>',
      ),
    );
    expect(decodeFields(body, eventSend.input)).toEqual({
      type: 'open',
      message: 'a & b ☺',
      tags: ['x'],
      fields: { n: 4.5, b: false },
    });
  });

  it('passes on what is not what the XSD says, for the route to refuse', () => {
    const create = OPERATIONS.find((operation) => operation.name === 'Loop_create')!;
    const { body } = parseEnvelope(envelope('<t:Loop_create><t:enabled>maybe</t:enabled><t:x>1</t:x></t:Loop_create>'));
    expect(decodeFields(body, create.input)).toEqual({ enabled: 'maybe', x: '1' });
  });

  it('encodes answers in the XSD’s order, escaped, arrays repeated', () => {
    const list = OPERATIONS.find((operation) => operation.name === 'Loop_list')!;
    const xml = encodeFields(
      { nextCursor: 'c<', loops: [{ id: 'l1', events: ['open', 'click'], enabled: false }] },
      list.output,
    );
    expect(xml).toBe(
      '<tns:loops><tns:id>l1</tns:id><tns:events>open</tns:events><tns:events>click</tns:events><tns:enabled>false</tns:enabled></tns:loops><tns:nextCursor>c&lt;</tns:nextCursor>',
    );
  });
});

describe('the hardened envelope parser', () => {
  it.each([
    ['a DOCTYPE', `<?xml version="1.0"?><!DOCTYPE x []>${envelope('<t:A/>').toString()}`],
    ['an internal entity', `<!ENTITY a "b">${envelope('<t:A/>').toString()}`],
    ['an unknown entity reference', envelope('<t:A>&a;</t:A>').toString()],
    ['a bare &', envelope('<t:A>a & b</t:A>').toString()],
    ['a character XML forbids', envelope('<t:A>&#0;</t:A>').toString()],
    ['nesting of 65', envelope(`${'<t:A>'.repeat(64)}${'</t:A>'.repeat(64)}`).toString()],
    ['more than 1 MiB', envelope(`<t:A>${'a'.repeat(1024 * 1024)}</t:A>`).toString()],
    ['another root', `<x/>`],
    ['no Body', `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`],
    ['an undeclared prefix', envelope('<q:A/>').toString()],
  ])('refuses %s', (_name, xml) => {
    expect(() => parseEnvelope(Buffer.from(xml))).toThrow(EnvelopeError);
  });

  it('takes nesting of 64 and comments, CDATA and character references', () => {
    expect(parseEnvelope(envelope(`${'<t:A>'.repeat(61)}${'</t:A>'.repeat(61)}`)).body.name).toBe('A');
    const { body } = parseEnvelope(envelope('<!-- hi --><t:A><![CDATA[<x>&]]>&lt;&#65;</t:A>'));
    expect(body.text).toBe('<x>&<A');
  });
});
