/**
 * The loop as the API takes and shows it (docs/api.md §3). Only zod and constants: the route table (read by
 * the CDK app) and the dashboard's types (checked without Node's types) import this file.
 */
import * as z from 'zod';
import { EVENT_TYPES } from '#shared/events/event-types.ts';

/** docs/api.md §3: limits of a loop. */
export const LOOP_LIMITS = { urlMaxLength: 2048, descriptionMaxLength: 1000 };

const url = z
  .string()
  .min(1)
  .max(LOOP_LIMITS.urlMaxLength)
  .describe('Where events are POSTed: https (http only where the deployment allows it).');
const events = z
  .array(z.enum(EVENT_TYPES))
  .min(1)
  .refine((types) => new Set(types).size === types.length, 'must not repeat a type')
  .describe('The event types the loop receives.');
const format = z
  .enum(['form', 'json'])
  .describe('form: application/x-www-form-urlencoded, PHP bracket notation; json: one JSON object.');
const description = z.string().max(LOOP_LIMITS.descriptionMaxLength).describe('Free text for the account.');
const enabled = z
  .boolean()
  .describe('A disabled loop receives nothing; enabling a loop that a 410 disabled re-arms it.');

export const createLoopSchema = z
  .strictObject({
    url,
    events,
    format: format.optional(),
    description: description.optional(),
    enabled: enabled.optional(),
  })
  .describe('A new feedback loop');

export const updateLoopSchema = z
  .strictObject({
    url: url.optional(),
    events: events.optional(),
    format: format.optional(),
    description: description.optional(),
    enabled: enabled.optional(),
  })
  .refine(
    (change) => Object.keys(change).length > 0,
    'must change at least one of url, events, format, description, enabled',
  )
  .describe('A change to a feedback loop: any of its fields');

export const loopSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(EVENT_TYPES)),
    format,
    description: z.string(),
    enabled: z.boolean(),
    status: z.enum(['unverified', 'verified', 'disabled']),
    disabledReason: z.string().optional(),
    verification: z.object({
      file: z.string().describe('Place a file with this name…'),
      content: z.string().describe('…and exactly this content…'),
      locations: z.array(z.string()).describe('…at one of these URLs.'),
      lastCheckedAt: z.string().optional(),
      lastError: z.string().optional(),
    }),
    secret: z.string().optional().describe('The signing secret: only in the answers to create and rotate.'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .describe('A feedback loop');

export const loopListSchema = z.object({ loops: z.array(loopSchema), nextCursor: z.string().optional() });
export const secretSchema = z.object({ secret: z.string() });

export type LoopView = z.infer<typeof loopSchema>;
