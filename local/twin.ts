import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import path from 'node:path';
import { type FunctionConfiguration, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { clientConfig, deploy } from './deploy/deploy.ts';
import { type Credentials, type Emulator, startEmulator } from './emulator/emulator.ts';
import { type GatewayLog, startGateway } from './gateway/gateway.ts';
import { readRoutes } from './gateway/routes.ts';
import { type Invocation, LocalFunction } from './lambda/runtime.ts';
import { type Controlled, handleControl } from './faults/control.ts';
import { type FaultSettings, FaultProxy } from './faults/faults.ts';
import { type Checked, preflight } from './preflight.ts';
import { isAlive } from './processes.ts';
import { assumeFunctionRoles } from './deploy/roles.ts';
import { EventRules } from './triggers/event-rules.ts';
import { Scheduler } from './triggers/scheduler.ts';
import { SqsPoller, readEventSources } from './triggers/sqs-poller.ts';
import { synthesize } from './deploy/synth.ts';
import { prop, resourcesOfType, variablesNaming } from './template.ts';

export interface TwinOptions {
  /** Port of the HTTP API; 0 picks a free one. */
  port: number;
  /** Settings, as `-c key=value` gives them to cdk. */
  context?: Record<string, string>;
  /** Use this admin key instead of a generated one. */
  adminApiKey?: string;
  region?: string;
  /** Where the twin keeps its synthesized app and the functions' logs. */
  workDir?: string;
  /** One line per invocation; function warnings and errors. */
  print?: (line: string) => void;
  /** Aborting it while the twin starts stops what has started; startTwin then rejects with its reason. */
  signal?: AbortSignal;
  /** What preflight() found, when the caller ran it first (with the same port and context). */
  checked?: Checked;
  /** Fail a share of the functions' AWS calls from the start (faults.ts; `POST /faults` changes it). */
  faults?: Partial<FaultSettings>;
}

export interface Twin {
  apiUrl: string;
  /** The twin's own controls: `POST <controlUrl>/schedules/<rule>` runs a schedule now. */
  controlUrl: string;
  adminKey: string;
  emulator: Emulator;
  stackName: string;
  /** Logical id → physical id of everything deployed. */
  resources: Map<string, string>;
  /** Logical id → the function's role credentials (to show what a role may and may not do). */
  roleCredentials: Map<string, Credentials>;
  functions: Map<string, LocalFunction>;
  scheduler: Scheduler;
  logDir: string;
  startupMs: number;
  /** Stops everything it started; calling it again waits for the same stop. */
  stop(): Promise<void>;
}

/**
 * The whole system on this machine (docs/api.md §10): the CDK app synthesized as for AWS, deployed into the
 * emulator through CloudFormation, and every function run from its bundled asset with its deployed
 * configuration and its own role, behind the HTTP API, the SQS pollers and the schedules that the
 * template describes.
 */
export async function startTwin(options: TwinOptions): Promise<Twin> {
  const started = performance.now();
  const print = options.print ?? (() => {});
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';

  // What can be wrong with how it was asked to start is found before anything else starts.
  const { context, emulator: launched } =
    options.checked ?? (await preflight({ port: options.port, context: options.context ?? {} }));
  const workRoot = options.workDir ?? path.resolve('.twin');
  let workDir: string;
  try {
    options.signal?.throwIfAborted();
    mkdirSync(workRoot, { recursive: true });
    removeFinishedRuns(workRoot);
    workDir = mkdtempSync(path.join(workRoot, `run-${process.pid}-`));
  } catch (error) {
    await launched?.stop();
    throw error;
  }
  const logDir = path.join(workDir, 'logs');
  mkdirSync(logDir);

  // Aborted by the caller, or by a failure here: either way what is still starting stops.
  const failed = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal;
  const stoppers: (() => Promise<void> | void)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const stopOne of stoppers.reverse()) await stopOne();
      rmSync(path.join(workDir, 'cdk.out'), { recursive: true, force: true });
    })());

  const emulatorStarting = startEmulator({
    region,
    logFile: path.join(workDir, 'emulator.log'),
    log: print,
    launched,
    signal,
  });
  emulatorStarting.then((emulator) => stoppers.unshift(() => emulator.stop())).catch(() => {});
  try {
    // The emulator starts while the app synthesizes (in a process of its own).
    const synthStarted = performance.now();
    const cacheDir = path.join(workRoot, 'synth');
    const shownCacheDir = path.relative(process.cwd(), cacheDir);
    const synthesizing = synthesize({
      outdir: path.join(workDir, 'cdk.out'),
      cacheDir,
      context,
      log: print,
      signal,
    }).then((assembly) => {
      const seconds = ((performance.now() - synthStarted) / 1000).toFixed(1);
      print(
        assembly.reused
          ? `synth: reused from ${shownCacheDir} (same sources, dependencies and settings as an earlier start)`
          : `synth: ${seconds} s (kept in ${shownCacheDir} for later starts with the same sources and settings)`,
      );
      return assembly;
    });
    const [assembly, emulator] = await Promise.all([synthesizing, emulatorStarting]);
    signal.throwIfAborted();

    const deployment = await deploy(emulator, assembly, { adminApiKey: options.adminApiKey });
    signal.throwIfAborted();
    // Each function's role credentials, and its configuration as deployed (one list, not a call each).
    const [roleCredentials, deployedConfigs] = await Promise.all([
      assumeFunctionRoles(emulator, assembly, deployment),
      deployedFunctions(new LambdaClient(clientConfig(emulator))),
    ]);
    signal.throwIfAborted();

    const logInvocation: GatewayLog = (entry) => print(formatInvocation(entry));
    const onLogLine = (functionName: string, line: string) => {
      appendFileSync(path.join(logDir, `${functionName}.log`), `${line}\n`);
      const notable = notableLogLine(line);
      if (notable) print(`    ${shortName(functionName)} ${notable}`);
    };

    // The functions' AWS calls go through the fault proxy; the twin's own go to the emulator.
    const functions = new Map<string, LocalFunction>();
    const faults = new FaultProxy(emulator.endpoint, functions, options.faults);
    stoppers.push(() => faults.stop());
    const proxyEndpoint = await faults.start();
    for (const [id, resource] of resourcesOfType(assembly.template, 'AWS::Lambda::Function')) {
      const name = deployment.physicalIds.get(id)!;
      const deployed = deployedConfigs.get(name);
      if (!deployed) throw new Error(`Function ${id}: the emulator has no function ${name}`);
      const s3Key = prop<{ S3Key?: string }>(resource, 'Code')?.S3Key ?? '';
      const codeDir = assembly.assetDirs.get(s3Key.replace(/\.zip$/, ''));
      if (!codeDir) throw new Error(`Function ${id}: its code asset ${s3Key} is not in the assembly`);
      // Lambda hands a JSON-logging function its application log level (setting logLevel).
      const logLevel = prop<{ ApplicationLogLevel?: string }>(resource, 'LoggingConfig')?.ApplicationLogLevel;
      functions.set(
        id,
        new LocalFunction(
          {
            logicalId: id,
            name,
            arn: deployed.FunctionArn!,
            codeDir,
            handler: deployed.Handler!,
            timeoutSeconds: deployed.Timeout ?? 3,
            memoryMb: deployed.MemorySize ?? 128,
            environment: { ...deployed.Environment?.Variables, ...(logLevel && { AWS_LAMBDA_LOG_LEVEL: logLevel }) },
            credentials: roleCredentials.get(id)!,
            region,
            endpoint: proxyEndpoint,
          },
          onLogLine,
        ),
      );
    }
    stoppers.push(async () => {
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
    });

    const server: Server = await startGateway({
      routes: readRoutes(assembly.template, functions),
      port: options.port,
      accountId: emulator.accountId,
      log: logInvocation,
    });
    stoppers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    stoppers.push(() => void server.closeAllConnections());
    // A variable that names the HTTP API (the api function's API_URL) names the gateway that stands in
    // for it: the emulator does not deploy the API. Set before any function's environment starts.
    const gatewayUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    for (const [id, fn] of functions)
      for (const name of variablesNaming(assembly.template, id, 'AWS::ApiGatewayV2::Api'))
        fn.spec.environment[name] = gatewayUrl;

    const pollers = readEventSources(assembly.template, deployment, functions, emulator).map(
      (source) => new SqsPoller(source, emulator, logInvocation),
    );
    pollers.forEach((poller) => poller.start());
    stoppers.push(async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
    });

    // Event-pattern rules: what is put on the emulator's bus reaches their functions.
    const eventRules = new EventRules(assembly.template, deployment.physicalIds, functions, emulator, logInvocation);
    stoppers.push(() => eventRules.stop());
    await eventRules.start();

    const scheduler = new Scheduler(assembly.template, functions, emulator, logInvocation);
    scheduler.start();
    stoppers.push(() => scheduler.stop());
    const control = await startControl(scheduler, { faults, functions, pollers });
    stoppers.push(() => new Promise<void>((resolve) => control.close(() => resolve())));

    const adminSecretName = String(assembly.template.Outputs?.AdminSecretName?.Value ?? '');
    const adminKey = deployment.secrets.get(adminSecretName);
    if (!adminKey) throw new Error('The stack has no AdminSecretName output naming a secret the twin created');
    const notEmulated = countByType(
      deployment.skipped.filter(({ type }) => !/^AWS::(ApiGatewayV2|SecretsManager)::/.test(type)),
    );
    if (notEmulated) print(`twin: not emulated (they act on AWS only): ${notEmulated}`);
    // Aborted while the last parts started: stop rather than hand back a twin nobody will stop.
    signal.throwIfAborted();

    return {
      apiUrl: gatewayUrl,
      controlUrl: `http://127.0.0.1:${(control.address() as { port: number }).port}`,
      adminKey,
      emulator,
      stackName: assembly.stackName,
      resources: deployment.physicalIds,
      roleCredentials,
      functions,
      scheduler,
      logDir,
      startupMs: Math.round(performance.now() - started),
      stop,
    };
  } catch (error) {
    failed.abort(error);
    await stop();
    // The emulator may still have been starting when something else failed.
    await emulatorStarting.then((emulator) => emulator.stop()).catch(() => {});
    throw error;
  }
}

/** Every function the emulator holds, by name, with its configuration as deployed. */
async function deployedFunctions(lambda: LambdaClient): Promise<Map<string, FunctionConfiguration>> {
  const found = new Map<string, FunctionConfiguration>();
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListFunctionsCommand({ Marker: marker }));
    for (const fn of page.Functions ?? []) if (fn.FunctionName) found.set(fn.FunctionName, fn);
    marker = page.NextMarker;
  } while (marker);
  return found;
}

/** `POST /schedules/<rule>` runs a scheduled rule now (by its logical id or a unique part); `GET /schedules` lists them. */
function startControl(scheduler: Scheduler, controlled: Controlled): Promise<Server> {
  const server = createServer(async (request, response) => {
    if (await handleControl(request, response, controlled)) return;
    const rule = /^\/schedules\/([A-Za-z0-9]+)$/.exec(request.url ?? '')?.[1];
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET' && request.url === '/schedules') return reply(200, { schedules: scheduler.rules });
    if (request.method !== 'POST' || !rule) return reply(404, { error: 'POST /schedules/<rule> or GET /schedules' });
    scheduler.trigger(rule).then(
      (ran) => reply(200, { ran }),
      (error: Error) => reply(404, { error: error.message }),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A run's folder (its logs) stays for a look after it stops, until a later twin starts. */
function removeFinishedRuns(workRoot: string): void {
  for (const name of readdirSync(workRoot)) {
    const pid = Number(/^run-(\d+)-/.exec(name)?.[1]);
    if (!pid || isAlive(pid)) continue;
    rmSync(path.join(workRoot, name), { recursive: true, force: true });
  }
}

/** `4 × SQS::QueuePolicy, 2 × CloudWatch::Alarm`: what the emulator skipped and nothing stands in for. */
function countByType(resources: { type: string }[]): string {
  const counts = new Map<string, number>();
  for (const { type } of resources)
    counts.set(type.replace(/^AWS::/, ''), (counts.get(type.replace(/^AWS::/, '')) ?? 0) + 1);
  return [...counts].map(([type, count]) => `${count} × ${type}`).join(', ');
}

/** Function names are `<stack>-<LogicalId>-<suffix>`; the logical id, shortened, reads best. */
function shortName(physicalName: string): string {
  const parts = physicalName.split('-');
  const logical = parts.length >= 3 ? parts.slice(1, -1).join('-') : physicalName;
  return logical
    .replace(/Function[0-9A-F]{8}$/, '')
    .replace(/[0-9A-F]{8}$/, '')
    .toLowerCase();
}

export function formatInvocation(entry: Invocation): string {
  const time = new Date().toISOString().slice(11, 23);
  const outcome = entry.ok ? 'ok ' : 'ERR';
  return `${time}  ${shortName(entry.function).padEnd(10)} ${outcome} ${String(entry.durationMs).padStart(5)} ms  ${entry.trigger}  ${entry.summary}`;
}

/** A function's WARN and ERROR log lines, shortened to their message. */
function notableLogLine(line: string): string | undefined {
  try {
    const record = JSON.parse(line) as { level?: string; message?: string; error?: unknown };
    if (record.level !== 'WARN' && record.level !== 'ERROR') return undefined;
    const error =
      record.error && typeof record.error === 'object' ? (record.error as { message?: string }).message : record.error;
    return `${record.level}: ${record.message}${error ? ` (${error})` : ''}`;
  } catch {
    return line.trim() ? `| ${line}` : undefined;
  }
}
