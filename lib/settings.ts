import * as z from 'zod';
// SQS's 12-hour bound on a retry delay, the one the deliver function applies.
import { MAX_DELAY_SECONDS } from '#shared/delivery/retry-policy.ts';

/**
 * The deployment settings of docs/api.md §9: CDK context values (`cdk.json` or `-c key=value`), typed and
 * validated at synth time. This is the only place their defaults live; the stack hands them to the
 * functions through their environment.
 */

/**
 * Each helper says what a value must be, in the words readSettings puts after the setting's name
 * (`deliveryTimeoutSeconds: must be a whole number from 1 to 30 (got "0")`).
 */

/** Context values given with `-c` arrive as strings; values in cdk.json keep their JSON type. */
const integer = (
  min: number,
  max: number,
  rule = `must be a whole number from ${min} to ${max}`,
  /** What a whole number outside min to max is told, if not `rule`. */
  range = rule,
) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
    z.number({ error: rule }).int({ error: rule }).min(min, { error: range }).max(max, { error: range }),
  );

/** A comma-separated list (`-c`) or a JSON array (cdk.json); `rule` says what the whole list must be. */
const list = <T extends z.ZodType>(item: T, rule: string) =>
  z.preprocess((value) => (typeof value === 'string' ? listItems(value) : value), z.array(item, { error: rule }));

const listItems = (value: string) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

const boolean = z.preprocess(
  (value) => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    return value;
  },
  z.boolean({ error: 'must be true or false' }),
);

/** One of a few words, in any case (`-c logLevel=debug` works too). */
const oneOf = <const T extends readonly [string, ...string[]]>(words: T, upper: boolean) =>
  z.preprocess(
    (value) => (typeof value === 'string' ? (upper ? value.trim().toUpperCase() : value.trim().toLowerCase()) : value),
    z.enum(words, { error: `must be one of ${words.join(', ')}` }),
  );

const CIDR_RULE = 'must be a CIDR range such as 127.0.0.0/8 or ::1/128';
const cidr = z.string({ error: CIDR_RULE }).refine(isCidr, { error: CIDR_RULE });

const delays = `give delays from 1 to ${MAX_DELAY_SECONDS}, e.g. 5,60,300`;
const SCHEDULE_RULE = `must list 1 to 20 delays in seconds from 1 to ${MAX_DELAY_SECONDS}, e.g. 5,60,300`;

export const settingsSchema = z.object({
  retrySchedule: list(
    integer(1, MAX_DELAY_SECONDS, `is not a whole number of seconds; ${delays}`, `is out of range; ${delays}`),
    SCHEDULE_RULE,
  )
    .refine((schedule) => schedule.length >= 1 && schedule.length <= 20, { error: SCHEDULE_RULE })
    .default([5, 60, 300, 1800, 7200, 18000, 36000, 43200]),
  deliveryTimeoutSeconds: integer(1, 30).default(10),
  allowHttpTargets: boolean.default(false),
  allowedTargetCidrs: list(cidr, 'must list CIDR ranges such as 127.0.0.0/8,::1/128').default([]),
  logFlushSeconds: integer(10, 900).default(60),
  logRetentionDays: integer(1, 3650).default(90),
  messageContextTtlDays: integer(1, 3650).default(90),
  maxLoopsPerAccount: integer(1, 1000).default(20),
  presignExpirySeconds: integer(1, 900).default(300),
  /** The functions' application log level: per-event lines are DEBUG, one summary per invocation INFO. */
  logLevel: oneOf(['DEBUG', 'INFO', 'WARN', 'ERROR'], true).default('INFO'),
  /**
   * X-Ray active tracing of every function (`active`), or none (`off`, the default): Lambda's sampling
   * (the first request a second, 5 % of the rest) cannot be lowered, and at low traffic it traces
   * nearly every invocation, at $5 per million traces: several times what the rest of an event costs.
   */
  tracing: oneOf(['active', 'off'], false).default('off'),
  /** Each API route's steady rate (requests per second) and burst (bucket size), within the account's 10,000/5,000. */
  throttleRateLimit: integer(1, 10_000).default(500),
  throttleBurstLimit: integer(1, 5_000).default(1000),
  /** Takes SES event publishing from the default event bus (docs/ses.md). */
  sesEvents: boolean.default(true),
  /** Tracking links keep working this long after the key that signed them was rotated away (docs/tracking.md). */
  trackingLinkDays: integer(1, 3650).default(365),
  /** A host name that serves the tracking links (an API Gateway custom domain); with trackingCertificateArn. */
  trackingDomain: z
    .string({ error: 'must be a host name such as t.example.com' })
    .regex(
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
      'must be a host name such as t.example.com',
    )
    .optional(),
  /** The ACM certificate (in the stack's region) for trackingDomain. */
  trackingCertificateArn: z
    .string({ error: 'must be an ACM certificate ARN' })
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, 'must be an ACM certificate ARN')
    .optional(),
});

export type Settings = z.infer<typeof settingsSchema>;
export const SETTING_NAMES = Object.keys(settingsSchema.shape) as (keyof Settings)[];
/** Context keys this app reads besides the settings (lib/app.ts). */
export const OTHER_CONTEXT_KEYS = ['stackName'] as const;
const KNOWN_NAMES: readonly string[] = [...SETTING_NAMES, ...OTHER_CONTEXT_KEYS];

export class InvalidSettingsError extends Error {}

/**
 * Reads the settings from a context lookup (e.g. `key => app.node.tryGetContext(key)`). Given every
 * context key as well, it refuses the unknown ones, so that a misspelt setting fails the synth
 * instead of silently leaving the default in place.
 */
export function readSettings(lookup: (key: string) => unknown, contextKeys: Iterable<string> = []): Settings {
  const raw = Object.fromEntries(SETTING_NAMES.map((name) => [name, lookup(name)]).filter(([, v]) => v !== undefined));
  const parsed = settingsSchema.safeParse(raw);
  const problems = [...contextKeys].filter(isUnknownSetting).map((key) => {
    const near = closestName(key);
    return `  ${key}: unknown setting${near ? ` (did you mean ${near}?)` : ''}`;
  });
  if (
    parsed.success &&
    (parsed.data.trackingDomain === undefined) !== (parsed.data.trackingCertificateArn === undefined)
  ) {
    const missing = parsed.data.trackingDomain === undefined ? 'trackingDomain' : 'trackingCertificateArn';
    problems.push(`  ${missing}: missing; trackingDomain and trackingCertificateArn go together (set both or neither)`);
  }
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => {
        const [name, index] = issue.path;
        const value = raw[String(name)];
        // A bad item of a list is named by its value: `retrySchedule: "x" is not a whole number…`.
        const item = typeof index === 'number' ? `${JSON.stringify(itemOf(value, index))} ` : '';
        return `  ${String(name)}: ${item}${issue.message} (got ${JSON.stringify(value)})`;
      }),
    );
  }
  if (!parsed.success || problems.length) {
    const known = problems.some((line) => line.includes('unknown setting'))
      ? `\nKnown settings: ${KNOWN_NAMES.join(', ')}.`
      : '';
    throw new InvalidSettingsError(`Invalid deployment settings:\n${problems.join('\n')}${known}`);
  }
  return parsed.data;
}

/** The list item at `index` as it was given: the text between commas, or the JSON array's element. */
function itemOf(value: unknown, index: number): unknown {
  if (typeof value === 'string') return listItems(value)[index];
  return Array.isArray(value) ? value[index] : value;
}

/**
 * The settings are plain camelCase names. Context also carries what the CDK and its tools put there,
 * and those names always have a mark of their own: feature flags (`@aws-cdk/core:…`), the CLI's
 * `aws:cdk:…`, lookups cached in cdk.context.json (`availability-zones:account=…`),
 * `acknowledged-issue-numbers`. Only a plain name that is not ours is a mistake.
 */
function isUnknownSetting(key: string): boolean {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(key) && !KNOWN_NAMES.includes(key);
}

/** The known name a typo most likely meant: at most a third of its letters off, ignoring case. */
function closestName(key: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of KNOWN_NAMES) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= Math.max(1, Math.floor(name.length / 3)) && (!best || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (!address || prefix === undefined || rest.length || !/^\d{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (z.ipv4().safeParse(address).success) return bits <= 32;
  if (z.ipv6().safeParse(address).success) return bits <= 128;
  return false;
}

/**
 * The log queue's batching window: a little inside logFlushSeconds, for fanout's own window and the
 * write, and within the 300 s that SQS allows. The stack sets it; the bench reads it from here.
 */
export function logFlushWindowSeconds(logFlushSeconds: number): number {
  return Math.max(1, Math.min(300, logFlushSeconds - 5));
}
