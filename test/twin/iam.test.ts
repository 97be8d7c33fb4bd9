import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { physicalId, roleOf } from '../support/twin-resources.ts';

/** 'allowed', 'denied', or what else went wrong: a test must not pass on a failure of another kind. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => 'allowed',
    (error: Error) =>
      /not authorized|AccessDenied/i.test(`${error.name} ${error.message}`)
        ? 'denied'
        : `failed: ${error.name} ${error.message}`,
  );

describe('the emulator enforces each function role as the stack wrote it', () => {
  const send = (role: string, queue: string) =>
    outcome(
      new SQSClient(roleOf(role)).send(new SendMessageCommand({ QueueUrl: physicalId(queue), MessageBody: '{}' })),
    );

  it('lets ingest queue events, and nothing else', async () => {
    expect(await send('IngestFunction', 'EventsQueue')).toBe('allowed');
    expect(await send('IngestFunction', 'DeliveriesQueue')).toBe('denied');
    const getItem = new GetItemCommand({
      TableName: physicalId('StorageTable'),
      Key: { pk: { S: 'x' }, sk: { S: 'y' } },
    });
    expect(await outcome(new DynamoDBClient(roleOf('IngestFunction')).send(getItem))).toBe('denied');
  });

  it('lets fanout read the table and send deliveries, but not events', async () => {
    expect(await send('FanoutFunction', 'DeliveriesQueue')).toBe('allowed');
    expect(await send('FanoutFunction', 'EventsQueue')).toBe('denied');
    const getItem = new GetItemCommand({
      TableName: physicalId('StorageTable'),
      Key: { pk: { S: 'x' }, sk: { S: 'y' } },
    });
    expect(await outcome(new DynamoDBClient(roleOf('FanoutFunction')).send(getItem))).toBe('allowed');
  });

  it('lets only the two that resolve keys, the authoriser and the SOAP function, read the admin key', async () => {
    const read = (role: string) =>
      outcome(
        new SecretsManagerClient(roleOf(role)).send(
          new GetSecretValueCommand({ SecretId: 'FeedbackLoops/admin-api-key' }),
        ),
      );
    expect(await read('AuthorizerFunction')).toBe('allowed');
    expect(await read('SoapFunction')).toBe('allowed');
    expect(await read('ApiFunction')).toBe('denied');
    expect(await read('DeliverFunction')).toBe('denied');
  });
});
