import type { FindingKind } from './check.ts';
import type { FuzzRequest } from './model.ts';

export interface Finding {
  kind: FindingKind;
  /** The request's number in the run (with the seed, it is generated again), or -1. */
  index: number;
  request: FuzzRequest | undefined;
  detail: string;
}

/** The figures of a fuzz run and what it found. */
export class Tally {
  readonly started = performance.now();
  durationMs = 0;
  sent = 0;
  routesInOpenApi = 0;
  readonly byRoute = new Map<string, number>();
  readonly byStatus = new Map<number, number>();
  readonly byExpect = new Map<string, number>();
  /** Requests meant to be valid that were refused anyway: not a finding, but worth a look when many. */
  readonly validRefused = new Map<string, number>();
  readonly findings: Finding[] = [];
  /** 5xx answers (or lost connections) that the same request, sent again, did not get. */
  readonly transient: string[] = [];
  private slowestMs = 0;

  constructor(
    readonly seed: number,
    readonly runs: number,
    private readonly onFinding: (line: string) => void = () => {},
  ) {}

  /** A few of them, to read. */
  readonly validRefusedExamples: string[] = [];

  refusedValid(request: FuzzRequest, status: number, text: string) {
    const key = `${request.route} ${status}`;
    bump(this.validRefused, key);
    if (this.validRefused.get(key) === 1 && this.validRefusedExamples.length < 12)
      this.validRefusedExamples.push(`${key} (${request.what.slice(0, 50)}): ${text.slice(0, 160)}`);
  }

  count(request: FuzzRequest, status: number, ms: number) {
    this.sent++;
    bump(this.byRoute, request.route);
    bump(this.byStatus, status);
    bump(this.byExpect, request.expect);
    this.slowestMs = Math.max(this.slowestMs, ms);
  }

  add(finding: Finding) {
    this.findings.push(finding);
    this.onFinding(describe(finding));
  }

  finish() {
    this.durationMs = performance.now() - this.started;
  }

  countOf(kind: FindingKind): number {
    return this.findings.filter((finding) => finding.kind === kind).length;
  }

  /** The report: figures, then each finding with what reproduces it. */
  report(): string {
    const lines = [
      `fuzz: seed ${this.seed}, ${this.sent} requests in ${(this.durationMs / 1000).toFixed(1)} s (${(this.sent / (this.durationMs / 1000)).toFixed(0)}/s with the state checks; slowest ${this.slowestMs.toFixed(0)} ms)`,
      `  kinds: ${[...this.byExpect].map(([name, n]) => `${name} ${n}`).join(', ')}; OpenAPI routes ${this.routesInOpenApi}, all covered`,
      `  statuses: ${[...this.byStatus]
        .sort(([a], [b]) => a - b)
        .map(([status, n]) => `${status}: ${n}`)
        .join(', ')}`,
      '  requests per route:',
      ...[...this.byRoute]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([route, n]) => `    ${String(n).padStart(6)}  ${route}`),
      `  5xx: ${this.countOf('5xx')}, error-shape violations: ${this.countOf('shape')}, unfitting statuses: ${this.countOf('status')}, refused requests accepted: ${this.countOf('accepted')}, state changed by refused requests: ${this.countOf('state')}, leaks: ${this.countOf('leak')}, deliveries of refused events: ${this.countOf('delivery')}, transport errors: ${this.countOf('transport')}`,
    ];
    if (this.transient.length) {
      lines.push(
        `  transient 5xx (not repeated when sent again; the twin was too busy): ${this.transient.length}: ${this.transient.slice(0, 10).join('; ')}`,
      );
    }
    if (this.validRefused.size) {
      lines.push(
        `  valid-looking requests refused (not findings): ${[...this.validRefused].map(([what, n]) => `${what} ×${n}`).join(', ')}`,
      );
      lines.push(...this.validRefusedExamples.map((example) => `    e.g. ${example}`));
    }
    lines.push(...this.findings.slice(0, 50).map(describe));
    if (this.findings.length > 50) lines.push(`  … and ${this.findings.length - 50} more findings`);
    return lines.join('\n');
  }
}

function describe(finding: Finding): string {
  const { request } = finding;
  const what = request
    ? `${request.method} ${request.target.slice(0, 120)} [${request.route}; ${request.what.slice(0, 80)}; auth ${JSON.stringify(request.auth).slice(0, 40)}]`
    : '';
  return `  FINDING ${finding.kind} #${finding.index}: ${what} → ${finding.detail.slice(0, 600)}`;
}

function bump<K>(map: Map<K, number>, key: K) {
  map.set(key, (map.get(key) ?? 0) + 1);
}
