import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { type Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { type IQueue, type Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SES_DETAIL_TYPES, SES_NOT_DELIVERED } from '#shared/events/ses-source-names.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { type Settings } from '../settings.ts';
import { AppFunction } from './app-function.ts';
import { deadLetterQueue } from './work-queue.ts';

export interface SesSourceProps {
  readonly observability: Pick<Settings, 'logLevel' | 'tracing'>;
  readonly table: Table;
  /** Where the SES events' events go, as ingest's do. */
  readonly eventsQueue: IQueue;
}

/**
 * Amazon SES as a source (docs/ses.md): a rule on the default event bus for SES event publishing, its
 * function (which queues each SES event's events on the events queue), and the target's dead-letter
 * queue, which holds what EventBridge could not hand over after its retries and what the function
 * could not deliver (unreadable, of no known account), with an alarm on it and a count of the latter.
 */
export class SesSource extends Construct {
  readonly fn: AppFunction;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: SesSourceProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');

    this.fn = new AppFunction(this, 'Function', {
      name: 'ses-source',
      observability: props.observability,
      description: 'Turns each SES event from EventBridge into events of its account and queues them',
      timeout: Duration.seconds(15),
    })
      .useTable(ENV.TABLE_NAME, props.table, 'read')
      .sendsTo(ENV.EVENTS_QUEUE_URL, props.eventsQueue)
      .sendsTo(ENV.DEAD_LETTER_QUEUE_URL, this.deadLetterQueue);

    // EventBridge invokes a Lambda target asynchronously, one event at a time (rule targets do not
    // batch for Lambda). What it cannot hand over it retries for up to a day, then dead-letters; an
    // invocation that throws (the events queue failed) Lambda retries twice, then sends it to the
    // same queue as a destination record: nothing is lost, nothing is retried forever.
    this.fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.rule = new Rule(this, 'Rule', {
      description: 'SES event publishing (configuration sets with an EventBridge destination), docs/ses.md',
      eventPattern: { source: ['aws.ses'], detailType: [...SES_DETAIL_TYPES] },
      targets: [
        new LambdaFunction(this.fn, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'SES events wait in the SES dead-letter queue: unreadable, of no known account, or not queued after retries.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    new MetricFilter(this, 'NotDeliveredCount', {
      logGroup: this.fn.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', SES_NOT_DELIVERED),
      metricNamespace: 'FeedbackLoops',
      metricName: 'SesEventsNotDelivered',
      metricValue: '1',
    });
  }
}
