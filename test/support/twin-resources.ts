/** Twin tests: what the twin deployed, by logical id — a resource's physical id, a function's role. */
import { inject } from 'vitest';

/** The physical id of the resource whose logical id is `<name><8 hex digits>`, as CDK names them. */
export function physicalId(name: string): string {
  const { resources } = inject('twin');
  const matches = Object.keys(resources).filter((id) => new RegExp(`^${name}[0-9A-F]{8}$`).test(id));
  if (matches.length !== 1)
    throw new Error(`expected one resource named ${name}, found: ${matches.join(', ') || 'none'}`);
  return resources[matches[0]!]!;
}

/** The credentials of the role of the function whose logical id is `<name><8 hex digits>`. */
export function roleOf(name: string) {
  const { endpoint, region, roleCredentials } = inject('twin');
  const matches = Object.keys(roleCredentials).filter((id) => new RegExp(`^${name}[0-9A-F]{8}$`).test(id));
  if (matches.length !== 1)
    throw new Error(`expected one function named ${name}, found: ${matches.join(', ') || 'none'}`);
  return { endpoint, region, credentials: roleCredentials[matches[0]!]! };
}
