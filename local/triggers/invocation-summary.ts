/**
 * What an invocation did, read from its summary line (the INFO line every function logs once per
 * invocation) and said in the twin's output: for the deliver function, each outcome and the answers
 * the receivers gave, so that a retry or a delivery given up does not read as "done".
 */

/** The counts of the deliver function's summary line, `"message": "Deliveries done"`. */
export interface DeliveryCounts {
  deliveries?: number;
  delivered?: number;
  failed?: number;
  retried?: number;
  recorded?: number;
  disabled?: number;
  dropped?: number;
  /** Per status (`"500"`), or per kind for an attempt without an answer (`timeout`, `connection`, `blocked`). */
  statuses?: Record<string, number>;
}

export const DELIVERIES_DONE = 'Deliveries done';

/** The last JSON line of `lines` with this `message`, as its fields. */
export function summaryRecord(lines: string[] | undefined, message: string): Record<string, unknown> | undefined {
  for (const line of [...(lines ?? [])].reverse()) {
    if (!line.includes(message)) continue;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record.message === message) return record;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * `1 failed, 1 returned to the queue for a retry; answers: HTTP 500`, or
 * `1 failed, 1 recorded under failures; answers: timeout`, or `3 delivered; answers: HTTP 200 ×3`.
 */
export function describeDeliveries(counts: DeliveryCounts): string {
  const parts = [
    counts.delivered && `${counts.delivered} delivered`,
    counts.failed && `${counts.failed} failed`,
    counts.retried && `${counts.retried} returned to the queue for a retry`,
    counts.recorded && `${counts.recorded} recorded under failures`,
    counts.disabled && `${count(counts.disabled, 'loop')} disabled by a 410`,
    counts.dropped && `${counts.dropped} dropped (the loop no longer takes it)`,
  ].filter(Boolean);
  const answers = Object.entries(counts.statuses ?? {}).map(
    ([status, times]) => `${/^\d+$/.test(status) ? `HTTP ${status}` : status}${times > 1 ? ` ×${times}` : ''}`,
  );
  const said = parts.length
    ? parts.join(', ')
    : `${count(counts.deliveries ?? 0, 'delivery', 'deliveries')}, nothing sent`;
  return answers.length ? `${said}; answers: ${answers.join(', ')}` : said;
}

/**
 * The poller's line for a batch the function took: from its deliveries summary when it logged one,
 * else how many messages were done and returned. `ok` is false when a delivery failed, even though
 * the batch itself succeeded.
 */
export function describeBatch(
  lines: string[] | undefined,
  done: number,
  returned: number,
): { ok: boolean; summary: string } {
  const plain = returned ? `${done} done, ${returned} returned to the queue` : `${done} done`;
  const counts = summaryRecord(lines, DELIVERIES_DONE) as DeliveryCounts | undefined;
  if (!counts) return { ok: returned === 0, summary: plain };
  const summary = describeDeliveries(counts);
  const unexplained = returned - (counts.retried ?? 0);
  return {
    ok: returned === 0 && !counts.failed,
    summary: unexplained > 0 ? `${summary}; ${count(unexplained, 'message')} returned to the queue` : summary,
  };
}
