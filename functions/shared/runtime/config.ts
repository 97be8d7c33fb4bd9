import type { EnvName } from './env-names.ts';

/**
 * Reads a function's configuration from its environment, failing at cold start (not on the first
 * event) when the stack did not set a variable. The stack is the only source of these values.
 */
export function requireEnv(name: EnvName): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`Missing environment variable ${name}: the stack must set it for this function.`);
  }
  return value;
}

export function requireIntEnv(name: EnvName): number {
  const raw = requireEnv(name);
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`Environment variable ${name} must be an integer, got "${raw}".`);
  return value;
}

export function requireListEnv(name: EnvName, { allowEmpty = false } = {}): string[] {
  const raw = process.env[name];
  if (raw === undefined || (raw === '' && !allowEmpty)) requireEnv(name);
  return (raw ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

export function requireBoolEnv(name: EnvName): boolean {
  const raw = requireEnv(name);
  if (raw !== 'true' && raw !== 'false')
    throw new Error(`Environment variable ${name} must be true or false, got "${raw}".`);
  return raw === 'true';
}
