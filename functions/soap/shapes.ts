/**
 * What a SOAP message's elements hold, derived from the route records' zod schemas (through their
 * JSON Schema): the WSDL's XSD is written from it, requests are decoded by it and answers encoded by
 * it, so the three cannot disagree.
 */
import * as z from 'zod';
import { ROUTES, type RouteSpec, pathParams } from '#shared/http/routes.ts';

export type Scalar = 'string' | 'int' | 'double' | 'boolean' | 'dateTime' | 'date';

export type Shape =
  | { kind: 'scalar'; type: Scalar; enum?: string[] }
  /** An element per field, in order. */
  | { kind: 'object'; fields: Field[] }
  /** An open map (`fields`): a sequence of `item`s, each a `key` and its value. */
  | { kind: 'map'; value: Shape }
  /** One of several scalar types (a map's value): an element named by the type it holds. */
  | { kind: 'choice'; options: Scalar[] };

export interface Field {
  name: string;
  shape: Shape;
  optional: boolean;
  /** An array: the element repeats (maxOccurs="unbounded"). */
  many: boolean;
}

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  additionalProperties?: JsonSchema | boolean;
};

const toJson = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { unrepresentable: 'any', io }) as JsonSchema;

/** The shape of a JSON Schema; unions of objects merge into one object whose fields are all optional. */
export function shapeOf(schema: JsonSchema): Shape {
  if (schema.anyOf) {
    const branches = schema.anyOf;
    if (branches.every((branch) => branch.type === 'object' && branch.properties)) {
      const fields = new Map<string, Field>();
      for (const branch of branches) {
        for (const field of objectFields(branch)) fields.set(field.name, { ...field, optional: true });
      }
      return { kind: 'object', fields: [...fields.values()] };
    }
    const options = [...new Set(branches.map((branch) => scalarOf(branch)))];
    // `ip`: an IPv4 or an IPv6 address, both strings.
    if (options.length === 1) return { kind: 'scalar', type: options[0]! };
    return { kind: 'choice', options };
  }
  if (schema.type === 'object') {
    if (schema.properties) return { kind: 'object', fields: objectFields(schema) };
    const value = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
    return { kind: 'map', value: shapeOf(value) };
  }
  const enumValues = schema.enum ?? (schema.const === undefined ? undefined : [schema.const]);
  return { kind: 'scalar', type: scalarOf(schema), ...(enumValues ? { enum: enumValues.map(String) } : {}) };
}

function objectFields(schema: JsonSchema): Field[] {
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const many = property.type === 'array';
    return {
      name,
      shape: shapeOf(many ? (property.items ?? {}) : property),
      optional: !(schema.required ?? []).includes(name),
      many,
    };
  });
}

function scalarOf(schema: JsonSchema): Scalar {
  if (schema.type === 'integer') return 'int';
  if (schema.type === 'number') return 'double';
  if (schema.type === 'boolean') return 'boolean';
  if (schema.format === 'date-time') return 'dateTime';
  if (schema.format === 'date') return 'date';
  return 'string';
}

// ---- operations ----

/** Where a request field goes in the REST request. */
export type Placement = 'path' | 'query' | 'body';

export interface Operation {
  name: string;
  route: RouteSpec;
  summary: string;
  /** The request wrapper's fields, and where each goes. */
  input: (Field & { in: Placement })[];
  output: Field[];
}

/**
 * Whether a route is a SOAP operation: every account and operator route, not the public ones
 * (health, the OpenAPI document) and not a record that says `soap: false`.
 */
export const isSoapRoute = (route: RouteSpec) => route.access !== 'public' && route.soap !== false;

const string: Shape = { kind: 'scalar', type: 'string' };

/** The SOAP operation of a route record: path parameters, paging, query and body in one wrapper. */
export function operationOf(route: RouteSpec): Operation {
  const input: Operation['input'] = pathParams(route).map((name) => ({
    name,
    shape: string,
    optional: false,
    many: false,
    in: 'path',
  }));
  if (route.paged) {
    input.push(
      { name: 'limit', shape: { kind: 'scalar', type: 'int' }, optional: true, many: false, in: 'query' },
      { name: 'cursor', shape: string, optional: true, many: false, in: 'query' },
    );
  }
  for (const [name, schema] of Object.entries(route.query ?? {})) {
    // A SOAP answer is always the document: a route that can redirect is asked not to (see REDIRECT).
    if (route.redirect && name === REDIRECT) continue;
    const optional = schema.safeParse(undefined).success;
    input.push({ name, shape: shapeOf(toJson(schema, 'output')), optional, many: false, in: 'query' });
  }
  if (route.body) {
    const body = shapeOf(toJson(route.body.schema, 'input'));
    if (body.kind !== 'object') throw new Error(`${route.operation}: a SOAP body must be an object`);
    for (const field of body.fields) {
      input.push({ ...field, optional: field.optional || Boolean(route.body.optional), in: 'body' });
    }
  }
  const answer = route.response ? shapeOf(toJson(route.response, 'output')) : undefined;
  if (answer && answer.kind !== 'object') throw new Error(`${route.operation}: a SOAP answer must be an object`);
  return { name: route.operation, route, summary: route.summary, input, output: answer?.fields ?? [] };
}

/** The query parameter that turns a route's 302 into its JSON answer; SOAP always sends it as `false`. */
export const REDIRECT = 'redirect';

export const OPERATIONS: readonly Operation[] = (ROUTES as readonly RouteSpec[]).filter(isSoapRoute).map(operationOf);
