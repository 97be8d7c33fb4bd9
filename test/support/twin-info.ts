/**
 * What a project's global setup tells its tests about the twin it started (`inject('twin')`), and
 * the settings the twin project's twin runs with (the unit project's setup synthesizes with the same,
 * so the two share one cached synth).
 */
import type { Credentials } from '../../local/emulator/emulator.ts';
import type { Twin } from '../../local/twin.ts';

export interface TwinInfo {
  apiUrl: string;
  controlUrl: string;
  adminKey: string;
  endpoint: string;
  region: string;
  credentials: Credentials;
  resources: Record<string, string>;
  roleCredentials: Record<string, Credentials>;
}

/** The twin project's settings: a short retry schedule lets retries and dead-lettering happen within a test. */
export const TWIN_TESTS_CONTEXT = { retrySchedule: '1,1,1', deliveryTimeoutSeconds: '2', logFlushSeconds: '10' };

/** What the tests may know of a running twin (plain data: it crosses to the test workers). */
export function twinInfo(twin: Twin): TwinInfo {
  return {
    apiUrl: twin.apiUrl,
    controlUrl: twin.controlUrl,
    adminKey: twin.adminKey,
    endpoint: twin.emulator.endpoint,
    region: twin.emulator.region,
    credentials: twin.emulator.credentials,
    resources: Object.fromEntries(twin.resources),
    roleCredentials: Object.fromEntries(twin.roleCredentials),
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    twin: TwinInfo;
  }
}
