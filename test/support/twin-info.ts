import type { Credentials } from '../../local/emulator/emulator.ts';

/** What the global setup tells the twin tests about the twin it started. */
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

declare module 'vitest' {
  export interface ProvidedContext {
    twin: TwinInfo;
  }
}
