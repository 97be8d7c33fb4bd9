import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger: structured JSON on stdout, which Lambda sends to the function's log group. A line
 * about one event, delivery or file is DEBUG; an invocation logs one INFO summary of what it did, and
 * WARN or ERROR for what an operator must look at. The level is the deployment setting `logLevel`,
 * which Lambda hands over as AWS_LAMBDA_LOG_LEVEL (Powertools takes it before any other).
 */
export const logger = new Logger({ serviceName: 'feedback-loops' });

/** What one invocation did, counted for its summary line: `{delivered: 8, statuses: {200: 8}}`. */
export class SummaryCounts {
  private readonly counts: Record<string, number | Record<string, number>> = {};

  add(name: string, by = 1): void {
    const count = this.counts[name];
    this.counts[name] = (typeof count === 'number' ? count : 0) + by;
  }

  /** Counts `key` within `group`, e.g. a delivery's status within `statuses`. */
  addTo(group: string, key: string | number): void {
    const current = this.counts[group];
    const counts = typeof current === 'object' ? current : (this.counts[group] = {});
    counts[key] = (counts[key] ?? 0) + 1;
  }

  toJSON(): Record<string, number | Record<string, number>> {
    return { ...this.counts };
  }
}
