import * as z from 'zod';

/**
 * The deployment settings of SPEC §9: CDK context values (`cdk.json` or `-c key=value`), typed and
 * validated at synth time. This is the only place their defaults live; the stack hands them to the
 * functions through their environment.
 */

/** Context values given with `-c` arrive as strings; values in cdk.json keep their JSON type. */
const integer = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
    z.number().int().min(min).max(max),
  );

const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter(Boolean)
        : value,
    z.array(item),
  );

const boolean = z.preprocess((value) => {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}, z.boolean());

const cidr = z.string().refine(isCidr, 'must be a CIDR range such as 127.0.0.0/8 or ::1/128');

/** SQS cannot hide a message for longer than 12 hours, which bounds each retry delay. */
const MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60;

export const settingsSchema = z.object({
  retrySchedule: list(integer(1, MAX_RETRY_DELAY_SECONDS))
    .refine((delays) => delays.length >= 1 && delays.length <= 20, 'must list 1 to 20 delays')
    .default([5, 60, 300, 1800, 7200, 18000, 36000, 43200]),
  deliveryTimeoutSeconds: integer(1, 30).default(10),
  allowHttpTargets: boolean.default(false),
  allowedTargetCidrs: list(cidr).default([]),
  logFlushSeconds: integer(10, 900).default(60),
  logRetentionDays: integer(1, 3650).default(90),
  messageContextTtlDays: integer(1, 3650).default(90),
  maxLoopsPerAccount: integer(1, 1000).default(20),
  presignExpirySeconds: integer(1, 900).default(300),
});

export type Settings = z.infer<typeof settingsSchema>;
export const SETTING_NAMES = Object.keys(settingsSchema.shape) as (keyof Settings)[];

export class InvalidSettingsError extends Error {}

/** Reads the settings from a context lookup (e.g. `key => app.node.tryGetContext(key)`). */
export function readSettings(lookup: (key: string) => unknown): Settings {
  const raw = Object.fromEntries(SETTING_NAMES.map((name) => [name, lookup(name)]).filter(([, v]) => v !== undefined));
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return `  ${name}: ${issue.message} (got ${JSON.stringify(raw[String(issue.path[0])])})`;
    });
    throw new InvalidSettingsError(`Invalid deployment settings:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (!address || prefix === undefined || rest.length || !/^\d{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (z.ipv4().safeParse(address).success) return bits <= 32;
  if (z.ipv6().safeParse(address).success) return bits <= 128;
  return false;
}
