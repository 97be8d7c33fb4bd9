/**
 * One SOAP call as the REST request it stands for, and the REST answer as a SOAP answer or fault.
 * Pure: the handler runs the REST route in between.
 */
import type { ApiEvent, ApiResponse } from '#shared/http/api-handler.ts';
import { ApiError, badRequest, type ErrorBody } from '#shared/http/errors.ts';
import { type AuthorizerContext } from '#shared/http/principal.ts';
import { routeKey } from '#shared/http/routes.ts';
import { decodeFields, encodeFields } from './codec.ts';
import { ENVELOPE_NS, type XmlElement } from './envelope.ts';
import { type Operation, REDIRECT } from './shapes.ts';
import { AUTH_HEADER, NAMESPACE, escapeXml } from './wsdl.ts';

/** The API key in the SOAP header `Authentication/accessToken`, if there is one. */
export function headerKey(header: XmlElement | undefined): string | undefined {
  const auth = header?.children.find((child) => child.ns === NAMESPACE && child.name === AUTH_HEADER);
  const token = auth?.children.find((child) => child.ns === NAMESPACE && child.name === 'accessToken');
  return token?.text.trim() || undefined;
}

/** The REST request of `operation` called with `element`, as the api (or ingest) function receives it. */
export function restEvent(
  soapEvent: ApiEvent,
  operation: Operation,
  element: XmlElement,
  principal: AuthorizerContext,
): ApiEvent {
  const values = decodeFields(element, operation.input);
  const pathParameters: Record<string, string> = {};
  const query: Record<string, string> = {};
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const field = operation.input.find((candidate) => candidate.name === name);
    if (field?.in === 'path') pathParameters[name] = String(value);
    else if (field?.in === 'query') query[name] = typeof value === 'object' ? JSON.stringify(value) : String(value);
    else body[name] = value;
  }
  for (const field of operation.input) {
    if (field.in === 'path' && !pathParameters[field.name]) {
      throw badRequest('invalid_request', `${field.name} is required.`, [{ path: field.name, message: 'is required' }]);
    }
  }
  const { route } = operation;
  // Elements the operation does not name go to the body, where the route's schema refuses them.
  if (!route.body && Object.keys(body).length) {
    const [name] = Object.keys(body);
    throw badRequest('invalid_request', `${operation.name} takes no element ${name}.`, [
      { path: name!, message: 'is not a field of this operation' },
    ]);
  }
  if (route.redirect && route.query && REDIRECT in route.query) query[REDIRECT] = 'false';
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParameters[name]!));
  const sendBody = route.body && !(route.body.optional && Object.keys(body).length === 0);
  return {
    ...soapEvent,
    routeKey: routeKey(route),
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { ...(sendBody ? { 'content-type': 'application/json' } : {}) },
    ...(Object.keys(query).length ? { queryStringParameters: query } : { queryStringParameters: undefined }),
    ...(Object.keys(pathParameters).length ? { pathParameters } : { pathParameters: undefined }),
    body: sendBody ? JSON.stringify(body) : undefined,
    isBase64Encoded: false,
    requestContext: {
      ...soapEvent.requestContext,
      routeKey: routeKey(route),
      http: { ...soapEvent.requestContext.http, method: route.method, path },
      authorizer: { lambda: principal },
    },
  } as ApiEvent;
}

const XML_TYPE = 'text/xml; charset=utf-8';

const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="${ENVELOPE_NS}" xmlns:tns="${NAMESPACE}"><soap:Body>${body}</soap:Body></soap:Envelope>`;

/** The SOAP answer to the REST answer of `operation`. */
export function soapAnswer(operation: Operation, rest: ApiResponse): ApiResponse {
  const status = rest.statusCode ?? 200;
  if (status >= 400) {
    const { error } = JSON.parse(rest.body ?? '{}') as ErrorBody;
    return fault(
      new ApiError(status, error.code, error.message, {
        ...(error.details ? { details: error.details } : {}),
        ...(rest.headers ? { headers: stringHeaders(rest.headers) } : {}),
      }),
    );
  }
  const value = rest.body ? (JSON.parse(rest.body) as Record<string, unknown>) : {};
  return {
    statusCode: 200,
    headers: { 'content-type': XML_TYPE },
    body: envelope(
      `<tns:${operation.name}Response>${encodeFields(value, operation.output)}</tns:${operation.name}Response>`,
    ),
  };
}

const stringHeaders = (headers: NonNullable<ApiResponse['headers']>) =>
  Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name !== 'content-type')
      .map(([name, value]) => [name, String(value)]),
  );

/**
 * A SOAP 1.1 fault, HTTP 500 as SOAP over HTTP requires: `soap:Server` where REST answers 5xx (an
 * outage the caller may wait out), `soap:Client` for everything else; the REST error in `<detail>`.
 */
export function fault(error: ApiError): ApiResponse {
  const code = error.status >= 500 ? 'soap:Server' : 'soap:Client';
  const details = (error.details ?? [])
    .map(
      (detail) =>
        `<tns:details><tns:path>${escapeXml(detail.path)}</tns:path><tns:message>${escapeXml(detail.message)}</tns:message></tns:details>`,
    )
    .join('');
  const passHeaders = Object.fromEntries(
    Object.entries(error.headers ?? {}).filter(([name]) => name === 'retry-after'),
  );
  return {
    statusCode: 500,
    headers: { 'content-type': XML_TYPE, ...passHeaders },
    body: envelope(
      `<soap:Fault><faultcode>${code}</faultcode><faultstring>${escapeXml(error.message)}</faultstring>` +
        `<detail><tns:error><tns:code>${escapeXml(error.code)}</tns:code><tns:message>${escapeXml(error.message)}</tns:message>${details}</tns:error></detail></soap:Fault>`,
    ),
  };
}

export const wsdlResponse = (wsdl: string): ApiResponse => ({
  statusCode: 200,
  headers: { 'content-type': XML_TYPE },
  body: wsdl,
});
