// Feedback Loops tracking URLs, made offline (docs/tracking.md): the open pixel without url, a click with it.
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';

export function trackingUrl(base, accountId, keyId, secret, message, url) {
  const parts = url === undefined ? [keyId, accountId, message] : [keyId, accountId, message, url];
  const payload = Buffer.from(parts.join('\0'), 'utf8');
  const signature = createHmac('sha256', secret).update(payload).digest().subarray(0, 16);
  const kind = url === undefined ? 'o' : 'c';
  return `${base.replace(/\/+$/, '')}/t/${kind}/${payload.toString('base64url')}.${signature.toString('base64url')}`;
}

// node tracking-url.mjs <message> [<link> …] with TRACKING_BASE, TRACKING_ACCOUNT, TRACKING_KEY_ID, TRACKING_SECRET set
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { TRACKING_BASE, TRACKING_ACCOUNT, TRACKING_KEY_ID, TRACKING_SECRET } = process.env;
  const [message, ...links] = process.argv.slice(2);
  for (const link of [undefined, ...links])
    console.log(trackingUrl(TRACKING_BASE, TRACKING_ACCOUNT, TRACKING_KEY_ID, TRACKING_SECRET, message, link));
}
