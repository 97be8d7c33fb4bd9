import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '#shared/runtime/dynamo.ts';
import { TABLE, expiresAfterDays, itemKeys, isConditionalCheckFailure } from './table.ts';

/**
 * Idempotency by client id (docs/api.md §4), with one conditional write per event that has one: the first
 * events-queue message to claim (account, id) owns it for `days`. The owner may claim again — SQS
 * hands the same message back after a crash half-way, and it must then go on, or the event would be
 * lost — while any other message with that id is a duplicate. Two requests at the same moment are
 * two messages, and DynamoDB lets exactly one condition pass.
 *
 * Returns whether `messageId` owns the id.
 */
export async function claimEventId(
  accountId: string,
  id: string,
  messageId: string,
  days: number,
  now: Date,
): Promise<boolean> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: TABLE(),
        Item: { ...itemKeys.eventId(accountId, id), claimedBy: messageId, expiresAt: expiresAfterDays(now, days) },
        // An expired claim that TTL has not deleted yet no longer counts.
        ConditionExpression: 'attribute_not_exists(pk) OR claimedBy = :me OR expiresAt <= :now',
        ExpressionAttributeValues: { ':me': messageId, ':now': Math.floor(now.getTime() / 1000) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}
