import * as z from 'zod';

/**
 * The API's shapes for SES configuration sets mapped to an account (docs/ses.md): zod only, for the
 * route table (and its OpenAPI document). The rule a name follows is SES's own.
 */

/** An SES configuration set's name: 1–64 letters, digits, `_` and `-`, as SES allows. */
export const CONFIGURATION_SET_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const configurationSetName = z
  .string()
  .regex(CONFIGURATION_SET_PATTERN, {
    error: "must be an SES configuration set's name: 1 to 64 of A-Z, a-z, 0-9, '_', '-'",
  })
  .describe('The name of an SES configuration set that publishes to EventBridge.');

export const createSesSourceSchema = z
  .strictObject({ configurationSet: configurationSetName })
  .describe("Maps an SES configuration set to the caller's account: its events become the account's.");

export const sesSourceSchema = z
  .object({ configurationSet: z.string(), createdAt: z.string() })
  .describe("An SES configuration set whose events are the account's");

export const sesSourceListSchema = z.object({
  configurationSets: z.array(sesSourceSchema),
  nextCursor: z.string().optional(),
});

export type SesSource = z.infer<typeof sesSourceSchema>;
