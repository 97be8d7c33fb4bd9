import * as z from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { PAGE } from '#shared/http/requests.ts';
import { errorSchema } from '#shared/http/responses.ts';
import { ROUTES, type RouteSpec, pathParams } from '#shared/http/routes.ts';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input') =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io });
const json = (schema: z.ZodType) => ({ 'application/json': { schema: jsonSchema(schema) } });

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: Record<string, unknown>;
}

/** A route's parameters: its path's, then paging or the query parameters its record names. */
function parameters(route: RouteSpec): Parameter[] {
  const parameters: Parameter[] = pathParams(route).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.paged) {
    parameters.push(
      {
        name: 'limit',
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: PAGE.maxLimit, default: PAGE.defaultLimit },
      },
      { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
    );
  }
  for (const [name, schema] of Object.entries(route.query ?? {})) {
    // What the value means (`redirect` a boolean), not the string it is sent as.
    const { $schema: _, ...described } = jsonSchema(schema, 'output');
    parameters.push({ name, in: 'query', required: !schema.safeParse(undefined).success, schema: described });
  }
  return parameters;
}

/** The OpenAPI 3.1 document of this API, built from the route table: its records and their schemas. */
export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES as readonly RouteSpec[]) {
    const routeParameters = parameters(route);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.operation,
      summary: route.summary,
      ...(route.access === 'public' ? { security: [] } : { 'x-access': route.access }),
      ...(routeParameters.length ? { parameters: routeParameters } : {}),
      ...(route.body ? { requestBody: { required: !route.body.optional, content: json(route.body.schema) } } : {}),
      responses: {
        [String(route.status)]: {
          description: 'Success',
          ...(route.response ? { content: json(route.response) } : {}),
          ...(route.answers && !route.redirect ? { content: { [route.answers]: {} } } : {}),
        },
        ...(route.redirect ? { '302': { description: route.redirect } } : {}),
        ...(route.access === 'public' ? {} : { default: { description: 'An error', content: json(errorSchema) } }),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Feedback Loops', version: packageJson.version, description: 'Real-time email-event webhooks.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An account key, or the admin key on operator routes' },
      },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
