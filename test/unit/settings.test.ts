import { describe, expect, it } from 'vitest';
import { InvalidSettingsError, readSettings } from '../../lib/settings.ts';

const read = (context: Record<string, unknown>) => readSettings((key) => context[key]);

describe('deployment settings', () => {
  it('has the defaults of SPEC §9', () => {
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
    ['retrySchedule', '5,abc', /retrySchedule/],
    ['retrySchedule', '5,43201', /retrySchedule/],
    ['retrySchedule', '', /retrySchedule: must list 1 to 20 delays/],
    ['deliveryTimeoutSeconds', '0', /deliveryTimeoutSeconds/],
    ['allowHttpTargets', 'yes', /allowHttpTargets/],
    ['allowedTargetCidrs', '10.0.0.0/33', /allowedTargetCidrs.*CIDR/],
    ['allowedTargetCidrs', 'localhost', /allowedTargetCidrs.*CIDR/],
    ['presignExpirySeconds', '901', /presignExpirySeconds/],
    ['maxLoopsPerAccount', '2.5', /maxLoopsPerAccount/],
  ])('refuses %s=%j with a message naming it', (name, value, message) => {
    expect(() => read({ [name]: value })).toThrow(InvalidSettingsError);
    expect(() => read({ [name]: value })).toThrow(message);
  });

  it('names every bad setting at once, with the value it got', () => {
    expect(() => read({ logRetentionDays: '0', presignExpirySeconds: '1000' })).toThrow(
      /logRetentionDays.*\(got "0"\)[\s\S]*presignExpirySeconds.*\(got "1000"\)/,
    );
  });
});
