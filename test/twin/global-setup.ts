import type { TestProject } from 'vitest/node';
import { startTwin } from '../../local/twin.ts';
import type { TwinInfo } from '../support/twin-info.ts';

/**
 * One twin for every twin test: the real stack in the emulator, the real functions. A short retry
 * schedule lets retries and dead-lettering happen within a test.
 */
export default async function setup(project: TestProject) {
  const twin = await startTwin({
    port: 0,
    context: { retrySchedule: '1,1,1', deliveryTimeoutSeconds: '2', logFlushSeconds: '10' },
  });
  console.log(`twin started in ${(twin.startupMs / 1000).toFixed(1)} s`);
  const info: TwinInfo = {
    apiUrl: twin.apiUrl,
    controlUrl: twin.controlUrl,
    adminKey: twin.adminKey,
    endpoint: twin.emulator.endpoint,
    region: twin.emulator.region,
    credentials: twin.emulator.credentials,
    resources: Object.fromEntries(twin.resources),
    roleCredentials: Object.fromEntries(twin.roleCredentials),
  };
  project.provide('twin', info);
  return async () => {
    await twin.stop();
  };
}
