import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiHandler } from '#shared/http/api-handler.ts';
import { logger } from '#shared/runtime/logger.ts';
import { apiEvent, lambdaContext } from '../support/factories.ts';

/**
 * The logger's lines are caught, not printed: these failures are expected, and a passing run must not
 * show an ERROR stack. What is logged is still asserted.
 */
const logged = { warn: vi.spyOn(logger, 'warn'), error: vi.spyOn(logger, 'error') };
beforeEach(() => {
  logged.warn.mockImplementation(() => {});
  logged.error.mockImplementation(() => {});
});
afterEach(() => {
  vi.clearAllMocks();
});

/** What the SDK v3 throws once its retries are spent. */
const awsError = (name: string, fields: Record<string, unknown>) => Object.assign(new Error(name), { name, ...fields });

const answerTo = (failure: unknown) =>
  apiHandler(async () => {
    throw failure;
  })(apiEvent(), lambdaContext('api'));

describe('an AWS outage behind a route', () => {
  it.each([
    [
      'DynamoDB throttling',
      awsError('ProvisionedThroughputExceededException', { $fault: 'client', $retryable: { throttling: true } }),
    ],
    ['a service-side 500', awsError('InternalServerError', { $fault: 'server' })],
    ['SQS throttling', awsError('RequestThrottled', { $fault: 'client', $retryable: { throttling: true } })],
    ['a timeout', awsError('TimeoutError', {})],
  ])('answers %s with 503 service_unavailable and Retry-After, in the error shape', async (_, failure) => {
    const answer = await answerTo(failure);
    expect(answer.statusCode).toBe(503);
    expect(answer.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(answer.body as string)).toEqual({
      error: { code: 'service_unavailable', message: expect.stringMatching(/try again/) },
    });
    expect(logged.warn).toHaveBeenCalledWith(expect.stringContaining('answered 503'), { error: failure.name });
    expect(logged.error).not.toHaveBeenCalled();
  });

  it('still answers a bug of ours with 500 internal_error, without internals', async () => {
    const answer = await answerTo(new TypeError('cannot read properties of undefined'));
    expect(answer.statusCode).toBe(500);
    expect(answer.body).not.toContain('undefined');
    expect(JSON.parse(answer.body as string).error.code).toBe('internal_error');
    // An operator must look at it: an ERROR line with the error (here caught, not printed).
    expect(logged.error).toHaveBeenCalledWith('Unhandled error', expect.any(TypeError));
  });
});
