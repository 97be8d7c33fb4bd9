import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Deployment } from '../deploy/deploy.ts';
import type { Emulator } from '../emulator/emulator.ts';
import type { GatewayLog } from '../gateway/gateway.ts';
import type { LocalFunction } from '../lambda/runtime.ts';
import { type Template, prop, referencedId, resourcesOfType } from '../template.ts';
import { describeBatch } from './invocation-summary.ts';

export interface EventSource {
  fn: LocalFunction;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  batchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  /** Batches in flight at once: Lambda starts 5 pollers per SQS mapping, fewer if its scaling config caps them. */
  concurrency: number;
}

/** How many batches Lambda's SQS pollers start with, each invoking the function on its own. */
export const LAMBDA_SQS_POLLERS = 5;

/** The stack's SQS event source mappings, as the template configures them. */
export function readEventSources(
  template: Template,
  deployment: Deployment,
  functions: Map<string, LocalFunction>,
  emulator: Emulator,
): EventSource[] {
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([id, mapping]) => {
    const queueId = referencedId(prop(mapping, 'EventSourceArn'));
    const queue = queueId ? template.Resources[queueId] : undefined;
    if (!queueId || queue?.Type !== 'AWS::SQS::Queue')
      throw new Error(`Event source ${id}: the twin runs SQS event sources only`);
    const fn = functions.get(referencedId(prop(mapping, 'FunctionName')) ?? '');
    if (!fn) throw new Error(`Event source ${id} does not point at a function of the stack`);
    const queueUrl = deployment.physicalIds.get(queueId)!;
    return {
      fn,
      queueUrl,
      queueArn: `arn:aws:sqs:${emulator.region}:${emulator.accountId}:${queueUrl.split('/').pop()}`,
      batchSize: prop<number>(mapping, 'BatchSize') ?? 10,
      batchingWindowSeconds: prop<number>(mapping, 'MaximumBatchingWindowInSeconds') ?? 0,
      reportBatchItemFailures: (prop<string[]>(mapping, 'FunctionResponseTypes') ?? []).includes(
        'ReportBatchItemFailures',
      ),
      concurrency: Math.min(
        LAMBDA_SQS_POLLERS,
        prop<{ MaximumConcurrency?: number }>(mapping, 'ScalingConfig')?.MaximumConcurrency ?? LAMBDA_SQS_POLLERS,
      ),
    };
  });
}

/**
 * Polls one queue as Lambda's SQS pollers do, with the function's own credentials, `concurrency`
 * batches at a time: each gathers up to the batch size within the batching window, invokes the
 * function, deletes what succeeded. Failed
 * messages stay; they reappear after their visibility timeout and SQS's redrive policy moves them
 * to the dead-letter queue after maxReceiveCount receives.
 */
export class SqsPoller {
  private readonly abort = new AbortController();
  private readonly client: SQSClient;
  private running: Promise<void> | undefined;
  private resumed: (() => void) | undefined;
  private paused: Promise<void> | undefined;
  /** Resolves pause()'s promise once every loop has stopped taking messages. */
  private idle: (() => void) | undefined;
  /** Loops waiting for resume(). */
  private waiting = 0;

  constructor(
    private readonly source: EventSource,
    emulator: Emulator,
    private readonly log: GatewayLog,
  ) {
    this.client = new SQSClient({
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: source.fn.spec.credentials,
    });
  }

  start(): void {
    this.running = Promise.all(Array.from({ length: this.source.concurrency }, () => this.loop())).then(() => {});
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.resume();
    await this.running;
  }

  get name(): string {
    return this.source.queueUrl.split('/').pop()!;
  }

  /** The function it invokes, by logical id and physical name. */
  get functionNames(): string[] {
    return [this.source.fn.spec.logicalId, this.source.fn.spec.name];
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  /**
   * Takes no more messages until resume(). Resolves once it has stopped: a long poll in flight
   * (5 s at most) and the batch it brings are finished first, so no message is left received and unworked.
   */
  pause(): Promise<void> {
    if (!this.paused) this.paused = new Promise((resolve) => (this.resumed = resolve));
    return new Promise((resolve) => {
      const previous = this.idle;
      this.idle = () => {
        previous?.();
        resolve();
      };
      if (!this.running) this.idle();
    });
  }

  resume(): void {
    this.resumed?.();
    this.paused = this.resumed = undefined;
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      if (this.paused) {
        if (++this.waiting === this.source.concurrency) {
          this.idle?.();
          this.idle = undefined;
        }
        await this.paused;
        this.waiting--;
        continue;
      }
      try {
        const batch = await this.gather();
        if (batch.length) await this.process(batch);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.log({
          function: this.source.fn.spec.name,
          trigger: 'sqs poll',
          durationMs: 0,
          ok: false,
          summary: `poller: ${(error as Error).message}`,
        });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async gather(): Promise<Message[]> {
    const { batchSize, batchingWindowSeconds } = this.source;
    const batch = await this.receive(batchSize, 5);
    if (!batch.length || batchingWindowSeconds === 0) return batch;
    const windowEnds = Date.now() + batchingWindowSeconds * 1000;
    while (batch.length < batchSize && Date.now() < windowEnds && !this.abort.signal.aborted) {
      // A batching window may be up to 300 s; one SQS long poll waits 20 s at most.
      const wait = Math.min(20, Math.max(0, Math.floor((windowEnds - Date.now()) / 1000)));
      if (this.paused) break; // what it has gathered is processed
      batch.push(...(await this.receive(batchSize - batch.length, wait)));
      if (wait === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return batch;
  }

  private async receive(count: number, waitSeconds: number): Promise<Message[]> {
    const { Messages } = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.source.queueUrl,
        MaxNumberOfMessages: Math.min(10, count),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    return Messages ?? [];
  }

  private async process(messages: Message[]): Promise<void> {
    const { fn, queueArn, reportBatchItemFailures } = this.source;
    const event = {
      Records: messages.map((message) => ({
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body,
        attributes: message.Attributes ?? {},
        messageAttributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            {
              stringValue: value.StringValue,
              binaryValue: value.BinaryValue,
              dataType: value.DataType,
              stringListValues: [],
              binaryListValues: [],
            },
          ]),
        ),
        md5OfBody: message.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: queueArn.split(':')[3],
      })),
    };
    const started = performance.now();
    const outcome = await fn.invoke(event);
    const durationMs = Math.round(performance.now() - started);
    const trigger = `sqs ${queueArn.split(':').pop()} (${messages.length})`;

    if (!outcome.ok) {
      this.log({
        function: fn.spec.name,
        trigger,
        durationMs,
        ok: false,
        summary: `${outcome.error.errorType}: ${outcome.error.errorMessage}; batch returns to the queue`,
      });
      return;
    }
    const failedIds = reportBatchItemFailures ? batchItemFailures(outcome.result, messages) : new Set<string>();
    if (failedIds === 'invalid') {
      this.log({
        function: fn.spec.name,
        trigger,
        durationMs,
        ok: false,
        summary: 'invalid batchItemFailures; whole batch returns to the queue',
      });
      return;
    }
    const done = messages.filter((message) => !failedIds.has(message.MessageId!));
    for (let start = 0; start < done.length; start += 10) {
      await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.source.queueUrl,
          Entries: done
            .slice(start, start + 10)
            .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
    }
    const { ok, summary } = describeBatch(outcome.lines, done.length, failedIds.size);
    this.log({ function: fn.spec.name, trigger, durationMs, ok, summary });
  }
}

/** Lambda treats a response naming an unknown or empty id as a failure of the whole batch. */
function batchItemFailures(result: unknown, messages: Message[]): Set<string> | 'invalid' {
  const failures = (result as { batchItemFailures?: { itemIdentifier?: string }[] } | null)?.batchItemFailures;
  if (!failures) return new Set();
  const known = new Set(messages.map((message) => message.MessageId!));
  const ids = new Set<string>();
  for (const failure of failures) {
    if (!failure.itemIdentifier || !known.has(failure.itemIdentifier)) return 'invalid';
    ids.add(failure.itemIdentifier);
  }
  return ids;
}
