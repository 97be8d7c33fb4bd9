import { describe, expect, it } from 'vitest';
import { InvalidSettingsError, logFlushWindowSeconds, readSettings } from '../../lib/settings.ts';

const read = (context: Record<string, unknown>) => readSettings((key) => context[key]);
/** As lib/app.ts reads them: with every context key, so that unknown ones are refused. */
const readAll = (context: Record<string, unknown>) => readSettings((key) => context[key], Object.keys(context));

describe('deployment settings', () => {
  it('has the defaults of docs/api.md §9', () => {
    expect(read({})).toEqual({
      retrySchedule: [5, 60, 300, 1800, 7200, 18000, 36000, 43200],
      deliveryTimeoutSeconds: 10,
      allowHttpTargets: false,
      allowedTargetCidrs: [],
      logFlushSeconds: 60,
      logRetentionDays: 90,
      messageContextTtlDays: 90,
      maxLoopsPerAccount: 20,
      presignExpirySeconds: 300,
      logLevel: 'INFO',
      tracing: 'off',
      throttleRateLimit: 500,
      throttleBurstLimit: 1000,
      sesEvents: true,
      trackingLinkDays: 365,
    });
  });

  it('reads the log level and tracing in any case, and the throttle limits as numbers', () => {
    expect(
      read({ logLevel: 'debug', tracing: 'Active', throttleRateLimit: '20', throttleBurstLimit: ' 40 ' }),
    ).toMatchObject({ logLevel: 'DEBUG', tracing: 'active', throttleRateLimit: 20, throttleBurstLimit: 40 });
    expect(read({ logLevel: 'ERROR', throttleRateLimit: 10_000, throttleBurstLimit: 5_000 })).toMatchObject({
      logLevel: 'ERROR',
      throttleRateLimit: 10_000,
      throttleBurstLimit: 5_000,
    });
  });

  it('reads -c strings and cdk.json values alike', () => {
    const fromCli = read({
      retrySchedule: '1, 1,2',
      allowHttpTargets: 'true',
      allowedTargetCidrs: '127.0.0.0/8,::1/128',
      maxLoopsPerAccount: '3',
    });
    const fromJson = read({
      retrySchedule: [1, 1, 2],
      allowHttpTargets: true,
      allowedTargetCidrs: ['127.0.0.0/8', '::1/128'],
      maxLoopsPerAccount: 3,
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({ retrySchedule: [1, 1, 2], allowHttpTargets: true, maxLoopsPerAccount: 3 });
  });

  it.each([
    ['retrySchedule', '5,abc', /retrySchedule: "abc" .*\(got "5,abc"\)/],
    ['retrySchedule', '5,43201', /retrySchedule: "43201" .*\(got "5,43201"\)/],
    ['retrySchedule', '', /retrySchedule: must list 1 to 20 delays/],
    ['deliveryTimeoutSeconds', '0', /deliveryTimeoutSeconds: .*\(got "0"\)/],
    ['allowHttpTargets', 'yes', /allowHttpTargets: .*\(got "yes"\)/],
    ['allowedTargetCidrs', '10.0.0.0/33', /allowedTargetCidrs.*CIDR/],
    ['allowedTargetCidrs', 'localhost', /allowedTargetCidrs.*CIDR/],
    ['presignExpirySeconds', '901', /presignExpirySeconds/],
    ['maxLoopsPerAccount', '2.5', /maxLoopsPerAccount/],
    ['logLevel', 'verbose', /logLevel/],
    ['logLevel', 'TRACE', /logLevel/],
    ['tracing', 'sampled', /tracing/],
    ['throttleRateLimit', '0', /throttleRateLimit/],
    ['throttleRateLimit', '10001', /throttleRateLimit/],
    ['throttleBurstLimit', '5001', /throttleBurstLimit/],
    ['throttleBurstLimit', '1.5', /throttleBurstLimit/],
  ])('refuses %s=%j with a message naming it', (name, value, message) => {
    expect(() => read({ [name]: value })).toThrow(InvalidSettingsError);
    expect(() => read({ [name]: value })).toThrow(message);
  });

  it.each([
    [
      { retrySchedule: '5,x,300' },
      'retrySchedule: "x" is not a whole number of seconds; give delays from 1 to 43200, e.g. 5,60,300 (got "5,x,300")',
    ],
    [
      { retrySchedule: '5,43201' },
      'retrySchedule: "43201" is out of range; give delays from 1 to 43200, e.g. 5,60,300 (got "5,43201")',
    ],
    [
      { retrySchedule: [5, 'a'] },
      'retrySchedule: "a" is not a whole number of seconds; give delays from 1 to 43200, e.g. 5,60,300 (got [5,"a"])',
    ],
    [
      { retrySchedule: '' },
      'retrySchedule: must list 1 to 20 delays in seconds from 1 to 43200, e.g. 5,60,300 (got "")',
    ],
    [{ retrySchedule: 5 }, 'retrySchedule: must list 1 to 20 delays in seconds from 1 to 43200, e.g. 5,60,300 (got 5)'],
    [{ deliveryTimeoutSeconds: '0' }, 'deliveryTimeoutSeconds: must be a whole number from 1 to 30 (got "0")'],
    [{ deliveryTimeoutSeconds: 'ten' }, 'deliveryTimeoutSeconds: must be a whole number from 1 to 30 (got "ten")'],
    [{ maxLoopsPerAccount: '2.5' }, 'maxLoopsPerAccount: must be a whole number from 1 to 1000 (got "2.5")'],
    [{ logRetentionDays: true }, 'logRetentionDays: must be a whole number from 1 to 3650 (got true)'],
    [{ allowHttpTargets: 'yes' }, 'allowHttpTargets: must be true or false (got "yes")'],
    [{ sesEvents: 1 }, 'sesEvents: must be true or false (got 1)'],
    [{ logLevel: 'verbose' }, 'logLevel: must be one of DEBUG, INFO, WARN, ERROR (got "verbose")'],
    [{ tracing: 'sampled' }, 'tracing: must be one of active, off (got "sampled")'],
    [
      { allowedTargetCidrs: '10.0.0.0/8,localhost' },
      'allowedTargetCidrs: "localhost" must be a CIDR range such as 127.0.0.0/8 or ::1/128 (got "10.0.0.0/8,localhost")',
    ],
    [{ allowedTargetCidrs: 7 }, 'allowedTargetCidrs: must list CIDR ranges such as 127.0.0.0/8,::1/128 (got 7)'],
  ])('says what is wrong with %j as a person would', (context, message) => {
    expect(() => read(context)).toThrow(`Invalid deployment settings:\n  ${message}`);
    // Not the validator's words.
    expect(() => read(context)).not.toThrow(/Invalid input|expected|received|NaN/);
  });

  it('names every bad setting at once, with the value it got', () => {
    expect(() => read({ logRetentionDays: '0', presignExpirySeconds: '1000' })).toThrow(
      /logRetentionDays.*\(got "0"\)[\s\S]*presignExpirySeconds.*\(got "1000"\)/,
    );
  });

  it('refuses an unknown setting, naming it, the one it probably meant and the known ones', () => {
    expect(() => readAll({ retrySchedul: '1,2' })).toThrow(InvalidSettingsError);
    expect(() => readAll({ retrySchedul: '1,2' })).toThrow(
      /retrySchedul: unknown setting \(did you mean retrySchedule\?\)/,
    );
    expect(() => readAll({ retrySchedul: '1,2' })).toThrow(
      /Known settings: retrySchedule, deliveryTimeoutSeconds, allowHttpTargets, allowedTargetCidrs, logFlushSeconds, logRetentionDays, messageContextTtlDays, maxLoopsPerAccount, presignExpirySeconds, logLevel, tracing, throttleRateLimit, throttleBurstLimit, sesEvents, trackingLinkDays, trackingDomain, trackingCertificateArn, stackName\./,
    );
    expect(() => readAll({ colour: 'blue' })).toThrow(/colour: unknown setting\n/);
  });

  it('takes trackingDomain and trackingCertificateArn together or not at all', () => {
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    expect(read({ trackingDomain: 't.example.com', trackingCertificateArn: arn })).toMatchObject({
      trackingDomain: 't.example.com',
      trackingCertificateArn: arn,
    });
    expect(() => read({ trackingDomain: 't.example.com' })).toThrow(/trackingCertificateArn: missing/);
    expect(() => read({ trackingCertificateArn: arn })).toThrow(/trackingDomain: missing/);
    expect(() => read({ trackingDomain: 'https://t.example.com/', trackingCertificateArn: arn })).toThrow(
      /trackingDomain: must be a host name/,
    );
    expect(() => read({ trackingDomain: 't.example.com', trackingCertificateArn: 'cert' })).toThrow(
      /trackingCertificateArn: must be an ACM certificate ARN/,
    );
    expect(() => read({ trackingLinkDays: '0' })).toThrow(/trackingLinkDays/);
  });

  it('names unknown and invalid settings together', () => {
    expect(() => readAll({ deliveryTimeoutSecond: '5', presignExpirySeconds: '1000' })).toThrow(
      /deliveryTimeoutSecond: unknown setting \(did you mean deliveryTimeoutSeconds\?\)[\s\S]*presignExpirySeconds.*\(got "1000"\)/,
    );
  });

  it('lets through what the CDK and its tools put in context, and stackName', () => {
    const context = {
      retrySchedule: '1,2',
      stackName: 'FeedbackLoopsTest',
      '@aws-cdk/core:checkSecretUsage': true,
      '@aws-cdk-containers/ecs-service-extensions:enableDefaultLogDriver': false,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:bundling-stacks': ['**'],
      'aws-cdk:enableDiffNoFail': 'true',
      'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
      'acknowledged-issue-numbers': [32775],
      'cdk-toolkit:anything': 1,
    };
    expect(readAll(context).retrySchedule).toEqual([1, 2]);
  });
});

describe('logFlushWindowSeconds', () => {
  it('is 5 s inside the flush interval, within 1 to 300 s', () => {
    expect(logFlushWindowSeconds(60)).toBe(55);
    expect(logFlushWindowSeconds(10)).toBe(5);
    expect(logFlushWindowSeconds(900)).toBe(300);
    expect(logFlushWindowSeconds(3)).toBe(1);
  });
});
