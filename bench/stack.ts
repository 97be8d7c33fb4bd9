/**
 * The stack as the bench measures it, read from the synthesized template instead of restated: the
 * app synthesized as `npm start` synthesizes it with its default settings (and reused from the same
 * cache, .twin/synth), each function's environment (test/support/function-environment.ts, its
 * references given fixed stand-ins) and the batch size and batching window of each SQS event source.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize, twinContext } from '../local/deploy/synth.ts';
import { prop, referencedId, resourcesOfType, type Template } from '../local/template.ts';
import {
  type FunctionEnvironments,
  functionEnvironments,
  functionFolder,
} from '../test/support/function-environment.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface EventSource {
  batchSize: number;
  /** MaximumBatchingWindowInSeconds; 0 when the mapping has none. */
  windowSeconds: number;
}

export interface BenchStack {
  template: Template;
  environments: FunctionEnvironments;
  /** The SQS event source of function `folder` (its folder under functions/) on queue `queue` (its logical id without the hash). */
  eventSource: (folder: string, queue: string) => EventSource;
}

/** The event sources in `template` by function folder and queue logical id. */
export function eventSources(template: Template): { folder: string; queue: string; source: EventSource }[] {
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, mapping]) => ({
    folder: functionFolder(referencedId(prop(mapping, 'FunctionName')) ?? '') ?? '',
    queue: referencedId(prop(mapping, 'EventSourceArn')) ?? '',
    source: {
      batchSize: prop<number>(mapping, 'BatchSize') ?? 10,
      windowSeconds: prop<number>(mapping, 'MaximumBatchingWindowInSeconds') ?? 0,
    },
  }));
}

let synthesized: Promise<BenchStack> | undefined;

/** Synthesizes once per bench run (a cached synth takes well under a second, a fresh one the synth's ~10 s). */
export function benchStack(): Promise<BenchStack> {
  synthesized ??= (async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'fl-bench-synth-'));
    try {
      const { template } = await synthesize({
        outdir,
        cacheDir: path.join(ROOT, '.twin', 'synth'),
        context: twinContext({}),
        log: (line) => console.log(line),
      });
      const sources = eventSources(template);
      return {
        template,
        environments: functionEnvironments(template),
        eventSource: (folder, queue) => {
          const found = sources.find(
            (source) => source.folder === folder && source.queue.replace(/[0-9A-F]{8}$/, '') === queue,
          );
          if (!found) throw new Error(`no event source of ${folder} on ${queue} in the template`);
          return found.source;
        },
      };
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  })();
  return synthesized;
}
