/**
 * What the routes take that no domain module owns: the account body, the replay body, the log files'
 * query parameters and the paging of lists. The route table names them; the api function validates
 * requests with them (`functions/api/request.ts`) and the OpenAPI document describes them.
 *
 * A query parameter's schema takes the raw value (a string, or undefined when absent) and gives
 * what it means (the OpenAPI document describes that side); its messages are the API's: a failure
 * is answered `<name> <message>.`.
 */
import * as z from 'zod';
import { EVENT_ID_PATTERN, EVENT_ID_RULE } from '#shared/events/mail-event.ts';
import { LOG_FORMATS, isLogDate } from '#shared/logs/log-record.ts';

/** `?limit=` and `?cursor=` of every list. */
export const PAGE = { defaultLimit: 50, maxLimit: 200 };

export const createAccountSchema = z
  .strictObject({ name: z.string().trim().min(1).max(200).describe("The account's name, for the operator.") })
  .describe('A new account');

export const MAX_REPLAY_IDS = 1000;

export const replayRequestSchema = z
  .strictObject({
    eventIds: z
      .array(z.string().regex(EVENT_ID_PATTERN, { error: `must be an event id: ${EVENT_ID_RULE}` }))
      .min(1)
      .max(MAX_REPLAY_IDS)
      .optional()
      .describe(`Replay only the failures of these events (1 to ${MAX_REPLAY_IDS} ids); ids without one are skipped.`),
  })
  .describe("Which failures to replay; no body (or {}) replays all of the loop's failures");

/** `GET /v1/logfiles`. */
export const logListQuery = {
  date: z.string().refine(isLogDate, { error: 'must be a date as YYYY-MM-DD' }).optional().meta({ format: 'date' }),
};

/** `GET /v1/logfiles/{name}`. */
export const downloadQuery = {
  format: z.enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(', ')}` }).default('json'),
  redirect: z
    .stringbool({ truthy: ['true'], falsy: ['false'], case: 'sensitive', error: 'must be true or false' })
    .default(true),
};
