import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The dashboard: `GET /` and `GET /assets/{file}`, from the files built at synth time and copied
 * into this function's bundle under `public/` (see lib/constructs/dashboard.ts). The page is a
 * browser app that calls this same API with the key the user signs in with.
 */
const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');

/** Only this origin's own script and styles; no inline script or style, no framing. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  // HTTPS only from the first visit on, for a year (a browser ignores it over the twin's plain http).
  'strict-transport-security': 'max-age=31536000',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface StaticFile {
  type: string;
  body: Buffer;
  gzipped: Buffer;
}

/** Read once per execution environment: the files are small (tens of KB). */
const files = new Map<string, StaticFile>(
  [['/', 'index.html'] as const, ...assetNames().map((name) => [`/assets/${name}`, `assets/${name}`] as const)].map(
    ([route, file]) => {
      const body = readFileSync(path.join(PUBLIC_DIR, file));
      const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      return [route, { type, body, gzipped: gzipSync(body, { level: 9 }) }];
    },
  ),
);

function assetNames(): string[] {
  const dir = path.join(PUBLIC_DIR, 'assets');
  return existsSync(dir) ? readdirSync(dir) : [];
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const file = files.get(event.rawPath);
  if (!file) {
    return {
      statusCode: 404,
      headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ error: { code: 'not_found', message: `There is no ${event.rawPath} in the dashboard.` } }),
    };
  }
  // Asset names carry their content's hash, so they never change; the page names the current ones.
  const cacheControl = event.rawPath === '/' ? 'no-cache' : 'public, max-age=31536000, immutable';
  const gzip = /\bgzip\b/i.test(event.headers['accept-encoding'] ?? '');
  return {
    statusCode: 200,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': file.type,
      'cache-control': cacheControl,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: (gzip ? file.gzipped : file.body).toString('base64'),
    isBase64Encoded: true,
  };
}
