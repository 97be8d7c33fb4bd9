/** Twin tests: what a receiver reads of a delivery, once a Standard Webhooks library has verified it. */
import { Webhook } from 'standardwebhooks';
import type { ReceivedRequest } from './loopback.ts';

/** The JSON body of a delivery, after the Standard Webhooks library verified its signature. */
export function verifiedJson(secret: string, post: ReceivedRequest): Record<string, any> {
  return new Webhook(secret).verify(post.body, {
    'webhook-id': String(post.headers['webhook-id']),
    'webhook-timestamp': String(post.headers['webhook-timestamp']),
    'webhook-signature': String(post.headers['webhook-signature']),
  }) as Record<string, any>;
}
