import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';

/** Calls AWS as a function's role, as the twin's functions do. */
function asRole(functionPrefix: string) {
  const { endpoint, region, roleCredentials } = inject('twin');
  const id = Object.keys(roleCredentials).find((key) => key.startsWith(functionPrefix));
  const credentials = roleCredentials[id!]!;
  return { endpoint, region, credentials };
}

const resource = (prefix: string) => {
  const { resources } = inject('twin');
  return resources[Object.keys(resources).find((key) => key.startsWith(prefix))!]!;
};

const denied = (promise: Promise<unknown>) =>
  promise.then(
    () => 'allowed',
    (error: Error) => (/not authorized|AccessDenied/i.test(`${error.name} ${error.message}`) ? 'denied' : `failed: ${error.message}`),
  );

describe('the emulator enforces each function role as written in the stack', () => {
  it('lets ingest queue events but not touch the table', async () => {
    const sqs = new SQSClient(asRole('IngestFunction'));
    const dynamo = new DynamoDBClient(asRole('IngestFunction'));
    expect(await denied(sqs.send(new SendMessageCommand({ QueueUrl: resource('EventsQueueQueue'), MessageBody: '{}' })))).toBe('allowed');
    expect(await denied(dynamo.send(new GetItemCommand({ TableName: resource('StorageTable'), Key: { pk: { S: 'x' }, sk: { S: 'y' } } })))).toBe('denied');
  });

  it('lets fanout send deliveries but not events', async () => {
    const sqs = new SQSClient(asRole('FanoutFunction'));
    expect(await denied(sqs.send(new SendMessageCommand({ QueueUrl: resource('EventsQueueQueue'), MessageBody: '{}' })))).toBe('denied');
  });

  it('lets only the authoriser read the admin key', async () => {
    const name = 'FeedbackLoops/admin-api-key';
    const byAuthorizer = new SecretsManagerClient(asRole('AuthorizerFunction'));
    const byApi = new SecretsManagerClient(asRole('ApiFunction'));
    expect(await denied(byAuthorizer.send(new GetSecretValueCommand({ SecretId: name })))).toBe('allowed');
    expect(await denied(byApi.send(new GetSecretValueCommand({ SecretId: name })))).toBe('denied');
  });
});
