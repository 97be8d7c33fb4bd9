import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One SDK client per service, created once per execution environment and shared by every module. */
// Queue URLs name the regional endpoint, which is where the client goes anyway on AWS; off, the
// client also honours AWS_ENDPOINT_URL (the local twin) instead of following the URL's host.
export const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
export const secrets = new SecretsManagerClient({});
