import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { LOG_FORMATS, logDate } from '#shared/logs/log-record.ts';
import { clock } from '#shared/runtime/clock.ts';
import { logger } from '#shared/runtime/logger.ts';
import { type LogFileEntry, markCompacted, openFilesBefore } from '#shared/store/log-index.ts';
import { convertDayFile, writeDayFile } from '#shared/store/log-files.ts';
import { deleteObjects, objectKeys } from '#shared/store/log-objects.ts';

/** Files compacted side by side. */
const CONCURRENCY = 4;

/**
 * Every hour (docs/api.md §8): each log file of a closed day that has chunks not yet compacted becomes
 * one object per format, each record once, and `complete`. A chunk that arrives later (an event
 * accepted just before midnight, flushed after) opens the file again, and the next run merges it
 * with the compacted file. Stops taking new files a minute before the function's time is up.
 */
export const handler = middy<ScheduledEvent, void>()
  .use(injectLambdaContext(logger))
  .handler(async (_event, context) => {
    const today = logDate(clock.now());
    const queue = await openFilesBefore(today);
    const total = queue.length;
    const done = { compacted: 0, records: 0, duplicates: 0 };
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        if (context.getRemainingTimeInMillis() < 60_000) return;
        const counts = await compactFile(file);
        done.compacted++;
        done.records += counts.records;
        done.duplicates += counts.duplicates;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    logger.info('Log compaction done', { open: total, ...done, left: queue.length });
  });

async function compactFile(file: LogFileEntry): Promise<{ records: number; duplicates: number }> {
  const key = (format: (typeof LOG_FORMATS)[number]) =>
    objectKeys.compacted(file.accountId, file.date, file.prefix, format);
  const { chunks, counts } = await writeDayFile(file, key('json'));
  await convertDayFile(file, key('json'), key('csv'), 'csv');
  await convertDayFile(file, key('json'), key('xml'), 'xml');
  // A chunk that came while this ran keeps the file open; its records are not in these objects.
  const complete = await markCompacted(file, counts.records, counts.bytes);
  // The chunks read are in the compacted file now, whether or not another came meanwhile.
  await deleteObjects(chunks);
  logger.debug('Log file compacted', { ...file, records: counts.records, duplicates: counts.duplicates, complete });
  return counts;
}
