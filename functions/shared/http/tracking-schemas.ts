/**
 * The request and answer shapes of the tracking routes (docs/tracking.md), as zod schemas for the route
 * table, the OpenAPI document and the dashboard's types. Only zod here (see responses.ts).
 */
import * as z from 'zod';

/** The same limits as the token's (events/tracking-token.ts) and the event's `message` and `original`. */
const MESSAGE_MAX_LENGTH = 128;
const URL_MAX_BYTES = 2048;
const MAX_LINKS = 500;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const isWebUrl = (value: string) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
};

const link = z
  .string()
  .max(URL_MAX_BYTES, { error: `must be at most ${URL_MAX_BYTES} bytes`, abort: true })
  .refine((value) => new TextEncoder().encode(value).length <= URL_MAX_BYTES, {
    error: `must be at most ${URL_MAX_BYTES} bytes`,
    abort: true,
  })
  .refine((value) => !CONTROL.test(value) && isWebUrl(value), {
    error: 'must be an absolute http or https URL without user info or control characters',
  })
  .meta({ format: 'uri' });

export const trackingUrlsRequestSchema = z
  .strictObject({
    message: z
      .string()
      .min(1)
      .max(MESSAGE_MAX_LENGTH)
      .refine((value) => !CONTROL.test(value), { error: 'must not contain control characters' })
      .describe('The id of the e-mail message, as its `sent` event names it.'),
    links: z
      .array(link)
      .max(MAX_LINKS)
      .default([])
      .describe(`The original URLs of the message's links (at most ${MAX_LINKS}).`),
  })
  .describe('The message to make tracking URLs for');

export const trackingUrlsSchema = z
  .object({
    open: z.string().describe('The open pixel: put it in an <img> of the HTML part'),
    links: z
      .array(z.object({ original: z.string(), url: z.string().describe('The click URL that redirects to it') }))
      .describe('One per link, in the order given'),
    keyId: z.string().describe('The tracking key that signed them'),
  })
  .describe('Signed tracking URLs');

export const rotateTrackingKeyRequestSchema = z
  .strictObject({
    revokePrevious: z
      .boolean()
      .default(false)
      .describe('Revoke every earlier key at once: their links answer 404 (within a minute). Default false.'),
  })
  .describe('How to rotate');

export const trackingSecretSchema = z
  .object({
    secret: z.string().describe('trk_…: the key that signs tracking URLs, shown only here'),
    keyId: z.string().describe('Its id, part of every token it signs'),
  })
  .describe("The account's new tracking key");
