import type { TestProject } from 'vitest/node';
import { startTwin } from '../../local/twin.ts';
import { TWIN_TESTS_CONTEXT, twinInfo } from '../support/twin-info.ts';

/**
 * One twin for every twin test: the real stack in the emulator, the real functions. A short retry
 * schedule lets retries and dead-lettering happen within a test.
 */
export default async function setup(project: TestProject) {
  const twin = await startTwin({ port: 0, context: TWIN_TESTS_CONTEXT });
  console.log(`twin started in ${(twin.startupMs / 1000).toFixed(1)} s`);
  project.provide('twin', twinInfo(twin));
  return async () => {
    await twin.stop();
  };
}
