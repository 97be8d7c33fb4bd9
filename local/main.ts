import { InvalidSettingsError } from '../lib/settings.ts';
import { startTwin } from './twin.ts';

/**
 * `npm start [-- -c key=value ...]`: the whole system on this machine, until Ctrl-C.
 * PORT (default 3000) and ADMIN_API_KEY are read from the environment; AWS_ENDPOINT_URL names an
 * emulator that is already running instead of starting one.
 */
function parseContext(args: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const pair =
      arg === '-c' || arg === '--context' ? args[++i] : arg.startsWith('--context=') ? arg.slice(10) : undefined;
    const match = pair ? /^([^=]+)=(.*)$/.exec(pair) : null;
    if (!match) throw new InvalidSettingsError(`Unknown argument "${arg}". Usage: npm start -- -c key=value ...`);
    context[match[1]!] = match[2]!;
  }
  return context;
}

async function main(): Promise<void> {
  const context = parseContext(process.argv.slice(2));
  const print = (line: string) => console.log(line);
  console.log('Starting the Feedback Loops twin: emulator, synth, deploy…');
  const twin = await startTwin({
    port: Number(process.env.PORT ?? 3000),
    context,
    adminApiKey: process.env.ADMIN_API_KEY || undefined,
    print,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the twin…`);
    await twin.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  console.log(
    [
      '',
      `Feedback Loops twin ready in ${(twin.startupMs / 1000).toFixed(1)} s`,
      `  API        ${twin.apiUrl}/v1          (health: ${twin.apiUrl}/v1/health)`,
      `  Admin key  ${twin.adminKey}`,
      `  Emulator   ${twin.emulator.endpoint}    (stack ${twin.stackName}; function logs in ${twin.logDir})`,
      `  Schedules  ${twin.controlUrl}/schedules   (POST …/schedules/<rule> runs one now)`,
      'One line per invocation follows. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: Error) => {
  console.error(
    error instanceof InvalidSettingsError ? error.message : `The twin could not start: ${error.stack ?? error.message}`,
  );
  process.exit(1);
});
