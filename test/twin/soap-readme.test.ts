/** The README's SOAP example, run as written with PHP against the twin. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { createAccount } from '../support/twin-seed.ts';
import { until } from '../support/wait.ts';

it('runs the README’s PHP SoapClient example: create, list, send, a log file’s URL', { timeout: 120_000 }, async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## SOAP'));
  const example = /```php\n([\s\S]*?)```/.exec(section)![1]!;
  const { apiUrl } = inject('twin');
  const { apiKey } = await createAccount('Readme Soap');
  const env = { ...process.env, FEEDBACK_LOOPS_URL: apiUrl, FEEDBACK_LOOPS_KEY: apiKey };
  const run = async () => (await promisify(execFile)('php', ['-r', example.replace(/^<\?php\n/, '')], { env })).stdout;

  const first = await run();
  expect(first).toMatch(/^created loop_\w+, put fl-\w+\.txt next to the script$/m);
  expect(first).toMatch(/^loop loop_\w+: unverified, open,click$/m);
  expect(first).toMatch(/^accepted 1: evt_\w+$/m);
  expect(first).not.toMatch(/soap:|Fatal|Warning/);

  // The event reaches the day's log file once the log writer flushes; then the example gets its URL.
  await until(
    'a log file of today',
    async () => (await call('GET', '/v1/logfiles', { key: apiKey })).body.dates?.length > 0,
    60_000,
    1000,
  );
  const second = await run();
  expect(second).toMatch(/^download opens\.\d{4}-\d\d-\d\d until \S+: https?:\/\/\S+$/m);
  expect(second.match(/^loop /gm)).toHaveLength(2);
  expect((await call('GET', '/v1/loops', { key: apiKey })).body.loops).toHaveLength(2);
});
