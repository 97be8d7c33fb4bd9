import { randomUUID } from 'node:crypto';
import type { Emulator } from '../emulator/emulator.ts';
import type { GatewayLog } from '../gateway/gateway.ts';
import type { LocalFunction } from '../lambda/runtime.ts';
import { type Template, prop, referencedId, resourcesOfType } from '../template.ts';

interface Schedule {
  ruleId: string;
  expression: string;
  everyMs: number;
  targets: { fn: LocalFunction; input: unknown }[];
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Runs the stack's scheduled EventBridge rules (`rate(...)`) against their target functions. */
export class Scheduler {
  private readonly schedules: Schedule[];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    template: Template,
    functions: Map<string, LocalFunction>,
    private readonly emulator: Emulator,
    private readonly log: GatewayLog,
  ) {
    this.schedules = resourcesOfType(template, 'AWS::Events::Rule')
      .filter(([, rule]) => prop(rule, 'ScheduleExpression') && prop(rule, 'State') !== 'DISABLED')
      .map(([ruleId, rule]) => {
        const expression = prop<string>(rule, 'ScheduleExpression')!;
        const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
        if (!rate) throw new Error(`Rule ${ruleId}: the twin runs rate(...) schedules only, not ${expression}`);
        const targets = (prop<{ Arn: unknown; Input?: string }[]>(rule, 'Targets') ?? []).flatMap((target) => {
          const fn = functions.get(referencedId(target.Arn) ?? '');
          return fn ? [{ fn, input: target.Input ? JSON.parse(target.Input) : undefined }] : [];
        });
        return { ruleId, expression, everyMs: Number(rate[1]) * UNIT_MS[rate[2]!]!, targets };
      });
  }

  get rules(): string[] {
    return this.schedules.map((schedule) => schedule.ruleId);
  }

  start(): void {
    for (const schedule of this.schedules) {
      this.timers.push(setInterval(() => void this.run(schedule), schedule.everyMs));
    }
  }

  stop(): void {
    this.timers.forEach(clearInterval);
  }

  /**
   * Runs a rule now, as if its time had come (the tests use this rather than wait); answers the rule's
   * logical id. A rule is named by its logical id or a unique part of it, such as the name without
   * CloudFormation's hash suffix (`LogCompactionSchedule` for `LogCompactionSchedule4DECF781`).
   */
  async trigger(name: string): Promise<string> {
    const exact = this.schedules.filter((candidate) => candidate.ruleId === name);
    const found = exact.length
      ? exact
      : this.schedules.filter((candidate) => candidate.ruleId.toLowerCase().includes(name.toLowerCase()));
    if (found.length !== 1) {
      const why = found.length ? `"${name}" names ${found.length} rules` : `No scheduled rule "${name}"`;
      throw new Error(`${why}; there are: ${this.rules.join(', ')}`);
    }
    await this.run(found[0]!);
    return found[0]!.ruleId;
  }

  private async run(schedule: Schedule): Promise<void> {
    const { accountId, region } = this.emulator;
    await Promise.all(
      schedule.targets.map(async ({ fn, input }) => {
        const event = input ?? {
          version: '0',
          id: randomUUID(),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: accountId,
          time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region,
          resources: [`arn:aws:events:${region}:${accountId}:rule/${schedule.ruleId}`],
          detail: {},
        };
        const started = performance.now();
        const outcome = await fn.invoke(event);
        const durationMs = Math.round(performance.now() - started);
        this.log({
          function: fn.spec.name,
          trigger: `schedule ${schedule.expression}`,
          durationMs,
          ok: outcome.ok,
          summary: outcome.ok ? 'done' : `${outcome.error.errorType}: ${outcome.error.errorMessage}`,
        });
      }),
    );
  }
}
