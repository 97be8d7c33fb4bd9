import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import packageJson from '../../package.json' with { type: 'json' };
import { sqs } from '../shared/aws.ts';
import { clock } from '../shared/clock.ts';
import { requireEnv, requireIntEnv, requireListEnv } from '../shared/config.ts';
import { logger } from '../shared/logger.ts';
import type { QueuedDelivery } from '../shared/messages.ts';
import { OutboundError, send } from '../shared/outbound-http.ts';
import { outboundPolicyFromEnv } from '../shared/outbound-policy.ts';
import { nextRetryDelay, parseRetryAfter } from '../shared/retry-policy.ts';
import { webhookHeaders } from '../shared/signing.ts';
import { parseBody, sqsBatchHandler } from '../shared/sqs-batch.ts';
import { type LoopRecord, getLoop } from '../shared/table.ts';
import { encodeBody, toRecord } from '../shared/webhook-body.ts';

const DELIVERIES_QUEUE_URL = requireEnv('DELIVERIES_QUEUE_URL');
const DELIVERY_TIMEOUT_MS = requireIntEnv('DELIVERY_TIMEOUT_SECONDS') * 1000;
const RETRY_SCHEDULE = requireListEnv('RETRY_SCHEDULE').map(Number);
const POLICY = outboundPolicyFromEnv();
const USER_AGENT = `FeedbackLoops/${packageJson.version}`;
/** SPEC §5: at most 64 KiB of a receiver's answer is read. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export const handler = sqsBatchHandler(async (record) => {
  const delivery = parseBody<QueuedDelivery>(record);
  if (!delivery) return;
  const loop = await getLoop(delivery.accountId, delivery.loopId);
  if (!loop || loop.status !== 'verified' || !loop.enabled) {
    logger.info('Loop gone, unverified or disabled; delivery dropped', {
      loopId: delivery.loopId,
      eventId: delivery.event.id,
    });
    return;
  }

  const attempt = Number(record.attributes.ApproximateReceiveCount);
  const outcome = await post(loop, delivery);
  if (outcome.ok) {
    logger.info('Delivered', { loopId: loop.id, eventId: delivery.event.id, attempt, status: outcome.status });
    return;
  }

  // The next attempt waits as the retry schedule says. With the schedule exhausted the message
  // shows again at once, and SQS's redrive moves it to the dead-letter queue on that receive.
  const delay = nextRetryDelay(RETRY_SCHEDULE, attempt, outcome.retryAfter);
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: DELIVERIES_QUEUE_URL,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: delay ?? 0,
    }),
  );
  throw new Error(
    `attempt ${attempt} to ${loop.id} failed (${outcome.error}); ${delay === undefined ? 'no retries left' : `next in ${delay} s`}`,
  );
});

type Outcome = { ok: true; status: number } | { ok: false; error: string; status?: number; retryAfter?: number };

async function post(loop: LoopRecord, delivery: QueuedDelivery): Promise<Outcome> {
  const now = clock.now();
  const { contentType, body } = encodeBody(toRecord(delivery.event), loop.format);
  const secrets = loop.secrets
    .filter((secret) => !secret.expiresAt || Date.parse(secret.expiresAt) > now.getTime())
    .map((secret) => secret.value);
  const headers = webhookHeaders({
    id: delivery.event.id,
    timestamp: Math.floor(now.getTime() / 1000),
    body,
    secrets,
    contentType,
    userAgent: USER_AGENT,
  });
  try {
    const response = await send(POLICY, {
      method: 'POST',
      url: loop.url,
      headers,
      body,
      timeoutMs: DELIVERY_TIMEOUT_MS,
      maxResponseBytes: MAX_RESPONSE_BYTES,
    });
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    const retryAfter = parseRetryAfter(headerValue(response.headers['retry-after']), now);
    return {
      ok: false,
      status: response.status,
      error: `HTTP ${response.status}`,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    };
  } catch (error) {
    if (error instanceof OutboundError) return { ok: false, error: `${error.failure}: ${error.message}` };
    throw error;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
