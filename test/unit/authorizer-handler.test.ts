import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, type GetCommandInput } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateApiKey, hashApiKey } from '#shared/accounts/api-keys.ts';
import type { AuthorizerContext } from '#shared/http/principal.ts';
import { authorizerEvent, lambdaContext } from '../support/factories.ts';
import { functionEnvironment } from '../support/function-environment.ts';

const { TABLE_NAME: TABLE, ADMIN_SECRET_NAME: SECRET_NAME } = functionEnvironment('authorizer');
const ADMIN_KEY = generateApiKey();

type Result = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;
type Handler = (event: APIGatewayRequestAuthorizerEventV2, context: Context) => Promise<Result>;
let handler: Handler;
let dynamoMock: ReturnType<typeof mockClient>;
let secretsMock: ReturnType<typeof mockClient>;

/** The API key items in the mocked table, by their hash. */
const keyItems = new Map<string, { keyId: string; accountId: string; createdAt: string }>();
let adminSecret = ADMIN_KEY;

beforeAll(async () => {
  const { dynamo } = await import('#shared/runtime/dynamo.ts');
  const { secrets } = await import('#shared/runtime/secrets.ts');
  dynamoMock = mockClient(dynamo);
  secretsMock = mockClient(secrets);
  ({ handler } = (await import('../../functions/authorizer/handler.ts')) as unknown as { handler: Handler });
});

afterAll(() => {
  dynamoMock.restore();
  secretsMock.restore();
});

beforeEach(() => {
  dynamoMock.reset();
  secretsMock.reset();
  dynamoMock.on(GetCommand).callsFake((input: GetCommandInput) => {
    const pk = String(input.Key?.pk ?? '');
    const item =
      input.TableName === TABLE && input.Key?.sk === 'APIKEY' ? keyItems.get(pk.replace(/^APIKEY#/, '')) : undefined;
    return item ? { Item: { pk, sk: 'APIKEY', ...item } } : {};
  });
  secretsMock.on(GetSecretValueCommand).callsFake((input) => {
    if (input.SecretId !== SECRET_NAME) throw new Error(`unexpected secret ${input.SecretId}`);
    return { Name: SECRET_NAME, SecretString: adminSecret };
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const context = lambdaContext('authorizer');

function authorize(authorization?: string, headerName = 'authorization'): Promise<Result> {
  const headers: Record<string, string> = authorization !== undefined ? { [headerName]: authorization } : {};
  return handler(authorizerEvent({ headers }), context);
}

/** A fresh account key stored in the table (fresh, so that no earlier test has it cached). */
function storedKey(accountId = 'acc_01JDTESTACCOUNT00000000001') {
  const key = generateApiKey();
  const keyId = `key_01JD${Math.random().toString(36).slice(2, 12).toUpperCase().padEnd(22, '0')}`;
  keyItems.set(hashApiKey(key), { keyId, accountId, createdAt: '2026-11-01T00:00:00.000Z' });
  return { key, keyId, accountId };
}

const getCalls = () => dynamoMock.commandCalls(GetCommand).map((call) => call.args[0].input as GetCommandInput);

describe('authorizer: who is calling', () => {
  it('lets a request without Authorization through as anonymous/missing, without any lookup', async () => {
    expect(await authorize()).toEqual({ isAuthorized: true, context: { kind: 'anonymous', reason: 'missing' } });
    expect(getCalls()).toHaveLength(0);
  });

  it('recognises the admin key from the secret', async () => {
    expect(await authorize(`Bearer ${ADMIN_KEY}`)).toEqual({ isAuthorized: true, context: { kind: 'admin' } });
    expect(await authorize(`bearer   ${ADMIN_KEY} `)).toEqual({ isAuthorized: true, context: { kind: 'admin' } });
  });

  it('resolves a stored account key to its account and key id', async () => {
    const { key, keyId, accountId } = storedKey();
    expect(await authorize(`Bearer ${key}`)).toEqual({
      isAuthorized: true,
      context: { kind: 'account', accountId, keyId },
    });
  });

  it('reads a capitalised Authorization header too', async () => {
    const { key, keyId, accountId } = storedKey();
    expect(await authorize(`Bearer ${key}`, 'Authorization')).toEqual({
      isAuthorized: true,
      context: { kind: 'account', accountId, keyId },
    });
  });

  it('answers anonymous/invalid for a key that is not in the table', async () => {
    expect(await authorize(`Bearer ${generateApiKey()}`)).toEqual({
      isAuthorized: true,
      context: { kind: 'anonymous', reason: 'invalid' },
    });
  });

  it.each([
    'Basic x',
    'Basic dXNlcjpwYXNz',
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'Token abc',
    '',
    `${ADMIN_KEY}`,
    `Bearer: ${ADMIN_KEY}`,
  ])('answers anonymous/invalid for the malformed header %j without a lookup', async (header) => {
    const result = await authorize(header);
    expect(result.isAuthorized).toBe(true);
    // An empty header counts as no header.
    expect(result.context).toEqual({ kind: 'anonymous', reason: header === '' ? 'missing' : 'invalid' });
    expect(getCalls()).toHaveLength(0);
  });

  it('never lets a prefix or a variant of the admin key pass as admin', async () => {
    for (const variant of [ADMIN_KEY.slice(0, -1), `${ADMIN_KEY}x`, ADMIN_KEY.toUpperCase()]) {
      expect((await authorize(`Bearer ${variant}`)).context).toEqual({ kind: 'anonymous', reason: 'invalid' });
    }
  });
});

describe('authorizer: the table and the cache', () => {
  it('looks a key up by its SHA-256 hash, never by the key itself', async () => {
    const { key } = storedKey();
    await authorize(`Bearer ${key}`);

    const calls = getCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({ TableName: TABLE, Key: { pk: `APIKEY#${hashApiKey(key)}`, sk: 'APIKEY' } });
    expect(JSON.stringify(calls[0])).not.toContain(key);
    expect(JSON.stringify(calls[0])).not.toContain(key.slice(3));
  });

  it('does not query the table again for a key seen within the cache time', async () => {
    const { key, keyId, accountId } = storedKey();
    for (let i = 0; i < 5; i++) {
      expect((await authorize(`Bearer ${key}`)).context).toEqual({ kind: 'account', accountId, keyId });
    }
    expect(getCalls()).toHaveLength(1);

    const unknown = generateApiKey();
    await authorize(`Bearer ${unknown}`);
    await authorize(`Bearer ${unknown}`);
    expect(getCalls()).toHaveLength(2);
  });

  it('reads the admin secret once within the cache time', async () => {
    const start = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(start + 10 * 60_000);
    await authorize(`Bearer ${ADMIN_KEY}`);
    await authorize(`Bearer ${storedKey().key}`);
    await authorize(`Bearer ${storedKey().key}`);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('stops accepting a revoked key within 5 minutes', async () => {
    const start = Date.now() + 20 * 60_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(start);
    const { key, keyId, accountId } = storedKey();
    expect((await authorize(`Bearer ${key}`)).context).toEqual({ kind: 'account', accountId, keyId });

    keyItems.delete(hashApiKey(key));
    now.mockReturnValue(start + 5 * 60_000 + 1);
    expect((await authorize(`Bearer ${key}`)).context).toEqual({ kind: 'anonymous', reason: 'invalid' });
  });

  it('follows a rotated admin key within 5 minutes', async () => {
    const start = Date.now() + 40 * 60_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(start);
    expect((await authorize(`Bearer ${ADMIN_KEY}`)).context).toEqual({ kind: 'admin' });

    const rotated = generateApiKey();
    adminSecret = rotated;
    try {
      now.mockReturnValue(start + 5 * 60_000 + 1);
      expect((await authorize(`Bearer ${rotated}`)).context).toEqual({ kind: 'admin' });
      expect((await authorize(`Bearer ${ADMIN_KEY}`)).context).toEqual({ kind: 'anonymous', reason: 'invalid' });
    } finally {
      adminSecret = ADMIN_KEY;
      now.mockReturnValue(start + 20 * 60_000);
      // Reload the original admin key, so that nothing of the rotation stays cached.
      expect((await authorize(`Bearer ${ADMIN_KEY}`)).context).toEqual({ kind: 'admin' });
    }
  });

  it('reads an admin key stored with surrounding whitespace (a newline from a shell or a file) as the key', async () => {
    const start = Date.now() + 80 * 60_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(start);
    const rotated = generateApiKey();
    adminSecret = ` ${rotated}\n`;
    try {
      expect((await authorize(`Bearer ${rotated}`)).context).toEqual({ kind: 'admin' });
    } finally {
      adminSecret = ADMIN_KEY;
      now.mockReturnValue(start + 20 * 60_000);
      expect((await authorize(`Bearer ${ADMIN_KEY}`)).context).toEqual({ kind: 'admin' });
    }
  });
});
