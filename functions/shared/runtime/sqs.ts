import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * The SQS client, once per execution environment, in a module of its own (as each service's is) so
 * that a function loads only the SDKs it uses: ingest, on every first request's path, needs no other.
 * Queue URLs name the regional endpoint, which is where the client goes anyway on AWS; off, the
 * client also honours AWS_ENDPOINT_URL (the local twin) instead of following the URL's host.
 */
export const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
