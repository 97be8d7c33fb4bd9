import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type CfnTable, type Table } from 'aws-cdk-lib/aws-dynamodb';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type EnvName } from '#shared/runtime/env-names.ts';
import { type Settings } from '../settings.ts';

const FUNCTIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'functions');

/** Bundling hooks that copy `from` into the bundle's `dir` once esbuild has written it. */
function copyInto(dir: string, from: string) {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [
      `mkdir -p "${outputDir}/${dir}" && cp -R "${from}/." "${outputDir}/${dir}/"`,
    ],
  };
}

export interface AppFunctionProps {
  /** The folder under `functions/` whose `handler.ts` exports `handler`. */
  readonly name: string;
  readonly description: string;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /** Settings the function reads (its resources' names come from the bind helpers below). */
  readonly environment?: Partial<Record<EnvName, string>>;
  /** A folder whose files are copied into the bundle, under `public/` (e.g. the dashboard's built assets). */
  readonly publicFiles?: string;
  /** The deployment's log level and tracing, the same for every function. */
  readonly observability: Pick<Settings, 'logLevel' | 'tracing'>;
}

/**
 * Every Lambda default in one place: Node.js 24 on arm64, esbuild (minified ESM, its source map beside it),
 * JSON logs into a log group with a retention, the deployment's log level and tracing. The `use…` helpers grant access and
 * set the environment variable that names the resource together, so the two cannot drift apart.
 */
export class AppFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id, {
      entry: path.join(FUNCTIONS_DIR, props.name, 'handler.ts'),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: props.observability.tracing === 'active' ? Tracing.ACTIVE : Tracing.DISABLED,
      loggingFormat: LoggingFormat.JSON,
      // Lambda drops lines below this level, and hands it to the code as AWS_LAMBDA_LOG_LEVEL, which
      // Powertools Logger takes before any other level: a DEBUG line below it is not even formatted.
      applicationLogLevelV2: ApplicationLogLevel[props.observability.logLevel],
      // The platform's START and REPORT lines (a few hundred bytes an invocation) stay: REPORT alone
      // tells an invocation's init duration and memory used, which no free metric does.
      systemLogLevelV2: SystemLogLevel.INFO,
      logGroup: new LogGroup(scope, `${id}Logs`, {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'feedback-loops',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        // The map ships beside the bundle, to read a stack trace with; Node does not load it:
        // --enable-source-maps cost every cold start 60–150 ms (bench/README.md).
        sourceMap: true,
        mainFields: ['module', 'main'],
        logLevel: LogLevel.WARNING,
        // Some CommonJS dependencies call require(); ESM bundles need it defined.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        ...(props.publicFiles ? { commandHooks: copyInto('public', props.publicFiles) } : {}),
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "The AWS managed basic execution role only allows writing this function's CloudWatch logs.",
    });
    if (props.observability.tracing === 'active') {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only X-Ray\'s PutTraceSegments and PutTelemetryRecords use "*": X-Ray has no resource-level permissions.',
      });
    }
  }

  useTable(envName: EnvName, table: Table, access: 'read' | 'readWrite'): this {
    this.addEnvironment(envName, table.tableName);
    if (access === 'read') table.grantReadData(this);
    else table.grantReadWriteData(this);
    const tableId = Stack.of(table).getLogicalId(table.node.defaultChild as CfnTable);
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
      reason: 'The grant covers the indexes of this one table (CDK names them with a wildcard), no other table.',
    });
    return this;
  }

  sendsTo(envName: EnvName, queue: IQueue): this {
    this.addEnvironment(envName, queue.queueUrl);
    queue.grantSendMessages(this);
    return this;
  }

  /** Postpones a received message's next attempt by changing its visibility timeout. */
  delaysRetriesOn(envName: EnvName, queue: IQueue): this {
    this.addEnvironment(envName, queue.queueUrl);
    queue.grant(this, 'sqs:ChangeMessageVisibility');
    return this;
  }

  /**
   * Exactly these S3 actions on objects under these key prefixes (e.g. `logs/`), and listing
   * those prefixes when asked: no `s3:*` wildcards, no other part of the bucket.
   */
  useBucket(
    envName: string,
    bucket: IBucket,
    access: { objects: { prefix: string; actions: string[] }[]; list?: string[] },
  ): this {
    this.addEnvironment(envName, bucket.bucketName);
    const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket);
    for (const { prefix, actions } of access.objects) {
      this.addToRolePolicy(new PolicyStatement({ actions, resources: [bucket.arnForObjects(`${prefix}*`)] }));
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
        reason: `Objects under ${prefix} are named per account, day and type as they are written; the grant covers that prefix of this one bucket and no other.`,
      });
    }
    if (access.list) {
      this.addToRolePolicy(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': access.list.map((prefix) => `${prefix}*`) } },
        }),
      );
    }
    return this;
  }

  /**
   * Reads a secret named by its name, not by a reference to the secret resource: the grant is on the
   * name-based ARN (`<name>-??????`), which the local twin can also resolve.
   */
  readsSecret(envName: EnvName, secretName: string): this {
    this.addEnvironment(envName, secretName);
    Secret.fromSecretNameV2(this, `${envName}Secret`, secretName).grantRead(this);
    return this;
  }
}
