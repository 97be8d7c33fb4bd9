import type { EventBridgeEvent } from 'aws-lambda';
import { MAX_SES_EVENT_BYTES, readSesEvent, type SesReading } from '#shared/events/ses-events.ts';
import { SES_NOT_DELIVERED } from '#shared/events/ses-source-names.ts';
import type { QueuedEvent } from '#shared/events/messages.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { isId } from '#shared/runtime/ids.ts';
import { logger } from '#shared/runtime/logger.ts';
import { MAX_QUEUED_EVENT_BYTES, SQS_LIMITS } from '#shared/runtime/sqs-limits.ts';
import { sendBatches } from '#shared/runtime/sqs-send.ts';
import { accountExists, accountOfConfigurationSet } from '#shared/store/ses-sources.ts';

const EVENTS_QUEUE_URL = requireEnv(ENV.EVENTS_QUEUE_URL);
/** The rule target's dead-letter queue: where EventBridge puts what kept failing, and this what it cannot deliver. */
const KEPT_QUEUE_URL = requireEnv(ENV.DEAD_LETTER_QUEUE_URL);

/** A mapping is read once a minute per warm instance: a new or removed one takes effect within it. */
const OWNER_CACHE_MS = 60_000;

type SesEvent = EventBridgeEvent<string, unknown>;
type Events = Extract<SesReading, { kind: 'events' }>;

/**
 * The target of the stack's EventBridge rule for `aws.ses` (docs/ses.md): one SES event → the events of
 * the account it belongs to, queued on the events queue as ingest queues them (their ids, derived
 * from SES's, are idempotency keys: EventBridge's redelivery is not delivered twice). A failure to
 * queue throws, so EventBridge retries and at last dead-letters; what cannot be delivered (unreadable,
 * or of no known account) is logged, counted and kept on that dead-letter queue, never retried.
 */
export const handler = async (event: SesEvent): Promise<void> => {
  const receivedAt = clock.now();
  const detailBytes = Buffer.byteLength(JSON.stringify(event.detail ?? null));
  const reading: SesReading =
    detailBytes > MAX_SES_EVENT_BYTES
      ? {
          kind: 'unreadable',
          reason: `its detail takes ${detailBytes} bytes; EventBridge carries at most ${MAX_SES_EVENT_BYTES}`,
        }
      : readSesEvent(event.detail, receivedAt);
  if (reading.kind === 'ignored') {
    logger.info('SES event left out', { messageId: reading.messageId, reason: reading.reason });
    return;
  }
  if (reading.kind === 'unreadable') return keep(event, 'unreadable', reading.reason);
  const accountId = await ownerOf(reading);
  if (!accountId) {
    const named = reading.configurationSet ? `configuration set ${reading.configurationSet}` : 'no configuration set';
    return keep(event, 'no-account', `no account is tagged or mapped (${named})`, reading);
  }

  const outgoing = reading.events.map((mailEvent) => {
    const queued: QueuedEvent = {
      accountId,
      receivedAt: receivedAt.toISOString(),
      event: mailEvent,
      idFromClient: true,
    };
    return { body: JSON.stringify(queued) };
  });
  const tooLarge = outgoing.find(({ body }) => Buffer.byteLength(body) > MAX_QUEUED_EVENT_BYTES);
  if (tooLarge)
    return keep(event, 'unreadable', `an event takes more than ${MAX_QUEUED_EVENT_BYTES} bytes once queued`, reading);
  const notSent = await sendBatches(EVENTS_QUEUE_URL, outgoing, { resendOnce: true });
  if (notSent.length) {
    // Those sent are claimed by id in fanout, so the retry delivers each event once.
    throw new Error(
      `Queueing ${notSent.length} of ${outgoing.length} SES events failed: ${String(notSent[0]!.reason)}`,
    );
  }
  logger.info('SES event queued', { accountId, messageId: reading.messageId, events: outgoing.length });
};

const owners = new Map<string, { accountId: string | undefined; until: number }>();

/** The tagged account if it exists, else the account the configuration set is mapped to. */
async function ownerOf(reading: Events): Promise<string | undefined> {
  const tagged = reading.accountTag;
  // Only an account id is looked up: a tag may hold anything.
  if (
    isId('acc', tagged) &&
    (await cached(`account:${tagged}`, async () => ((await accountExists(tagged)) ? tagged : undefined)))
  )
    return tagged;
  const set = reading.configurationSet;
  return set ? cached(`set:${set}`, () => accountOfConfigurationSet(set)) : undefined;
}

async function cached(key: string, look: () => Promise<string | undefined>): Promise<string | undefined> {
  const now = Date.now();
  const hit = owners.get(key);
  if (hit && hit.until > now) return hit.accountId;
  const accountId = await look();
  owners.set(key, { accountId, until: now + OWNER_CACHE_MS });
  return accountId;
}

/**
 * Logged with a fixed message (counted by the stack's metric filter) and kept on the dead-letter
 * queue, where the alarm tells the operator; the SES event itself goes along unless it is too big.
 */
async function keep(event: SesEvent, reason: 'unreadable' | 'no-account', why: string, reading?: Events) {
  const about = {
    reason,
    why,
    sesEventId: event.id,
    detailType: event['detail-type'],
    ...messageOf(event),
    ...(reading && { messageId: reading.messageId, configurationSet: reading.configurationSet }),
  };
  logger.warn(SES_NOT_DELIVERED, about);
  const whole = JSON.stringify({ ...about, keptAt: clock.now().toISOString(), event });
  const body =
    Buffer.byteLength(whole) <= SQS_LIMITS.batchBytes
      ? whole
      : JSON.stringify({
          ...about,
          keptAt: clock.now().toISOString(),
          event: { ...event, detail: '(left out: too big)' },
        });
  const notSent = await sendBatches(KEPT_QUEUE_URL, [{ body }], { resendOnce: true });
  // Not kept: EventBridge tries again, and in the end puts the event on the same queue itself.
  if (notSent.length) throw new Error(`Keeping an SES event failed: ${String(notSent[0]!.reason)}`);
}

/** The SES message id of an event that could not be read, when it has one worth showing. */
function messageOf(event: SesEvent): { messageId?: string } {
  const mail = (event.detail as { mail?: { messageId?: unknown } } | null)?.mail;
  const id = typeof mail === 'object' && mail !== null ? mail.messageId : undefined;
  return typeof id === 'string' && id.length <= 256 ? { messageId: id } : {};
}
