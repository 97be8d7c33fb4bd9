/**
 * What the API answers, as zod schemas: the route table names them (the OpenAPI document is built
 * from them) and the dashboard derives its types from them (`import type`, so no zod in its bundle).
 * The loop's own shapes are in `shared/loops/schemas.ts`. Only zod here: the CDK app reads the route
 * table, and the dashboard's type check runs without Node's types.
 */
import * as z from 'zod';

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('snake_case, stable'),
      message: z.string().describe('A human sentence'),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .describe('Every error');

export const healthSchema = z.object({ status: z.literal('ok') });

/** `POST /v1/events`. */
export const acceptedSchema = z.object({ accepted: z.number().int(), ids: z.array(z.string()) });

// ---- accounts and keys ----

export const accountSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string() })
  .describe('An account');
export const apiKeySchema = z.object({
  id: z.string(),
  key: z.string().describe('Shown only in this answer; stored only as a hash.'),
});
export const apiKeyListSchema = z
  .object({
    keys: z.array(z.object({ id: z.string(), createdAt: z.string() })),
    nextCursor: z.string().optional(),
  })
  .describe("An account's API keys: their ids and when each was issued (a key itself is never shown again)");
export const createdAccountSchema = accountSchema
  .extend({ apiKey: apiKeySchema })
  .describe('The new account with its first API key');
export const accountListSchema = z.object({ accounts: z.array(accountSchema), nextCursor: z.string().optional() });

// ---- a loop's failures ----

export const failureSchema = z
  .object({
    eventId: z.string(),
    type: z.string(),
    failedAt: z.string().describe('When the delivery gave up (its last attempt, or a 410).'),
    attempts: z.number().int().describe('Every attempt made, those of earlier replays included.'),
    lastStatus: z.number().int().optional().describe("The receiver's status at the last attempt, when it answered."),
    lastError: z.string().describe('What went wrong at the last attempt.'),
  })
  .describe('A delivery that exhausted its retries or met a 410 Gone; kept 14 days');

export const failureListSchema = z.object({ failures: z.array(failureSchema), nextCursor: z.string().optional() });

export const replayedSchema = z
  .object({
    replayed: z.number().int().describe('How many failures this request queued for delivery again.'),
    more: z
      .literal(true)
      .optional()
      .describe('More failures are left than one request replays: send the request again to queue the next ones.'),
  })
  .describe('The failures are queued; each leaves the list once its replay is delivered');

// ---- a loop's test delivery ----

export const testResultSchema = z
  .object({
    delivered: z.boolean().describe('Whether the receiver answered 2xx in time.'),
    status: z.number().int().optional().describe("The receiver's HTTP status, when it answered."),
    error: z
      .string()
      .optional()
      .describe('What went wrong, when it was not delivered: `HTTP 500`, `timeout: …`, `connection: …`, `blocked: …`.'),
    durationMs: z.number().int().describe('How long the attempt took, in milliseconds.'),
  })
  .describe('The outcome of a test delivery');

// ---- log files ----

export const logFileSchema = z.object({
  name: z.string().describe('`<type>.<YYYY-MM-DD>`, e.g. clicks.2026-11-21'),
  type: z.string().describe('sent, deliveries, opens, clicks, bounces, failures, unsubscribes, abuses or loop-errors'),
  date: z.string().describe('The UTC day the events were accepted'),
  records: z.number().int(),
  size: z.number().int().describe('Bytes of the JSON Lines'),
  complete: z.boolean().describe('The day is closed and compacted: each event once'),
});
export const logListSchema = z
  .union([
    z.object({ dates: z.array(z.string()).describe('UTC dates that have log files, newest first') }),
    z.object({ files: z.array(logFileSchema).describe('The files of ?date=') }),
  ])
  .describe("Without ?date=, the dates; with it, that day's files");
export const downloadSchema = z
  .object({ url: z.string().describe('A presigned URL of the file'), expiresAt: z.string() })
  .describe('With redirect=false; otherwise 302 to the URL');

export type Account = z.output<typeof accountSchema>;
export type AccountList = z.output<typeof accountListSchema>;
export type ApiKey = z.output<typeof apiKeySchema>;
export type ApiKeyList = z.output<typeof apiKeyListSchema>;
export type CreatedAccount = z.output<typeof createdAccountSchema>;
export type Failure = z.output<typeof failureSchema>;
export type FailureList = z.output<typeof failureListSchema>;
export type Replayed = z.output<typeof replayedSchema>;
export type TestResult = z.output<typeof testResultSchema>;
export type LogFile = z.output<typeof logFileSchema>;
export type LogList = z.output<typeof logListSchema>;
export type Download = z.output<typeof downloadSchema>;
