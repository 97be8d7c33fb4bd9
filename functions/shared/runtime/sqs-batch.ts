import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from './logger.ts';

/**
 * Handles an SQS batch record by record, side by side, and reports the records that failed so that
 * only they return to the queue (the event source mapping has ReportBatchItemFailures on).
 * `process` throws to fail a record; a record that cannot be parsed at all is logged and dropped,
 * since no retry can mend it.
 */
export function sqsBatchHandler(process: (record: SQSRecord) => Promise<void>) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      const outcomes = await Promise.allSettled(event.Records.map((record) => process(record)));
      const batchItemFailures = outcomes.flatMap((outcome, index) => {
        if (outcome.status === 'fulfilled') return [];
        const record = event.Records[index]!;
        logger.warn('Record failed; it returns to the queue', {
          messageId: record.messageId,
          error: outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason),
        });
        return [{ itemIdentifier: record.messageId }];
      });
      return { batchItemFailures };
    });
}

export function parseBody<T>(record: SQSRecord): T | undefined {
  try {
    return JSON.parse(record.body) as T;
  } catch {
    logger.error('Dropping a message that is not JSON', { messageId: record.messageId });
    return undefined;
  }
}
