// Runs one function's bundled code in its own process, as a Lambda execution environment would:
// the handler is loaded once (the cold start) and then invoked for each event the twin sends.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [codeDir, handlerSpec] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf('.');
const moduleName = handlerSpec.slice(0, dot);
const exportName = handlerSpec.slice(dot + 1);
const file = ['.mjs', '.js', '.cjs'].map((ext) => path.join(codeDir, moduleName + ext)).find(existsSync);

let loading;
const loadHandler = () => {
  loading ??= (async () => {
    if (!file)
      throw Object.assign(new Error(`Cannot find module '${moduleName}' in ${codeDir}`), {
        name: 'Runtime.ImportModuleError',
      });
    const handler = (await import(pathToFileURL(file).href))[exportName];
    if (typeof handler !== 'function') {
      throw Object.assign(new Error(`${handlerSpec} is not a function`), { name: 'Runtime.HandlerNotFound' });
    }
    return handler;
  })();
  return loading;
};

/**
 * The lines an invocation writes (stdout and stderr; the last MAX_LINES), handed back with its
 * result: the twin tells what an invocation did from its summary line. The lines still go out as
 * well, to the function's log file.
 */
const MAX_LINES = 200;
let lines;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    if (lines) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    }
    return write(chunk, ...rest);
  };
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  lines = [];
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'twin',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  // CPU time of the invocation (loading included), for the runtime's observers (the bench's meter).
  const cpuStart = process.cpuUsage();
  const cpuMs = () => {
    const used = process.cpuUsage(cpuStart);
    return (used.user + used.system) / 1000;
  };
  try {
    const handler = await loadHandler();
    const result = await handler(message.event, context);
    process.send({ type: 'result', id: message.id, ok: true, result, cpuMs: cpuMs(), lines: takeLines() });
  } catch (error) {
    process.send({
      type: 'result',
      id: message.id,
      ok: false,
      cpuMs: cpuMs(),
      lines: takeLines(),
      error: { errorType: error?.name ?? 'Error', errorMessage: error?.message ?? String(error), stack: error?.stack },
    });
  }
});

function takeLines() {
  const taken = lines;
  lines = undefined;
  return taken;
}

process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (reason) => {
  console.error(JSON.stringify({ level: 'ERROR', message: 'Unhandled promise rejection', error: String(reason) }));
});
