import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { until } from '../support/wait.ts';

/**
 * The README's "Try it with curl" walk-through, run as a newcomer runs it: its own commands, read
 * from README.md, in bash with curl, against the twin. Only what cannot be literal is changed: the
 * twin's URL and admin key for the placeholders of the first lines, a free port and a temporary
 * directory for the receiver's 8080 and /tmp/site (other tests may hold them), and the `<…>`
 * placeholders filled from the answers before them, as the reader fills them. Each step's stated
 * answer (`# → …`) is checked, and so is the note after the block (http.server answers POSTs with 501).
 */

interface Command {
  step: string;
  line: string;
  /** What the README says it answers (`# → 202 {"accepted":1,…}`), if it says. */
  expected?: string;
}

/** The commands of the first ```sh block under `heading`, with their step and stated answer. */
function walkThrough(readme: string, heading: string): Command[] {
  const section = readme.slice(readme.indexOf(heading));
  const block = /```sh\n([^]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README.md has no sh block under "${heading}"`);
  const commands: Command[] = [];
  let step = 'setup';
  for (const raw of block.replace(/\\\n\s*/g, ' ').split('\n')) {
    const line = raw.trim();
    const title = /^# (\d+\..*)$/.exec(line);
    if (title) step = title[1]!;
    if (!line || line.startsWith('#')) continue;
    const stated = /^(.*?)\s+#\s*→\s*(.*)$/.exec(line);
    commands.push(stated ? { step, line: stated[1]!, expected: stated[2]! } : { step, line });
  }
  return commands;
}

/** `"status": "verified"` or `202 {"accepted":1,"ids":["evt_…"]}`: a status and a JSON shape, `…` a wildcard. */
function checkStated(expected: string, status: number, body: unknown): void {
  const [, code, shape] = /^(\d{3})?\s*(.*)$/.exec(expected)!;
  if (code) expect(status).toBe(Number(code));
  const json = shape!.startsWith('{') ? shape! : `{${shape}}`;
  const pattern = JSON.parse(json, (_, value: unknown) =>
    typeof value === 'string' && value.endsWith('…')
      ? expect.stringMatching(new RegExp(`^${value.slice(0, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
      : value,
  ) as Record<string, unknown>;
  expect(body).toMatchObject(pattern);
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe("the README's walk-through", () => {
  const site = mkdtempSync(path.join(tmpdir(), 'readme-site-'));
  const started: ChildProcess[] = [];
  afterAll(() => {
    for (const child of started) if (child.pid) process.kill(-child.pid, 'SIGTERM');
    rmSync(site, { recursive: true, force: true });
  });

  it('gives what it says at every step, run literally with curl against the twin', async () => {
    const { apiUrl, adminKey } = inject('twin');
    const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const commands = walkThrough(readme, '### Try it with curl');
    expect(commands.map((command) => command.step)).toEqual(
      expect.arrayContaining(['1. The operator creates an account; its API key is shown only in this answer.']),
    );
    const port = await freePort();
    const answers: Record<string, { status: number; body: Record<string, unknown> }> = {};
    const last = (prefix: string) => {
      const found = Object.entries(answers).findLast(([step]) => step.startsWith(prefix));
      if (!found) throw new Error(`no answer of step ${prefix} yet`);
      return found[1].body as Record<string, any>;
    };
    /** The README's placeholders, filled as a reader fills them. */
    const placeholders: Record<string, () => string> = {
      '<admin key>': () => adminKey,
      '<apiKey.key from the answer>': () => last('1.').apiKey.key,
      '<verification.content>': () => last('3.').verification.content,
      '<verification.file>': () => last('3.').verification.file,
      '<loop id>': () => last('3.').id,
    };
    const env: Record<string, string> = {};
    const ran: string[] = [];

    for (const command of commands) {
      let line = command.line
        .replaceAll('http://127.0.0.1:3000/v1', `${apiUrl}/v1`)
        .replaceAll('8080', String(port))
        .replaceAll('/tmp/site', site);
      for (const placeholder of line.match(/<[^<>]+>/g) ?? []) {
        const fill = placeholders[placeholder];
        if (!fill) throw new Error(`The walk-through has a placeholder this test does not know: ${placeholder}`);
        line = line.replaceAll(placeholder, fill());
      }
      ran.push(line);
      const assignment = /^([A-Z]+)=(\S+)$/.exec(line);
      if (assignment) {
        env[assignment[1]!] = assignment[2]!;
        continue;
      }
      if (line.endsWith('&')) {
        // The receiver, in the background as the README starts it (its own process group, ended after).
        const child = spawn('bash', ['-c', line.slice(0, -1)], { stdio: 'ignore', detached: true });
        started.push(child);
        await until(
          'the receiver answers',
          () =>
            fetch(`http://127.0.0.1:${port}/`).then(
              () => true,
              () => false,
            ),
          10_000,
        );
        continue;
      }
      const curl = line.startsWith('curl ');
      const { stdout } = await promisify(execFile)('bash', ['-c', curl ? `${line} -w '\\n%{http_code}'` : line], {
        env: { ...process.env, ...env },
      });
      if (!curl) continue;
      const at = stdout.lastIndexOf('\n');
      const status = Number(stdout.slice(at + 1));
      const body = JSON.parse(stdout.slice(0, at)) as Record<string, unknown>;
      expect(status, `${command.step}: ${line}\n${stdout}`).toBeLessThan(300);
      answers[command.step] = { status, body };
      if (command.expected) checkStated(command.expected, status, body);
    }

    // Every step ran: an account, a loop, its file, verify, an event.
    expect(Object.keys(answers).map((step) => step.split('.')[0])).toEqual(['1', '3', '4', '5']);
    expect(last('1.').apiKey.key).toMatch(/^fl_/);
    expect(last('4.').status).toBe('verified');
    expect(ran.some((line) => line.includes('http.server'))).toBe(true);

    // The note after the block: http.server answers the POST with 501, so the event is retried (and
    // under the twin tests' short schedule, 1, 1, 1 s, recorded as a failure with that status).
    const key = env.KEY!;
    const loopId = last('3.').id as string;
    let failures: { eventId: string; lastStatus?: number }[] = [];
    await until(
      'the event is recorded under the loop’s failures',
      async () => {
        const answer = await fetch(`${apiUrl}/v1/loops/${loopId}/failures`, {
          headers: { authorization: `Bearer ${key}` },
        });
        failures = ((await answer.json()) as { failures: typeof failures }).failures;
        return failures.length > 0;
      },
      30_000,
      500,
    );
    expect(failures).toEqual([expect.objectContaining({ eventId: last('5.').ids[0], lastStatus: 501 })]);
  });
});
