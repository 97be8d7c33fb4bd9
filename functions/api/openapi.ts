import * as z from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { eventsRequestSchema } from '#shared/events/mail-event.ts';
import { createLoopSchema, loopSchema, updateLoopSchema } from '#shared/loops/schemas.ts';
import { ROUTES, type RouteKey } from '#shared/http/routes.ts';
import { accountListSchema, apiKeySchema, createAccountSchema, createdAccountSchema } from './accounts.ts';
import { failureListSchema, replayRequestSchema, replayedSchema } from './failures.ts';
import { downloadSchema, LOGFILE_QUERY, logListSchema } from './logfiles.ts';
import { testResultSchema } from './trial-delivery.ts';
import { PAGE } from './request.ts';

const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('snake_case, stable'),
      message: z.string().describe('A human sentence'),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .describe('Every error');

const acceptedSchema = z.object({ accepted: z.number().int(), ids: z.array(z.string()) });

/** What each route takes and answers; the same schemas validate the requests. */
const SHAPES: Partial<
  Record<
    RouteKey,
    {
      request?: z.ZodType;
      requestOptional?: boolean;
      query?: { name: string; schema: Record<string, unknown> }[];
      status: number;
      response?: z.ZodType;
      /** Also answers 302 to a URL in `Location`. */
      redirects?: boolean;
    }
  >
> = {
  'GET /v1/health': { status: 200, response: z.object({ status: z.literal('ok') }) },
  'GET /v1/openapi.json': { status: 200 },
  'POST /v1/accounts': { request: createAccountSchema, status: 201, response: createdAccountSchema },
  'GET /v1/accounts': { status: 200, response: accountListSchema },
  'POST /v1/accounts/{accountId}/keys': { status: 201, response: apiKeySchema },
  'DELETE /v1/accounts/{accountId}/keys/{keyId}': { status: 204 },
  'POST /v1/events': { request: eventsRequestSchema, status: 202, response: acceptedSchema },
  'POST /v1/loops': { request: createLoopSchema, status: 201, response: loopSchema },
  'GET /v1/loops': {
    status: 200,
    response: z.object({ loops: z.array(loopSchema), nextCursor: z.string().optional() }),
  },
  'GET /v1/loops/{loopId}': { status: 200, response: loopSchema },
  'PATCH /v1/loops/{loopId}': { request: updateLoopSchema, status: 200, response: loopSchema },
  'DELETE /v1/loops/{loopId}': { status: 204 },
  'POST /v1/loops/{loopId}/verify': { status: 200, response: loopSchema },
  'POST /v1/loops/{loopId}/secret/rotate': { status: 200, response: z.object({ secret: z.string() }) },
  'POST /v1/loops/{loopId}/test': { status: 200, response: testResultSchema },
  'GET /v1/loops/{loopId}/failures': { status: 200, response: failureListSchema },
  'POST /v1/loops/{loopId}/failures/replay': {
    request: replayRequestSchema,
    requestOptional: true,
    status: 202,
    response: replayedSchema,
  },
  'GET /v1/logfiles': { query: LOGFILE_QUERY.list, status: 200, response: logListSchema },
  'GET /v1/logfiles/{name}': { query: LOGFILE_QUERY.download, status: 200, response: downloadSchema, redirects: true },
};

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });
const json = (schema: z.ZodType) => ({ 'application/json': { schema: jsonSchema(schema) } });

/** The OpenAPI 3.1 document of this API, built from the route table and the validating schemas. */
export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const shape = SHAPES[`${route.method} ${route.path}`];
    const parameters: { name: string; in: 'path' | 'query'; required: boolean; schema: Record<string, unknown> }[] = [
      ...route.path.matchAll(/\{(\w+)\}/g),
    ].map((match) => ({ name: match[1]!, in: 'path', required: true, schema: { type: 'string' } }));
    if (route.method === 'GET' && /\/(accounts|loops|failures)$/.test(route.path)) {
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
    for (const { name, schema } of shape?.query ?? []) parameters.push({ name, in: 'query', required: false, schema });
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      summary: route.summary,
      ...(route.access === 'public' ? { security: [] } : { 'x-access': route.access }),
      ...(parameters.length ? { parameters } : {}),
      ...(shape?.request ? { requestBody: { required: !shape.requestOptional, content: json(shape.request) } } : {}),
      responses: {
        [String(shape?.status ?? 200)]: {
          description: 'Success',
          ...(shape?.response ? { content: json(shape.response) } : {}),
        },
        ...(shape?.redirects ? { '302': { description: 'Found: `Location` is a presigned URL of the file' } } : {}),
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
