// A Feedback Loops receiver for Node.js, with the Standard Webhooks library (npm install standardwebhooks).
//
// It checks that each POST really comes from Feedback Loops (the signature, made with the loop's
// secret), answers at once, then handles the event. For GETs it serves the loop's verification file
// (fl-….txt) from FEEDBACK_LOOPS_VERIFICATION_DIR (default: the current directory), so that the loop
// can be verified against it.
//
//   FEEDBACK_LOOPS_SECRET=whsec_… PORT=8080 node receiver.mjs

import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { URL, URLSearchParams } from 'node:url';
import { Webhook } from 'standardwebhooks';

// The loop's secret, shown when the loop is created or its secret rotated.
if (!process.env.FEEDBACK_LOOPS_SECRET) throw new Error('Set FEEDBACK_LOOPS_SECRET to the loop secret (whsec_…)');
const webhook = new Webhook(process.env.FEEDBACK_LOOPS_SECRET);
const verificationDir = process.env.FEEDBACK_LOOPS_VERIFICATION_DIR ?? '.';
// An event is at most about 150 KiB; anything much bigger is not from Feedback Loops.
const MAX_BODY_BYTES = 1024 * 1024;

const server = http.createServer(async (request, response) => {
  if (request.method === 'GET') return serveVerificationFile(request, response);
  if (request.method !== 'POST') return response.writeHead(405, { allow: 'GET, POST' }).end();

  // The signature covers the body exactly as it was sent: keep it raw until it is verified.
  const body = await readBody(request);
  if (body === undefined) return response.writeHead(413, { connection: 'close' }).end();
  // Node gives header names in lower case, whatever case the sender used.
  const headers = request.headers;
  if (!headers['webhook-id'] || !headers['webhook-timestamp'] || !headers['webhook-signature']) {
    return refuse(response, 400, 'webhook-id, webhook-timestamp or webhook-signature missing');
  }
  try {
    // verify() refuses a timestamp more than 5 minutes off, and accepts any one of several
    // signatures (during a secret rotation there is one per secret). `jsonParse: false`: after the
    // signature matched, verify() would JSON.parse the body, which throws on a form body (the default
    // format), so the body is parsed below, by its content type.
    webhook.verify(body, headers, { jsonParse: false });
  } catch (error) {
    return refuse(response, 401, error.message);
  }
  const isJson = (headers['content-type'] ?? '').startsWith('application/json');
  const event = isJson ? JSON.parse(body) : readForm(body);

  // Answer first, work afterwards: Feedback Loops waits at most 10 seconds for a 2xx, and otherwise
  // sends the event again later (with the same webhook-id, so a repeat can be recognised).
  response.writeHead(204).end();
  handleEvent(event);
});

// Your work goes here: update the profile, count the open, unsubscribe the address…
function handleEvent(event) {
  console.log(`verified ${event.type} ${event.id} ${event.recipient ?? '-'} ${JSON.stringify(event)}`);
}

/**
 * A form body read as PHP reads it into $_POST: `fields[plan]=pro` into an object, `tags[]=news`
 * into an array. Every value is a string: booleans arrive as "1" / "0", numbers as digits. The
 * objects have no prototype, so a key named `__proto__` stays an ordinary key.
 */
function readForm(body) {
  const event = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const [, outer, inner] = /^([^[\]]+)\[([^[\]]*)\]$/.exec(name) ?? [];
    if (outer === undefined) event[name] = value;
    else if (inner === '') (event[outer] ??= []).push(value);
    else (event[outer] ??= Object.create(null))[inner] = value;
  }
  return event;
}

async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    if ((size += chunk.length) > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function refuse(response, status, reason) {
  console.error(`refused (${status}): ${reason}`);
  response.writeHead(status).end();
}

/** The verification file, asked for in the directory of the loop's URL or in the web root. */
async function serveVerificationFile(request, response) {
  const name = /\/(fl-[\w-]+\.txt)$/.exec(new URL(request.url, 'http://localhost').pathname)?.[1];
  const content = name && (await readFile(path.join(verificationDir, name), 'utf8').catch(() => undefined));
  if (!content) return response.writeHead(404).end();
  response.writeHead(200, { 'content-type': 'text/plain' }).end(content);
}

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => console.log(`listening on http://${host}:${port}`));
