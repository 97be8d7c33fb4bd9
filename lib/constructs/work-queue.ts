import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface QueueConsumer {
  /** The function that works the queue; its timeout sets the queue's visibility timeout. */
  readonly fn: IFunction & { readonly timeout?: Duration };
  readonly batchSize: number;
  readonly maxBatchingWindow?: Duration;
}

export interface WorkQueueProps {
  readonly consumer: QueueConsumer;
  /** What works the dead-letter queue (records what the consumer kept failing on). */
  readonly deadLetterConsumer: QueueConsumer;
  /** Receives before SQS moves a message to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Alarm when the oldest waiting message is older than this. */
  readonly maxMessageAge: Duration;
}

/**
 * A queue with its consumer and its dead-letter queue, both encrypted and TLS-only, with alarms on the
 * dead-letter queue's depth and on the age of the oldest message. The consumer reports partial batch
 * failures, so one bad message never repeats its whole batch, and the visibility timeout follows from
 * it: six times its timeout plus its batching window, as Lambda advises, so that a message is never
 * handed out again while a retried invocation may still be working on it.
 */
export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', {
      visibilityTimeout: WorkQueue.visibilityTimeoutFor(props.deadLetterConsumer),
    });

    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: WorkQueue.visibilityTimeoutFor(props.consumer),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });

    consume(this.queue, props.consumer);
    consume(this.deadLetterQueue, props.deadLetterConsumer);

    // The dead-letter consumer takes each message within seconds; one that stays (visible or not)
    // for 15 minutes is one it could not record, and only the operator can look at it.
    new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Messages of ${id} wait in its dead-letter queue and could not be recorded as failures.`,
      metric: new MathExpression({
        expression: 'visible + hidden',
        usingMetrics: {
          visible: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
          hidden: this.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({ period: Duration.minutes(1) }),
        },
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 15,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    new Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `The oldest message of ${id} has waited longer than ${props.maxMessageAge.toHumanString()}.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1) }),
      threshold: props.maxMessageAge.toSeconds(),
      evaluationPeriods: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  static visibilityTimeoutFor(consumer: QueueConsumer): Duration {
    const timeout = consumer.fn.timeout ?? Duration.seconds(3);
    return Duration.seconds(timeout.toSeconds() * 6 + (consumer.maxBatchingWindow?.toSeconds() ?? 0));
  }
}

/** A dead-letter queue: encrypted, TLS-only, its messages kept 14 days (an alarm on it is the owner's). */
export function deadLetterQueue(scope: Construct, id: string, props: { visibilityTimeout?: Duration } = {}): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    ...props,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This is a dead-letter queue; what lands here is kept for 14 days and raises an alarm.',
  });
  return queue;
}

function consume(queue: Queue, consumer: QueueConsumer): void {
  consumer.fn.addEventSource(
    new SqsEventSource(queue, {
      batchSize: consumer.batchSize,
      ...(consumer.maxBatchingWindow ? { maxBatchingWindow: consumer.maxBatchingWindow } : {}),
      reportBatchItemFailures: true,
    }),
  );
}
