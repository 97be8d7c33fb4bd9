import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { isConditionalCheckFailure } from '#shared/store/table.ts';

describe('isConditionalCheckFailure', () => {
  it('tells a failed ConditionExpression, by its name', () => {
    expect(isConditionalCheckFailure(new ConditionalCheckFailedException({ message: 'lost', $metadata: {} }))).toBe(
      true,
    );
    expect(
      isConditionalCheckFailure(Object.assign(new Error('lost'), { name: 'ConditionalCheckFailedException' })),
    ).toBe(true);
  });

  it('is false for anything else', () => {
    expect(isConditionalCheckFailure(new Error('ProvisionedThroughputExceededException'))).toBe(false);
    expect(isConditionalCheckFailure(undefined)).toBe(false);
    expect(isConditionalCheckFailure('ConditionalCheckFailedException')).toBe(false);
  });
});
