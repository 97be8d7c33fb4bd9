import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Credentials } from '../emulator/emulator.ts';
import type { AwsCall } from '../faults/faults.ts';

const HOST = path.join(path.dirname(fileURLToPath(import.meta.url)), 'host.mjs');

/**
 * Told of every invocation and every log line of the functions run in this process (the bench's
 * cost meter, bench/meter.ts, is one). The twin itself registers none.
 */
export interface RuntimeObserver {
  /** `cpuMs`: the CPU time the invocation used in its environment, when it answered. */
  invoked?(logicalId: string, event: unknown, durationMs: number, cpuMs: number | undefined): void;
  /** A line the function wrote to stdout or stderr (what Lambda sends to CloudWatch Logs). */
  logged?(logicalId: string, line: string): void;
}

const observers = new Set<RuntimeObserver>();

/** Registers `observer` until the function it returns is called. */
export function observeRuntime(observer: RuntimeObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

export interface FunctionSpec {
  logicalId: string;
  name: string;
  arn: string;
  codeDir: string;
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  credentials: Credentials;
  region: string;
  endpoint: string;
}

export interface Invocation {
  function: string;
  trigger: string;
  durationMs: number;
  ok: boolean;
  /** Why it failed, or what it answered (e.g. a status, partial failures). */
  summary: string;
}

export type InvokeResult = (
  { ok: true; result: unknown } | { ok: false; error: { errorType: string; errorMessage: string } }
) & {
  /** The lines the invocation wrote (its last 200), when its environment answered: its summary line among them. */
  lines?: string[];
};

interface Pending {
  /** `cpuMs`: the CPU time the invocation used in its environment, when it answered. */
  resolve: (result: InvokeResult, cpuMs?: number) => void;
  timer: NodeJS.Timeout;
  child: ChildProcess;
}

/**
 * At most this many environments per function. Lambda would scale further; on a small machine a
 * burst of invocations is better queued for a warm environment than met with dozens of cold starts
 * that slow everything down until the authoriser times out.
 */
export const MAX_ENVIRONMENTS = 4;

/**
 * One function's execution environments: child processes that each load the bundled handler once
 * and serve one invocation at a time, as Lambda's do, with only the environment Lambda would give
 * them (its configuration, its role's credentials, the region, the emulator's endpoint). An
 * invocation that finds no idle environment gets a fresh one (a cold start), up to
 * MAX_ENVIRONMENTS, or else waits for one; one past the function's timeout ends its environment,
 * as Lambda does.
 */
export class LocalFunction {
  /** Environments waiting for an invocation. */
  private readonly idle: ChildProcess[] = [];
  private readonly pending = new Map<string, Pending>();
  /** Invocations waiting for an environment, first come first served. */
  private readonly waiting: ((child: ChildProcess) => void)[] = [];
  private environments = 0;
  private stopped = false;
  /** A crash asked for: the environment dies at its next AWS call (of this action, when one is named). */
  private crash: { service?: string; action?: string; crashed: () => void } | undefined;

  constructor(
    readonly spec: FunctionSpec,
    private readonly onLogLine: (functionName: string, line: string) => void,
  ) {}

  async invoke(event: unknown): Promise<InvokeResult> {
    const child = await this.environment();
    const id = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const started = performance.now();
    let cpuMs: number | undefined;
    return new Promise<InvokeResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${this.spec.timeoutSeconds} seconds`,
          },
        });
        child.kill('SIGKILL');
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (result, cpu) => {
          cpuMs = cpu;
          resolve(result);
        },
        timer,
        child,
      });
      child.send({
        type: 'invoke',
        id,
        requestId: id,
        functionArn: this.spec.arn,
        deadline: Date.now() + timeoutMs,
        event,
      });
    }).finally(() => {
      const durationMs = performance.now() - started;
      for (const observer of observers) observer.invoked?.(this.spec.logicalId, event, durationMs, cpuMs);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const child of this.idle.splice(0)) child.kill('SIGKILL');
    for (const { child } of this.pending.values()) child.kill('SIGKILL');
  }

  /**
   * Kills the environment in the middle of an invocation, as a crash would: at its next AWS call
   * (`service:Action`, or any), once the emulator has done what it asked but before the function
   * hears back. Resolves when it has happened; later invocations get a fresh environment.
   */
  /** Whether a crash is set and has not happened yet. */
  get crashArmed(): boolean {
    return this.crash !== undefined;
  }

  crashAt(call: { service?: string; action?: string } = {}): Promise<void> {
    return new Promise((resolve) => (this.crash = { ...call, crashed: resolve }));
  }

  /** The proxy saw one of this function's AWS calls answered. */
  sawCall(call: AwsCall): void {
    const crash = this.crash;
    if (!crash || !this.pending.size) return;
    if (crash.service && crash.service !== call.service) return;
    if (crash.action && crash.action.toLowerCase() !== call.action.toLowerCase()) return;
    this.crash = undefined;
    this.onLogLine(this.spec.name, `twin: killed mid-invocation, after its call ${call.service}:${call.action}`);
    // The proxy cannot tell which environment made the call: every busy one dies with it.
    for (const { child } of this.pending.values()) child.kill('SIGKILL');
    crash.crashed();
  }

  private environment(): ChildProcess | Promise<ChildProcess> {
    const warm = this.idle.pop();
    if (warm) return warm;
    if (this.environments >= MAX_ENVIRONMENTS) return new Promise((resolve) => this.waiting.push(resolve));
    return this.start();
  }

  /** An environment done with its invocation serves the next one waiting, or waits itself. */
  private release(child: ChildProcess): void {
    const next = this.waiting.shift();
    if (next) next(child);
    else this.idle.push(child);
  }

  private start(): ChildProcess {
    this.environments++;
    const { spec } = this;
    const child = fork(HOST, [spec.codeDir, spec.handler], {
      cwd: spec.codeDir,
      // Plain Node, as Lambda runs the bundle: not the twin's TypeScript loader, which costs a cold
      // start hundreds of milliseconds. The host exits when its IPC channel closes (the twin ended);
      // in a process group of its own a terminal's Ctrl-C leaves it to the twin to stop.
      execArgv: [],
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH,
        TZ: 'UTC',
        LANG: 'en_US.UTF-8',
        LAMBDA_TASK_ROOT: spec.codeDir,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_LAMBDA_FUNCTION_NAME: spec.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_FORMAT: 'JSON',
        AWS_REGION: spec.region,
        AWS_DEFAULT_REGION: spec.region,
        AWS_ENDPOINT_URL: spec.endpoint,
        AWS_ACCESS_KEY_ID: spec.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: spec.credentials.secretAccessKey,
        AWS_SESSION_TOKEN: spec.credentials.sessionToken,
        ...spec.environment,
      },
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        for (const observer of observers) observer.logged?.(spec.logicalId, line);
        this.onLogLine(spec.name, line);
      });
    }
    child.on('message', (message: { type: string; id: string; cpuMs?: number; lines?: string[] } & InvokeResult) => {
      const pending = this.pending.get(message.id);
      if (message.type !== 'result' || !pending) return;
      clearTimeout(pending.timer);
      this.pending.delete(message.id);
      pending.resolve(
        message.ok
          ? { ok: true, result: message.result, lines: message.lines }
          : { ok: false, error: message.error, lines: message.lines },
        message.cpuMs,
      );
      if (!child.killed && child.exitCode === null && child.signalCode === null) this.release(child);
    });
    child.on('exit', (code, signal) => {
      this.environments--;
      const at = this.idle.indexOf(child);
      if (at >= 0) this.idle.splice(at, 1);
      const next = this.stopped ? undefined : this.waiting.shift();
      if (next) next(this.start());
      for (const [id, pending] of this.pending) {
        if (pending.child !== child) continue;
        clearTimeout(pending.timer);
        this.pending.delete(id);
        pending.resolve({
          ok: false,
          error: { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited (${signal ?? code})` },
        });
      }
    });
    return child;
  }
}
