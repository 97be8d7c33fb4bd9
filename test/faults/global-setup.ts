import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startTwin } from '../../local/twin.ts';
import { twinInfo } from '../support/twin-info.ts';

/**
 * The outage and crash scenarios' own twin (they break things: faults, crashes, paused pollers). A
 * short retry schedule (2 s between attempts, four in all) lets an outage outlast it within a test.
 */
const INVOCATIONS = '.twin/faults-invocations.log';

export default async function setup(project: TestProject) {
  mkdirSync('.twin', { recursive: true });
  writeFileSync(INVOCATIONS, '');
  const twin = await startTwin({
    port: 0,
    context: { retrySchedule: '2,2,2', deliveryTimeoutSeconds: '2', logFlushSeconds: '10' },
    // One line per invocation, for a look when a scenario fails (kept until the next run).
    print: (line) => appendFileSync(INVOCATIONS, `${line}\n`),
  });
  console.log(`faults twin started in ${(twin.startupMs / 1000).toFixed(1)} s; invocations in ${INVOCATIONS}`);
  project.provide('twin', twinInfo(twin));
  return async () => {
    await twin.stop();
  };
}
