/** Twin tests: SOAP calls made by PHP's SoapClient in WSDL mode (php-soap), as a PHP shop makes them. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const SCRIPT = fileURLToPath(new URL('./php/soap-call.php', import.meta.url));

export type PhpAnswer =
  { result: any; fault?: undefined } | { fault: { code: string; string: string; detail: any }; result?: undefined };

/** Calls `operation` with `parameters` (PHP arrays, from JSON) and `key` in the SOAP header. */
export async function phpSoap(operation: string, parameters: unknown, key?: string): Promise<PhpAnswer> {
  const wsdl = `${inject('twin').apiUrl}/v1/soap?wsdl`;
  const { stdout } = await promisify(execFile)('php', [
    SCRIPT,
    wsdl,
    key ?? '',
    operation,
    JSON.stringify(parameters ?? {}),
  ]);
  return JSON.parse(stdout) as PhpAnswer;
}
