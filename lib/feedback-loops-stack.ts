import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ROUTES, type RouteSpec } from '#shared/http/routes.ts';
import { ENV } from '#shared/runtime/env-names.ts';
import { Construct } from 'constructs';
import { Api } from './constructs/api.ts';
import { AppFunction } from './constructs/app-function.ts';
import { Dashboard } from './constructs/dashboard.ts';
import { SesSource } from './constructs/ses-source.ts';
import { Storage } from './constructs/storage.ts';
import { WorkQueue } from './constructs/work-queue.ts';
import { logFlushWindowSeconds, type Settings } from './settings.ts';

export interface FeedbackLoopsStackProps extends StackProps {
  readonly settings: Settings;
}

/**
 * An event's way through the system:
 *   POST /v1/events → ingest → events queue → fanout → deliveries queue → deliver → the loop's URL
 */
export class FeedbackLoopsStack extends Stack {
  constructor(scope: Construct, id: string, props: FeedbackLoopsStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const observability = { logLevel: settings.logLevel, tracing: settings.tracing };

    // Storage
    const storage = new Storage(this, 'Storage', { logRetentionDays: settings.logRetentionDays });

    // Functions
    const authorizer = new AppFunction(this, 'AuthorizerFunction', {
      name: 'authorizer',
      observability,
      description: 'Resolves an API key into the admin, an account, or nobody',
      timeout: Duration.seconds(5),
    })
      .useTable(ENV.TABLE_NAME, storage.table, 'read')
      .readsSecret(ENV.ADMIN_SECRET_NAME, storage.adminSecretName);

    const outboundSettings = {
      [ENV.ALLOW_HTTP_TARGETS]: String(settings.allowHttpTargets),
      [ENV.ALLOWED_TARGET_CIDRS]: settings.allowedTargetCidrs.join(','),
    };

    // POST …/test waits for the receiver, but API Gateway answers 503 itself after 30 s.
    const testTimeoutSeconds = Math.min(settings.deliveryTimeoutSeconds, 20);
    const apiFunction = new AppFunction(this, 'ApiFunction', {
      name: 'api',
      observability,
      description: 'Accounts, keys and loops; health, the OpenAPI document, 404 and 405',
      // A verification check waits up to 5 s for the account's server, a test up to testTimeoutSeconds.
      timeout: Duration.seconds(Math.max(15, testTimeoutSeconds + 5)),
      environment: {
        [ENV.MAX_LOOPS_PER_ACCOUNT]: String(settings.maxLoopsPerAccount),
        [ENV.TEST_TIMEOUT_SECONDS]: String(testTimeoutSeconds),
        ...outboundSettings,
      },
    }).useTable(ENV.TABLE_NAME, storage.table, 'readWrite');

    const verifier = new AppFunction(this, 'VerifierFunction', {
      name: 'verifier',
      observability,
      description: 'Every 5 minutes: checks the verification file of each unverified loop',
      timeout: Duration.minutes(1),
      environment: outboundSettings,
    }).useTable(ENV.TABLE_NAME, storage.table, 'readWrite');
    new Rule(this, 'VerificationSchedule', {
      description: 'Re-checks unverified loops (docs/api.md §6)',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(verifier, { retryAttempts: 0 })],
    });

    const ingest = new AppFunction(this, 'IngestFunction', {
      name: 'ingest',
      observability,
      description: 'POST /v1/events: validates events and queues them',
      timeout: Duration.seconds(15),
      memorySize: 512,
    });

    const fanout = new AppFunction(this, 'FanoutFunction', {
      name: 'fanout',
      observability,
      description: 'De-duplicates client ids, enriches each event and queues one delivery per loop that takes it',
      timeout: Duration.seconds(30),
      environment: { [ENV.MESSAGE_CONTEXT_TTL_DAYS]: String(settings.messageContextTtlDays) },
    }).useTable(ENV.TABLE_NAME, storage.table, 'readWrite');

    const deliveryTimeout = Duration.seconds(settings.deliveryTimeoutSeconds);
    const deliver = new AppFunction(this, 'DeliverFunction', {
      name: 'deliver',
      observability,
      description: 'POSTs one event to one loop, signed; schedules the retry, records failures, disables on 410',
      // Deliveries of a batch run side by side, so one delivery timeout plus room for the bookkeeping.
      timeout: deliveryTimeout.plus(Duration.seconds(10)),
      environment: {
        [ENV.DELIVERY_TIMEOUT_SECONDS]: String(settings.deliveryTimeoutSeconds),
        [ENV.RETRY_SCHEDULE]: settings.retrySchedule.join(','),
        ...outboundSettings,
      },
    }).useTable(ENV.TABLE_NAME, storage.table, 'readWrite');

    // Events that fanout kept failing on (5 receives), deliveries that deliver kept failing on.
    const fanoutMaxReceives = 5;
    // The first attempt, one more per delay of the retry schedule, and two receives of slack for a
    // crash: deliver records an exhausted delivery itself, so only repeated crashes reach the DLQ.
    const deliverMaxReceives = settings.retrySchedule.length + 3;
    const deadLetters = new AppFunction(this, 'DeadLettersFunction', {
      name: 'dead-letters',
      observability,
      description: 'Records what lands in a dead-letter queue as failures of the loops it was for',
      timeout: Duration.seconds(30),
      environment: {
        [ENV.FANOUT_MAX_RECEIVES]: String(fanoutMaxReceives),
        [ENV.DELIVER_MAX_RECEIVES]: String(deliverMaxReceives),
      },
    }).useTable(ENV.TABLE_NAME, storage.table, 'readWrite');

    // Log files: the log queue's batching window is the flush interval.
    const logFlushWindow = Duration.seconds(logFlushWindowSeconds(settings.logFlushSeconds));
    const logWriter = new AppFunction(this, 'LogWriterFunction', {
      name: 'log-writer',
      observability,
      description: 'Flushes the log queue: one chunk object and one index update per log file per flush',
      timeout: Duration.seconds(60),
      memorySize: 512,
      environment: { [ENV.LOG_RETENTION_DAYS]: String(settings.logRetentionDays) },
    })
      .useTable(ENV.TABLE_NAME, storage.table, 'readWrite')
      .useBucket(ENV.LOGS_BUCKET, storage.logsBucket, { objects: [{ prefix: 'logs/', actions: ['s3:PutObject'] }] });
    const logCompactor = new AppFunction(this, 'LogCompactorFunction', {
      name: 'log-compactor',
      observability,
      description: 'Every hour: compacts each closed day of log files into one object per format',
      timeout: Duration.minutes(15),
      memorySize: 1024,
    })
      .useTable(ENV.TABLE_NAME, storage.table, 'readWrite')
      .useBucket(ENV.LOGS_BUCKET, storage.logsBucket, {
        objects: [
          { prefix: 'logs/', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'] },
        ],
        list: ['logs/'],
      });
    new Rule(this, 'LogCompactionSchedule', {
      description: 'Compacts closed days of log files (docs/api.md §8)',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(logCompactor, { retryAttempts: 0 })],
    });
    // Reads files (and signs their download URLs); builds today's file under snapshots/.
    const logFileAccess = {
      objects: [
        { prefix: 'logs/', actions: ['s3:GetObject'] },
        { prefix: 'snapshots/', actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'] },
      ],
      list: ['logs/'],
    };
    apiFunction
      .useBucket(ENV.LOGS_BUCKET, storage.logsBucket, logFileAccess)
      .addEnvironment(ENV.PRESIGN_EXPIRY_SECONDS, String(settings.presignExpirySeconds));

    // The SOAP API (docs/soap.md) runs the api and ingest functions' own handlers in-process, so it holds
    // their grants and settings, and resolves keys itself: the key may be in the SOAP header, which
    // an authoriser cannot read. Its own function: the REST functions load none of its code.
    const soap = new AppFunction(this, 'SoapFunction', {
      name: 'soap',
      observability,
      description: 'GET /v1/soap: the WSDL; POST /v1/soap: a SOAP call, run as its REST route',
      timeout: Duration.seconds(Math.max(15, testTimeoutSeconds + 5)),
      memorySize: 512,
      environment: {
        [ENV.MAX_LOOPS_PER_ACCOUNT]: String(settings.maxLoopsPerAccount),
        [ENV.TEST_TIMEOUT_SECONDS]: String(testTimeoutSeconds),
        [ENV.PRESIGN_EXPIRY_SECONDS]: String(settings.presignExpirySeconds),
        ...outboundSettings,
      },
    })
      .useTable(ENV.TABLE_NAME, storage.table, 'readWrite')
      .readsSecret(ENV.ADMIN_SECRET_NAME, storage.adminSecretName)
      .useBucket(ENV.LOGS_BUCKET, storage.logsBucket, logFileAccess);

    // Queues
    const logs = new WorkQueue(this, 'LogQueue', {
      // As many messages as the window gathers (Lambda also stops at 6 MB): one chunk per file per flush.
      consumer: { fn: logWriter, batchSize: 10_000, maxBatchingWindow: logFlushWindow },
      // A flush that keeps failing is tried again from the dead-letter queue, where the alarm sees it.
      deadLetterConsumer: { fn: logWriter, batchSize: 10 },
      maxReceiveCount: 5,
      maxMessageAge: Duration.seconds(settings.logFlushSeconds * 5),
    });
    const events = new WorkQueue(this, 'EventsQueue', {
      consumer: { fn: fanout, batchSize: 25, maxBatchingWindow: Duration.seconds(1) },
      deadLetterConsumer: { fn: deadLetters, batchSize: 10 },
      maxReceiveCount: fanoutMaxReceives,
      maxMessageAge: Duration.minutes(5),
    });
    const deliveries = new WorkQueue(this, 'DeliveriesQueue', {
      consumer: { fn: deliver, batchSize: 10 },
      deadLetterConsumer: { fn: deadLetters, batchSize: 10 },
      maxReceiveCount: deliverMaxReceives,
      maxMessageAge: Duration.hours(1),
    });
    ingest.sendsTo(ENV.EVENTS_QUEUE_URL, events.queue);
    // Tracking (docs/tracking.md): the pixel and the redirect, public, queueing opens and clicks as ingest does.
    const tracking = new AppFunction(this, 'TrackingFunction', {
      name: 'tracking',
      observability,
      description: 'GET /t/o/… and /t/c/…: verifies the signed token, queues the open or click, answers pixel or 302',
      timeout: Duration.seconds(5),
      environment: { [ENV.TRACKING_LINK_DAYS]: String(settings.trackingLinkDays) },
    })
      .useTable(ENV.TABLE_NAME, storage.table, 'read')
      .sendsTo(ENV.EVENTS_QUEUE_URL, events.queue);
    // A message its consumer cannot read goes to the dead-letter queue at once (no retry mends it).
    fanout.sendsTo(ENV.DEAD_LETTER_QUEUE_URL, events.deadLetterQueue);
    deliver.sendsTo(ENV.DEAD_LETTER_QUEUE_URL, deliveries.deadLetterQueue);
    logWriter.sendsTo(ENV.DEAD_LETTER_QUEUE_URL, logs.deadLetterQueue);
    fanout.sendsTo(ENV.DELIVERIES_QUEUE_URL, deliveries.queue);
    apiFunction.sendsTo(ENV.DELIVERIES_QUEUE_URL, deliveries.queue);
    soap.sendsTo(ENV.DELIVERIES_QUEUE_URL, deliveries.queue).sendsTo(ENV.EVENTS_QUEUE_URL, events.queue);
    deliver.delaysRetriesOn(ENV.DELIVERIES_QUEUE_URL, deliveries.queue);
    fanout.sendsTo(ENV.LOG_QUEUE_URL, logs.queue);
    deliver.sendsTo(ENV.LOG_QUEUE_URL, logs.queue);

    // Amazon SES as a source: its events from the default event bus, queued as ingest queues them.
    if (settings.sesEvents)
      new SesSource(this, 'SesSource', { observability, table: storage.table, eventsQueue: events.queue });

    // API
    const api = new Api(this, 'Api', {
      authorizer,
      fallback: apiFunction,
      throttle: { rateLimit: settings.throttleRateLimit, burstLimit: settings.throttleBurstLimit },
    });
    const routeFunctions = { api: apiFunction, ingest, tracking };
    for (const route of ROUTES as readonly RouteSpec[]) {
      const options = { public: route.access === 'public' };
      api.route(`${route.method} ${route.path}`, routeFunctions[route.fn], options);
      if (route.head) api.route(`HEAD ${route.path}`, routeFunctions[route.fn], options);
    }
    // Tracking links on the operator's own domain, not execute-api (validated together in settings).
    if (settings.trackingDomain && settings.trackingCertificateArn) {
      const domain = api.customDomain(settings.trackingDomain, settings.trackingCertificateArn);
      new CfnOutput(this, 'TrackingDomainTarget', {
        value: domain.regionalDomainName,
        description: `DNS: ${settings.trackingDomain} CNAME (or alias A/AAAA) to this name`,
      });
    }
    // The dashboard, at the API's root: a browser app on the same origin that signs in with a key.
    const dashboard = new Dashboard(this, 'Dashboard', { observability });
    for (const route of ['GET /', 'GET /assets/{file}']) api.route(route, dashboard.fn, { public: true });
    // Public at API Gateway: the SOAP function authenticates each call itself (SOAP header or Bearer).
    for (const route of ['GET /v1/soap', 'POST /v1/soap']) {
      api.route(route, soap, {
        public: true,
        why: `${route}: the SOAP function authenticates each call itself, from the SOAP header or Bearer (docs/soap.md).`,
      });
    }

    // The OpenAPI document names the deployment's own URL as its server, not what a request's Host says.
    // The same URL as api.url, spelt with a Ref rather than a GetAtt: the emulator the twin deploys
    // into resolves a Ref to the API (which it does not deploy) but fails the stack on a GetAtt.
    const apiUrl = `https://${api.httpApi.apiId}.execute-api.${this.region}.${this.urlSuffix}`;
    apiFunction.addEnvironment(ENV.API_URL, apiUrl);
    apiFunction.addEnvironment(ENV.TRACKING_LINK_DAYS, String(settings.trackingLinkDays));
    // Tracking URLs name the operator's domain when there is one, the API's own URL otherwise.
    if (settings.trackingDomain)
      apiFunction.addEnvironment(ENV.TRACKING_BASE_URL, `https://${settings.trackingDomain}`);
    else apiFunction.addEnvironment(ENV.TRACKING_BASE_URL, apiUrl);
    soap.addEnvironment(ENV.API_URL, apiUrl);

    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'Base URL of the API' });
    new CfnOutput(this, 'AdminSecretName', {
      value: storage.adminSecretName,
      description: 'Secrets Manager secret holding the admin API key',
    });
  }
}
