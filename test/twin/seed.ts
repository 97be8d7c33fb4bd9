import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { generateApiKey, hashApiKey } from '../../functions/shared/api-keys.ts';
import { newId } from '../../functions/shared/ids.ts';
import { generateSecret } from '../../functions/shared/signing.ts';
import { type LoopRecord, itemKeys } from '../../functions/shared/table.ts';
import { physicalId } from './resources.ts';

const tableName = () => physicalId('StorageTable');

const documentClient = () => {
  const { endpoint, region, credentials } = inject('twin');
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials }));
};

/** An account with an API key and a verified loop, written straight into the table. */
export async function seedAccount(loop: Partial<LoopRecord> & { url: string }) {
  const client = documentClient();
  const accountId = newId('acc');
  const apiKey = generateApiKey();
  const keyId = newId('key');
  const now = new Date().toISOString();
  await client.send(new PutCommand({ TableName: tableName(), Item: { ...itemKeys.apiKey(hashApiKey(apiKey)), keyId, accountId, createdAt: now } }));
  const record: LoopRecord = {
    id: newId('loop'),
    accountId,
    events: ['open', 'click'],
    format: 'form',
    description: '',
    enabled: true,
    status: 'verified',
    secrets: [{ value: generateSecret() }],
    createdAt: now,
    updatedAt: now,
    ...loop,
  };
  await client.send(new PutCommand({ TableName: tableName(), Item: { ...itemKeys.loop(accountId, record.id), ...record } }));
  return { accountId, apiKey, loop: record };
}
