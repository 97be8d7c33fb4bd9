import type { MailEvent } from '#shared/events/mail-event.ts';
import { newId } from '#shared/runtime/ids.ts';

/**
 * The event `POST /v1/loops/{loopId}/test` sends (docs/api.md §3, §4): type `test`, a new `evt_` id, the
 * message id `test`, the current time, and an example value in every optional field, so that a
 * receiver's author sees each field as their script will get it (`fields` with a string, a number
 * and a boolean, so the form encoding of each is visible too).
 */

export const TEST_MESSAGE_ID = 'test';

export const TEST_EVENT_EXAMPLE = {
  recipient: 'jane.doe@example.com',
  profile: 'profile-12345',
  fields: { firstname: 'Jane', age: 42, vip: true },
  tags: ['newsletter', 'test'],
  // Documentation addresses and example domains: nothing in a test event points anywhere real.
  ip: '203.0.113.7',
  useragent: 'Mozilla/5.0 (X11; Linux x86_64) FeedbackLoopsTest/1.0',
  referer: 'https://example.com/newsletter/2026-11',
  original: 'https://example.com/offer?utm_source=feedback-loops-test',
  code: '550',
  extended: '5.1.1',
  description: 'This is a test event from Feedback Loops; no message was sent.',
} as const satisfies Omit<MailEvent, 'id' | 'type' | 'message' | 'timestamp'>;

export function testEvent(now: Date): MailEvent {
  return {
    id: newId('evt'),
    type: 'test',
    message: TEST_MESSAGE_ID,
    timestamp: now.toISOString(),
    ...TEST_EVENT_EXAMPLE,
    fields: { ...TEST_EVENT_EXAMPLE.fields },
    tags: [...TEST_EVENT_EXAMPLE.tags],
  };
}
