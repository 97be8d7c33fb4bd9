import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Emulator } from '../emulator/emulator.ts';
import type { GatewayLog } from '../gateway/gateway.ts';
import type { LocalFunction } from '../lambda/runtime.ts';
import { type Template, prop, referencedId, resourcesOfType } from '../template.ts';

interface PatternTarget {
  ruleId: string;
  /** The rule as deployed in the emulator (its name). */
  ruleName: string;
  targetId: string;
  fn: LocalFunction;
  /** Lambda's asynchronous invocation: retries after a failed invocation, then the failure destination. */
  retryAttempts: number;
  onFailureQueueUrl?: string;
  queueUrl?: string;
}

/** The twin retries a failed asynchronous invocation after these delays (Lambda waits about 1 and 2 minutes). */
const RETRY_DELAYS_SECONDS = [1, 2];

/**
 * Runs the stack's event-pattern EventBridge rules whose targets are functions (docs/api.md §10): an event
 * put on the emulator's bus (`aws events put-events`) reaches the function as on AWS. moto matches
 * the pattern and transforms the input itself but cannot invoke a function: the twin's patch
 * (moto_server.py) sends what a function target gets to the queue `twinQueueName` names, which the
 * twin creates, and the twin works that queue: it invokes the function asynchronously as EventBridge
 * does, one event at a time, retries a failed invocation as the function's EventInvokeConfig says
 * (twice by default), then sends a destination record to its OnFailure queue.
 */
export class EventRules {
  private readonly targets: PatternTarget[];
  private readonly abort = new AbortController();
  private running: Promise<void>[] = [];
  private readonly sqs: SQSClient;

  constructor(
    template: Template,
    physicalIds: Map<string, string>,
    functions: Map<string, LocalFunction>,
    private readonly emulator: Emulator,
    private readonly log: GatewayLog,
  ) {
    const invokeConfigs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig');
    this.targets = resourcesOfType(template, 'AWS::Events::Rule')
      .filter(([, rule]) => prop(rule, 'EventPattern') && prop(rule, 'State') !== 'DISABLED')
      .flatMap(([ruleId, rule]) =>
        (prop<Record<string, unknown>[]>(rule, 'Targets') ?? []).flatMap((target) => {
          const fnId = referencedId(target.Arn) ?? '';
          const fn = functions.get(fnId);
          if (!fn) return [];
          const config = invokeConfigs.find(([, each]) => referencedId(prop(each, 'FunctionName')) === fnId)?.[1];
          const onFailure = referencedId(
            prop<{ OnFailure?: { Destination?: unknown } }>(config ?? { Type: '', Properties: {} }, 'DestinationConfig')
              ?.OnFailure?.Destination,
          );
          return [
            {
              ruleId,
              ruleName: physicalIds.get(ruleId) ?? ruleId,
              targetId: String(target.Id),
              fn,
              retryAttempts: prop<number>(config ?? { Type: '', Properties: {} }, 'MaximumRetryAttempts') ?? 2,
              ...(onFailure && physicalIds.get(onFailure) ? { onFailureQueueUrl: physicalIds.get(onFailure)! } : {}),
            },
          ];
        }),
      );
    this.sqs = new SQSClient({
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
    });
  }

  get rules(): string[] {
    return [...new Set(this.targets.map((target) => target.ruleId))];
  }

  /** Creates the queue of each function target and starts working it. */
  async start(): Promise<void> {
    for (const target of this.targets) {
      const { QueueUrl } = await this.sqs.send(
        new CreateQueueCommand({ QueueName: twinQueueName(target.ruleName, target.targetId) }),
      );
      target.queueUrl = QueueUrl!;
      this.running.push(this.work(target));
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.running);
  }

  private async work(target: PatternTarget): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: target.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        ));
      } catch {
        if (signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      // EventBridge invokes the function once per event, each on its own.
      await Promise.all(messages.map((message) => this.deliver(target, message)));
    }
  }

  private async deliver(target: PatternTarget, message: Message): Promise<void> {
    const event = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;
    delete event['ingestion-time']; // moto's own field; EventBridge's events have none
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const started = performance.now();
    const outcome = await target.fn.invoke(event);
    this.log({
      function: target.fn.spec.name,
      trigger: `rule ${target.ruleId}${attempt > 1 ? ` (retry ${attempt - 1})` : ''}`,
      durationMs: Math.round(performance.now() - started),
      ok: outcome.ok,
      summary: outcome.ok ? 'done' : `${outcome.error.errorType}: ${outcome.error.errorMessage}`,
    });
    if (!outcome.ok && attempt <= target.retryAttempts) {
      const delay = RETRY_DELAYS_SECONDS[Math.min(attempt - 1, RETRY_DELAYS_SECONDS.length - 1)]!;
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: target.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: delay,
        }),
      );
      return;
    }
    if (!outcome.ok && target.onFailureQueueUrl) {
      // Lambda's destination record for an asynchronous invocation whose retries ran out.
      const record = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId: randomUUID(),
          functionArn: `${target.fn.spec.arn}:$LATEST`,
          condition: 'RetriesExhausted',
          approximateInvokeCount: attempt,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: outcome.error,
      };
      await this.sqs.send(
        new SendMessageCommand({ QueueUrl: target.onFailureQueueUrl, MessageBody: JSON.stringify(record) }),
      );
    }
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: target.queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }
}

/** The queue that moto_server.py sends a function target's events to: the same rule on both sides. */
export function twinQueueName(ruleName: string, targetId: string): string {
  return `twin-rule-${ruleName}-${targetId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}
