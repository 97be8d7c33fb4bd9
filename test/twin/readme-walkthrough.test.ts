import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { until } from '../support/wait.ts';

/**
 * The README's walk-through, run as a newcomer runs it: its own commands, read from README.md, in
 * bash with curl, against the twin. First "Try it with curl" (with `python3 -m http.server` as the
 * receiver), then, with the Node receiver of "Example receivers" in its place, "What happens next":
 * enrichment, a repeated client id, `test`, a failure, replay, the log files. Only what cannot be
 * literal is changed: the twin's URL and admin key for the placeholders of the first lines, a free
 * port and a temporary directory for the receiver's 8080 and /tmp/site (other tests may hold them),
 * and the `<…>` placeholders filled from the answers before them, as the reader fills them. What the
 * README says in words rather than commands (stop http.server, send an event while the receiver is
 * stopped, the same client id again) is done as a reader does it. Each stated answer (`# → …`) is
 * checked, and so are the notes (http.server answers POSTs with 501; the open carries its context).
 */
interface Command {
  step: string;
  line: string;
  /** What the README says it answers (`# → 202 {"accepted":1,…}`), if it says. */
  expected?: string;
  /** A comment after the command that is not a stated answer (`# 302 to a presigned URL`). */
  note?: string;
}

/** The commands of the first ```sh block under `heading`, with their step and stated answer. */
function walkThrough(readme: string, heading: string): Command[] {
  const section = readme.slice(readme.indexOf(heading));
  const block = /```sh\n([^]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README.md has no sh block under "${heading}"`);
  const commands: Command[] = [];
  let step = 'setup';
  let open = '';
  for (const raw of block.replace(/\\\n\s*/g, ' ').split('\n')) {
    // A quoted argument over several lines (`-d '{"events":[` … `]}'`) is one command, as in bash.
    const line = open ? `${open}\n${raw}` : raw.trim();
    const { quoted, comment } = scan(line);
    if (quoted) {
      open = line;
      continue;
    }
    open = '';
    const title = /^# (\d+\..*)$/.exec(line);
    if (title) step = title[1]!;
    if (!line || line.startsWith('#')) continue;
    const command = line.slice(0, comment).trimEnd();
    const note = comment < line.length ? line.slice(comment + 1).trim() : undefined;
    const stated = note?.startsWith('→') ? note.slice(1).trim() : undefined;
    commands.push({ step, line: command, ...(stated ? { expected: stated } : note ? { note } : {}) });
  }
  return commands;
}

/** As bash reads a line: whether a quote is still open at its end, and where a comment starts (or the length). */
function scan(line: string): { quoted: boolean; comment: number } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return { quoted: false, comment: i };
  }
  return { quoted: quote !== undefined, comment: line.length };
}

/**
 * `"status": "verified"` or `202 {"accepted":1,"ids":["evt_…"]}`: a status and a JSON shape. A string
 * ending in `…` is a prefix, a bare `…` any value (`"durationMs":…`), a bare `n` any number (`"replayed":n`).
 */
function checkStated(expected: string, status: number, body: unknown): void {
  const [, code, shape] = /^(\d{3})?\s*(.*)$/.exec(expected)!;
  if (code) expect(status).toBe(Number(code));
  const json = (shape!.startsWith('{') ? shape! : `{${shape}}`)
    .replace(/:\s*…/g, ':"<any>"')
    .replace(/:\s*n\b/g, ':"<number>"');
  const pattern = JSON.parse(json, (_, value: unknown) => {
    if (value === '<any>') return expect.anything();
    if (value === '<number>') return expect.any(Number);
    return typeof value === 'string' && value.endsWith('…')
      ? expect.stringMatching(new RegExp(`^${value.slice(0, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
      : value;
  }) as Record<string, unknown>;
  expect(body).toMatchObject(pattern);
}

/** Ends a receiver started in its own process group: bash and what it started. */
const stop = (child: ChildProcess) => process.kill(-child.pid!, 'SIGTERM');

const answers = (port: number) =>
  fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );

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
    for (const child of started) if (child.exitCode === null && child.signalCode === null) stop(child);
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
    const steps: Record<string, { status: number; body: Record<string, unknown> }> = {};
    const last = (prefix: string) => {
      const found = Object.entries(steps).findLast(([step]) => step.startsWith(prefix));
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
      '<secret>': () => last('3.').secret,
    };
    const env: Record<string, string> = {};
    const ran: string[] = [];
    const today = new Date().toISOString().slice(0, 10);

    /** A README line with its placeholders filled, as a reader fills them, on this test's port and directory. */
    const fill = (text: string) => {
      let line = text
        .replaceAll('http://127.0.0.1:3000/v1', `${apiUrl}/v1`)
        .replaceAll('8080', String(port))
        .replaceAll('/tmp/site', site);
      for (const placeholder of line.match(/<[^<>]+>/g) ?? []) {
        const value = placeholders[placeholder];
        if (!value) throw new Error(`The walk-through has a placeholder this test does not know: ${placeholder}`);
        line = line.replaceAll(placeholder, value());
      }
      return line;
    };
    /** A curl line run in bash; its answer, the status after any redirects and how many it followed. */
    const curl = async (line: string) => {
      ran.push(line);
      const { stdout } = await promisify(execFile)('bash', ['-c', `${line} -w '\\n%{http_code} %{num_redirects}'`], {
        env: { ...process.env, ...env },
      });
      const at = stdout.lastIndexOf('\n');
      const [status, redirects] = stdout
        .slice(at + 1)
        .split(' ')
        .map(Number) as [number, number];
      const text = stdout.slice(0, at);
      const body = (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, any>;
      expect(status, `${line}\n${stdout}`).toBeLessThan(300);
      return { status, redirects, text, body };
    };
    /** A receiver in the background, as the README starts it (its own process group, ended after). */
    const startReceiver = async (line: string, options: { cwd?: string; output?: string[] } = {}) => {
      ran.push(line);
      const child = spawn('bash', ['-c', line], {
        stdio: ['ignore', options.output ? 'pipe' : 'ignore', 'ignore'],
        detached: true,
        cwd: options.cwd,
      });
      if (child.stdout) createInterface({ input: child.stdout }).on('line', (text) => options.output!.push(text));
      started.push(child);
      await until('the receiver answers', () => answers(port), 10_000);
      return child;
    };
    const stopReceiver = async (child: ChildProcess) => {
      stop(child);
      await until('the receiver stopped', async () => !(await answers(port)), 10_000);
    };

    for (const command of commands) {
      const line = fill(command.line);
      const assignment = /^([A-Z]+)=(\S+)$/.exec(line);
      if (assignment) {
        ran.push(line);
        env[assignment[1]!] = assignment[2]!;
        continue;
      }
      if (line.endsWith('&')) {
        await startReceiver(line.slice(0, -1));
        continue;
      }
      if (!line.startsWith('curl ')) {
        ran.push(line);
        await promisify(execFile)('bash', ['-c', line], { env: { ...process.env, ...env } });
        continue;
      }
      const { status, body } = await curl(line);
      steps[command.step] = { status, body };
      if (command.expected) checkStated(command.expected, status, body);
    }

    // Every step ran: an account, a loop, its file, verify, an event.
    expect(Object.keys(steps).map((step) => step.split('.')[0])).toEqual(['1', '3', '4', '5']);
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
    const notServed = last('5.').ids[0] as string;
    expect(failures).toEqual([expect.objectContaining({ eventId: notServed, lastStatus: 501 })]);

    // "Put a real receiver there to see 2xx": stop http.server (Good to know: it holds the port), and
    // start the Node receiver of "Example receivers" with the loop's secret, from the repository.
    await stopReceiver(started[0]!);
    const receiverLine = walkThrough(readme, '### Example receivers').find((command) =>
      command.line.includes('node examples/receivers/receiver.mjs'),
    );
    if (!receiverLine) throw new Error('README.md no longer starts the Node receiver under "Example receivers"');
    const printed: string[] = [];
    const repository = path.join(import.meta.dirname, '..', '..');
    const receiver = await startReceiver(fill(receiverLine.line), { cwd: repository, output: printed });
    /** What the receiver printed for an event: `verified <type> <id> <recipient> <the event as JSON>`. */
    const received = (id: string) =>
      printed.flatMap((text) => {
        const match = /^verified (\S+) (\S+) (\S+) (.*)$/.exec(text);
        return match?.[2] === id ? [JSON.parse(match[4]!) as Record<string, unknown>] : [];
      });

    const next = walkThrough(readme, '### What happens next');
    const take = (pattern: RegExp) => {
      const command = next.shift();
      if (!command || !pattern.test(command.line))
        throw new Error(`The next command of "What happens next" is not ${pattern}: ${command?.line}`);
      return { ...command, line: fill(command.line) };
    };

    // A sent event and an open of its message: the receiver's open has recipient, fields[firstname], tags[].
    const enrich = take(/\/events .*"sent".*"open"/s);
    expect(enrich.note).toMatch(/recipient, fields\[firstname\], tags\[\]/);
    const sent = await curl(enrich.line);
    expect(sent.status).toBe(202);
    const openId = sent.body.ids[1] as string;
    await until('the receiver prints the enriched open', () => received(openId).length > 0, 30_000);
    expect(received(openId)).toEqual([
      expect.objectContaining({
        type: 'open',
        recipient: 'zoë@example.com',
        fields: { firstname: 'Zoë' },
        tags: ['news'],
      }),
    ]);

    // "The same client id again: 202 with the same id, but not delivered or logged twice": the same
    // command again. (That the open is not delivered again is checked at the end, after the retries
    // and replays below have had their time; that it is not logged twice, in the CSV.)
    const again = await curl(enrich.line);
    expect(again.status).toBe(202);
    expect(again.body.ids[1]).toBe(openId);

    // Try the receiver now: the Node receiver answers 204.
    const test = take(/\/test\s/);
    const tested = await curl(test.line);
    checkStated(test.expected!, tested.status, tested.body);

    // "Send an event while the receiver answers 500, or stopped": stopped, with step 5's command; under
    // the twin tests' schedule (1,1,1) its retries are spent within seconds.
    await stopReceiver(receiver);
    const missed = (await curl(fill(commands.find((command) => command.step.startsWith('5.'))!.line))).body
      .ids[0] as string;
    const list = take(/\/failures\s/);
    let listed: { eventId: string }[] = [];
    await until(
      'the event sent while the receiver was stopped is under the failures',
      async () => {
        listed = (await curl(list.line)).body.failures;
        return listed.some((failure) => failure.eventId === missed);
      },
      30_000,
      500,
    );
    expect(listed.map((failure) => failure.eventId).sort()).toEqual([missed, notServed].sort());

    // …until the receiver is back: a replay sends them again; the receiver prints both.
    await startReceiver(fill(receiverLine.line), { cwd: repository, output: printed });
    const replay = take(/\/failures\/replay\s/);
    const replayed = await curl(replay.line);
    checkStated(replay.expected!, replayed.status, replayed.body);
    expect(replayed.body).toEqual({ replayed: 2 }); // a small backlog: no "more"
    await until(
      'the receiver prints the replayed events',
      () => received(missed).length > 0 && received(notServed).length > 0,
      30_000,
    );
    await until(
      'the replayed failures are no longer listed',
      async () => (await curl(list.line)).body.failures.length === 0,
      30_000,
      500,
    );

    // Every accepted event is in the day's log files: once flushed (logFlushSeconds 10 here), the
    // opens file holds the three opens (m-1, my-open-1 once, the missed one).
    const listing = take(/\/logfiles\?date=/);
    await until(
      'the day’s opens file holds the three opens',
      async () => {
        const files = (await curl(listing.line)).body.files as { name: string; records: number }[];
        return files.some((file) => file.name === `opens.${today}` && file.records >= 3);
      },
      60_000,
      1_000,
    );
    const download = take(/\/logfiles\/opens\..*format=csv/);
    expect(download.note).toMatch(/302 to a presigned URL/);
    const csv = await curl(download.line);
    expect([csv.status, csv.redirects]).toEqual([200, 1]);
    expect(csv.text.startsWith('\uFEFF')).toBe(true);
    const rows = csv.text.split('\r\n').filter(Boolean);
    expect(rows.filter((row) => row.includes(openId))).toEqual([expect.stringContaining('zoë@example.com')]);
    expect(rows.filter((row) => row.includes(missed) || row.includes(notServed))).toHaveLength(2);
    expect(next).toEqual([]); // every command of the block ran

    // The repeated client id was not delivered again, in all this time.
    expect(received(openId)).toHaveLength(1);
  }, 300_000); // the two blocks wait for retries, replays and a log flush, one after another
});
