import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type ApiEvent, type ApiResponse, isAwsOutage } from '#shared/http/api-handler.ts';
import { ApiError, badRequest, serviceUnavailable } from '#shared/http/errors.ts';
import { bearerKey, resolveKey } from '#shared/http/key-resolver.ts';
import { type Principal, principalToContext } from '#shared/http/principal.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { logger } from '#shared/runtime/logger.ts';
import { handler as api } from '../api/handler.ts';
import { handler as ingest } from '../ingest/handler.ts';
import { EnvelopeError, parseEnvelope } from './envelope.ts';
import { OPERATIONS } from './shapes.ts';
import { fault, headerKey, restEvent, soapAnswer, wsdlResponse } from './soap-call.ts';
import { NAMESPACE, soapAction, wsdlDocument } from './wsdl.ts';

/** Where clients POST: the deployment's own URL (never what a request's Host says). */
const WSDL = wsdlDocument(OPERATIONS, `${requireEnv(ENV.API_URL)}/v1/soap`);

/** The function that answers each route; the SOAP API runs the very same handlers as REST. */
const REST = { api, ingest } as const;

/**
 * GET /v1/soap(?wsdl): the WSDL. POST /v1/soap: one SOAP 1.1 call, run as the REST route it names,
 * with the key from the SOAP header or `Authorization: Bearer`.
 */
export const handler = middy<ApiEvent, ApiResponse>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context) => {
    if (event.requestContext.http.method === 'GET') return wsdlResponse(WSDL);
    try {
      return await call(event, context);
    } catch (error) {
      if (error instanceof ApiError) return fault(error);
      if (error instanceof EnvelopeError) return fault(badRequest('malformed_envelope', error.message));
      if (isAwsOutage(error))
        return fault(serviceUnavailable('A service the API depends on is failing just now; try again shortly.'));
      logger.error('Unhandled error', error as Error);
      return fault(
        new ApiError(500, 'internal_error', 'Something went wrong on our side; the request may be retried.'),
      );
    }
  });

async function call(event: ApiEvent, context: Context): Promise<ApiResponse> {
  const mediaType = (event.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'text/xml') {
    throw new ApiError(415, 'unsupported_media_type', 'Send a SOAP 1.1 envelope with "Content-Type: text/xml".');
  }
  const raw = event.body ?? '';
  const { header, body } = parseEnvelope(event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'));
  const operation = body.ns === NAMESPACE ? OPERATIONS.find((candidate) => candidate.name === body.name) : undefined;
  if (!operation) {
    throw badRequest('unknown_operation', `There is no operation {${body.ns ?? ''}}${body.name}; the WSDL lists them.`);
  }
  const action = (event.headers.soapaction ?? '').trim().replace(/^"(.*)"$/, '$1');
  if (action !== soapAction(operation.name)) {
    throw badRequest(
      'invalid_soap_action',
      `SOAPAction must be "${soapAction(operation.name)}" for ${operation.name}.`,
    );
  }
  const principal = await callerOf(headerKey(header), event.headers.authorization);
  const rest = restEvent(event, operation, body, principalToContext(principal));
  // Only account and operator routes are operations (isSoapRoute), and those are answered by api or ingest.
  const run = REST[operation.route.fn as keyof typeof REST];
  return soapAnswer(operation, await run(rest, context));
}

async function callerOf(soapKey: string | undefined, authorization: string | undefined): Promise<Principal> {
  const key = soapKey ?? bearerKey(authorization);
  if (key) return resolveKey(key);
  return { kind: 'anonymous', reason: authorization ? 'invalid' : 'missing' };
}
