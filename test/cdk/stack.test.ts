import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type RouteSpec } from '#shared/http/routes.ts';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../../local/gateway/gateway.ts';
import type { LocalFunction } from '../../local/lambda/runtime.ts';
import { readRoutes } from '../../local/gateway/routes.ts';
import { readThrottling } from '../../local/gateway/throttle.ts';
import { functionId, synth } from './synth.ts';

type Json = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
const ofType = (json: Json, type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);

describe('the stack with default settings', () => {
  let result: ReturnType<typeof synth>;
  let json: Json;
  beforeAll(() => {
    result = synth();
    json = result.json as Json;
  });

  it('runs every function on Node.js 24, arm64, with JSON logs at INFO and no tracing', () => {
    const functions = ofType(json, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      [
        'ApiFunction',
        'AuthorizerFunction',
        'DashboardFunction',
        'DeadLettersFunction',
        'DeliverFunction',
        'FanoutFunction',
        'IngestFunction',
        'LogCompactorFunction',
        'LogWriterFunction',
        'SesSourceFunction',
        'TrackingFunction',
        'SoapFunction',
        'VerifierFunction',
      ].sort(),
    );
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' },
      });
      expect(fn.Properties.TracingConfig).toBeUndefined();
    }
    expect(JSON.stringify(ofType(json, 'AWS::IAM::Policy'))).not.toContain('xray:');
  });

  it('throttles every route at 500 requests a second with a burst of 1000, as the twin reads it', () => {
    result.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
    });
    expect(readThrottling(result.json as never).defaults).toEqual({ rateLimit: 500, burstLimit: 1000 });
  });

  it('consumes the queues in batches that report partial failures', () => {
    const fanout = functionId(json, 'FanoutFunction');
    const deliver = functionId(json, 'DeliverFunction');
    result.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fanout },
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    result.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: deliver },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it("hides a message for at least six times its consumer's timeout, and redrives it to a dead-letter queue", () => {
    const mappings = ofType(json, 'AWS::Lambda::EventSourceMapping');
    // Three queues and their three dead-letter queues, each with a consumer.
    expect(mappings).toHaveLength(6);
    let redriven = 0;
    for (const [, mapping] of mappings) {
      const queueId = mapping.Properties.EventSourceArn['Fn::GetAtt'][0];
      const fnId = mapping.Properties.FunctionName.Ref;
      const queue = json.Resources[queueId]!.Properties;
      const timeout = json.Resources[fnId]!.Properties.Timeout;
      const window = mapping.Properties.MaximumBatchingWindowInSeconds ?? 0;
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout + window);
      if (!queue.RedrivePolicy) continue;
      const dlqId = queue.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
      expect(json.Resources[dlqId]!.Type).toBe('AWS::SQS::Queue');
      redriven++;
    }
    expect(redriven).toBe(3);
    // The first attempt, one per delay of the default schedule (8 delays), two of slack for crashes.
    result.template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 11 } });
  });

  it('encrypts every queue and refuses requests without TLS', () => {
    const queues = ofType(json, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(7);
    for (const [, queue] of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const tlsOnly = ofType(json, 'AWS::SQS::QueuePolicy').filter(([, policy]) =>
      policy.Properties.PolicyDocument.Statement.some(
        (s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      ),
    );
    expect(tlsOnly.flatMap(([, policy]) => policy.Properties.Queues)).toHaveLength(7);
  });

  it('takes SES events from the default bus, retried for a day, then dead-lettered with an alarm', () => {
    const sesSource = functionId(json, 'SesSourceFunction');
    const rules = ofType(json, 'AWS::Events::Rule').filter(([, rule]) => rule.Properties.EventPattern);
    expect(rules).toHaveLength(1);
    const [[, rule]] = rules as [[string, any]];
    expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ses'],
      'detail-type': expect.arrayContaining(['Email Sent', 'Email Opened', 'Email Bounced', 'Email Subscribed']),
    });
    expect(rule.Properties.EventPattern['detail-type']).toHaveLength(10);
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [sesSource, 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    const dlq = target.DeadLetterConfig.Arn['Fn::GetAtt'][0];
    const env = json.Resources[sesSource]!.Properties.Environment.Variables;
    expect(env.DEAD_LETTER_QUEUE_URL).toEqual({ Ref: dlq });
    expect(env.EVENTS_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^EventsQueue/) });
    result.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
    });
    result.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.message = "SES event not delivered" }',
    });
  });

  it('keeps log files private, encrypted, TLS-only and expiring', () => {
    result.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })]),
      },
    });
    result.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('stores state in an on-demand table with point-in-time recovery', () => {
    result.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('alarms on old messages of every queue, and on dead letters that stay', () => {
    const alarms = ofType(json, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms.filter((alarm) => alarm.MetricName === 'ApproximateAgeOfOldestMessage')).toHaveLength(3);
    // Visible or not: a dead letter its consumer could not record for 15 minutes.
    const deadLetters = alarms.filter((alarm) => alarm.Metrics);
    expect(deadLetters).toHaveLength(3);
    for (const alarm of deadLetters) {
      expect(
        alarm.Metrics.map((metric: any) => metric.MetricStat?.Metric.MetricName)
          .filter(Boolean)
          .sort(),
      ).toEqual(['ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesVisible']);
      expect(alarm.EvaluationPeriods).toBe(15);
    }
  });

  it('lets the log writer only put objects, and only under logs/', () => {
    const writer = functionId(json, 'LogWriterFunction');
    const role = json.Resources[writer]!.Properties.Role['Fn::GetAtt'][0];
    const statements = ofType(json, 'AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((ref: any) => ref.Ref === role))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
    const s3 = statements.filter((statement: any) =>
      [statement.Action].flat().some((action: string) => action.startsWith('s3:')),
    );
    expect(s3).toHaveLength(1);
    expect(s3[0].Action).toBe('s3:PutObject');
    expect(JSON.stringify(s3[0].Resource)).toContain('/logs/*');
  });

  it('has a route for every entry of the route table, public only where the contract says so', () => {
    const routes = Object.fromEntries(
      ofType(json, 'AWS::ApiGatewayV2::Route').map(([, route]) => [
        route.Properties.RouteKey,
        route.Properties.AuthorizationType ?? 'NONE',
      ]),
    );
    const heads = (ROUTES as readonly RouteSpec[]).filter((route) => route.head).map((route) => `HEAD ${route.path}`);
    expect(Object.keys(routes).sort()).toEqual(
      [
        ...ROUTES.map((route) => `${route.method} ${route.path}`),
        ...heads,
        'GET /',
        'GET /assets/{file}',
        'GET /v1/soap',
        'POST /v1/soap',
        '$default',
      ].sort(),
    );
    expect(
      Object.entries(routes)
        .filter(([, auth]) => auth === 'NONE')
        .map(([key]) => key)
        .sort(),
    ).toEqual(
      [
        '$default',
        'GET /',
        'GET /assets/{file}',
        'GET /v1/health',
        'GET /v1/openapi.json',
        'GET /t/o/{token}',
        'GET /t/c/{token}',
        'HEAD /t/o/{token}',
        'HEAD /t/c/{token}',
        // The SOAP function authenticates each call itself: the key may be in the SOAP header.
        'GET /v1/soap',
        'POST /v1/soap',
      ].sort(),
    );
  });

  it('re-checks unverified loops every 5 minutes', () => {
    const verifier = functionId(json, 'VerifierFunction');
    result.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [verifier, 'Arn'] } })],
    });
    result.template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it('gives the loop settings to the functions that reach out to loops', () => {
    for (const name of ['ApiFunction', 'SoapFunction', 'VerifierFunction', 'DeliverFunction']) {
      expect(json.Resources[functionId(json, name)]!.Properties.Environment.Variables).toMatchObject({
        ALLOW_HTTP_TARGETS: 'false',
        ALLOWED_TARGET_CIDRS: '',
      });
    }
    expect(
      json.Resources[functionId(json, 'ApiFunction')]!.Properties.Environment.Variables.MAX_LOOPS_PER_ACCOUNT,
    ).toBe('20');
  });

  it('lets only the two that resolve keys (the authoriser, the SOAP function) read the admin key, by its name', () => {
    const readers = ofType(json, 'AWS::IAM::Policy').filter(([, policy]) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('secretsmanager:GetSecretValue'),
    );
    expect(readers.map(([id]) => id.replace(/ServiceRoleDefaultPolicy[0-9A-F]{8}$/, ''))).toEqual([
      'AuthorizerFunction',
      'SoapFunction',
    ]);
    for (const [, reader] of readers) {
      expect(JSON.stringify(reader.Properties.PolicyDocument)).toContain(':secret:FeedbackLoops/admin-api-key-??????');
    }
  });

  it("gives each queue's consumer its own dead-letter queue for messages it cannot read", () => {
    for (const [fn, queue] of [
      ['FanoutFunction', 'EventsQueueDeadLetterQueue'],
      ['DeliverFunction', 'DeliveriesQueueDeadLetterQueue'],
      ['LogWriterFunction', 'LogQueueDeadLetterQueue'],
    ] as const) {
      const url = json.Resources[functionId(json, fn)]!.Properties.Environment.Variables.DEAD_LETTER_QUEUE_URL;
      expect(url.Ref, fn).toMatch(new RegExp(`^${queue}[0-9A-F]{8}$`));
      const role = json.Resources[functionId(json, fn)]!.Properties.Role['Fn::GetAtt'][0];
      const policies = ofType(json, 'AWS::IAM::Policy').filter(([, policy]) =>
        policy.Properties.Roles.some((r: any) => r.Ref === role),
      );
      expect(JSON.stringify(policies), fn).toContain(`"${url.Ref}","Arn"`);
    }
  });

  it('does not let the ingest function read or write the table', () => {
    const ingestRole = json.Resources[functionId(json, 'IngestFunction')]!.Properties.Role['Fn::GetAtt'][0];
    const policies = ofType(json, 'AWS::IAM::Policy').filter(([, policy]) =>
      policy.Properties.Roles.some((r: any) => r.Ref === ingestRole),
    );
    expect(JSON.stringify(policies)).not.toContain('dynamodb:');
    expect(JSON.stringify(policies)).toContain('sqs:SendMessage');
  });
});

describe('settings reach the stack and its functions', () => {
  let result: ReturnType<typeof synth>;
  let json: Json;
  beforeAll(() => {
    // synth() runs cdk-nag: it throws on any finding the settings bring (e.g. X-Ray's "*" grant).
    result = synth({
      retrySchedule: '1,1,2',
      deliveryTimeoutSeconds: '5',
      allowHttpTargets: 'true',
      allowedTargetCidrs: '127.0.0.0/8,::1/128',
      logRetentionDays: '30',
      maxLoopsPerAccount: '3',
      logLevel: 'debug',
      tracing: 'active',
      throttleRateLimit: '20',
      throttleBurstLimit: '40',
      sesEvents: 'false',
    });
    json = result.json as Json;
  });

  it('passes a custom retry schedule and delivery timeout to deliver and sizes the redrive by it', () => {
    const { template } = result;
    const deliver = json.Resources[functionId(json, 'DeliverFunction')]!.Properties;
    expect(deliver.Environment.Variables).toMatchObject({
      RETRY_SCHEDULE: '1,1,2',
      DELIVERY_TIMEOUT_SECONDS: '5',
      ALLOW_HTTP_TARGETS: 'true',
      ALLOWED_TARGET_CIDRS: '127.0.0.0/8,::1/128',
    });
    expect(deliver.Timeout).toBe(15);
    expect(
      json.Resources[functionId(json, 'ApiFunction')]!.Properties.Environment.Variables.MAX_LOOPS_PER_ACCOUNT,
    ).toBe('3');
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 6 } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 30 })]) },
    });
  });

  it("sets every function's log level and X-Ray tracing, with the grant tracing needs", () => {
    const functions = ofType(json, 'AWS::Lambda::Function');
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'INFO' },
      });
    }
    const grants = ofType(json, 'AWS::IAM::Policy').filter(([, policy]) =>
      JSON.stringify(policy).includes('xray:PutTraceSegments'),
    );
    expect(grants).toHaveLength(functions.length);
  });

  it('has no SES rule or function with sesEvents off', () => {
    expect(ofType(json, 'AWS::Events::Rule').filter(([, rule]) => rule.Properties.EventPattern)).toHaveLength(0);
    expect(() => functionId(json, 'SesSourceFunction')).toThrow();
  });

  it('throttles every route at the rate and burst given, as the twin reads it', () => {
    result.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 }),
    });
    expect(readThrottling(result.json as never).defaults).toEqual({ rateLimit: 20, burstLimit: 40 });
  });

  it("has the twin's gateway, built from this template, answer past the burst with 429", async () => {
    const answered = { statusCode: 200, body: '{"status":"ok"}' };
    const stub = { spec: { name: 'stub' }, invoke: async () => ({ ok: true, result: answered }) };
    const functions = new Map(
      ofType(json, 'AWS::Lambda::Function').map(([id]) => [id, stub as unknown as LocalFunction]),
    );
    // The clock stands still: no token comes back while the requests run.
    const routes = readRoutes(result.json as never, functions, () => 0);
    const server = await startGateway({ routes, port: 0, accountId: '000000000000', log: () => {} });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/health`;
      const statuses: number[] = [];
      for (let i = 0; i < 41; i++) statuses.push((await fetch(url)).status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(40);
      const refused = await fetch(url);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_requests');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('tracking on an own domain', () => {
  const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
  let result: ReturnType<typeof synth>;
  let json: Json;
  beforeAll(() => {
    // synth() runs cdk-nag and cfn-lint: it throws on any finding the domain brings.
    result = synth({ trackingDomain: 't.example.com', trackingCertificateArn: arn, trackingLinkDays: '30' });
    json = result.json as Json;
  });

  it('maps the API on the domain with its certificate, and the api signs URLs for it', () => {
    result.template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 't.example.com',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: arn, SecurityPolicy: 'TLS_1_2' })],
    });
    result.template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    const api = json.Resources[functionId(json, 'ApiFunction')]!.Properties;
    expect(api.Environment.Variables).toMatchObject({
      TRACKING_BASE_URL: 'https://t.example.com',
      TRACKING_LINK_DAYS: '30',
    });
    const tracking = json.Resources[functionId(json, 'TrackingFunction')]!.Properties;
    expect(tracking.Environment.Variables).toMatchObject({ TRACKING_LINK_DAYS: '30' });
  });

  it('has no domain without the setting', () => {
    const plain = synth();
    plain.template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
  });
});
