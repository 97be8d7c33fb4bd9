import { type ApiEvent, type ApiResult, requireAccount } from '#shared/http/api-handler.ts';
import { LOG_FORMATS, type LogFormat, isLogDate, logFileName, parseLogFileName } from '#shared/logs/log-record.ts';
import * as z from 'zod';
import { clock } from '#shared/runtime/clock.ts';
import { requireIntEnv } from '#shared/runtime/config.ts';
import { badRequest, notFound } from '#shared/http/errors.ts';
import { type LogFileEntry, getLogFile, listLogFiles } from '#shared/store/log-index.ts';
import { writeDayFile, convertDayFile } from '#shared/store/log-files.ts';
import { objectKeys, presignedUrl } from '#shared/store/log-objects.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const PRESIGN_EXPIRY_SECONDS = requireIntEnv(ENV.PRESIGN_EXPIRY_SECONDS);

export const logFileSchema = z.object({
  name: z.string().describe('`<type>.<YYYY-MM-DD>`, e.g. clicks.2026-11-21'),
  type: z.string().describe('sent, deliveries, opens, clicks, bounces, failures, unsubscribes, abuses or loop-errors'),
  date: z.string().describe('The UTC day the events were accepted'),
  records: z.number().int(),
  size: z.number().int().describe('Bytes of the JSON Lines'),
  complete: z.boolean().describe('The day is closed and compacted: each event once'),
});
export const logListSchema = z
  .union([
    z.object({ dates: z.array(z.string()).describe('UTC dates that have log files, newest first') }),
    z.object({ files: z.array(logFileSchema).describe('The files of ?date=') }),
  ])
  .describe("Without ?date=, the dates; with it, that day's files");
export const downloadSchema = z
  .object({ url: z.string().describe('A presigned URL of the file'), expiresAt: z.string() })
  .describe('With redirect=false; otherwise 302 to the URL');
export const LOGFILE_QUERY = {
  list: [{ name: 'date', schema: { type: 'string', format: 'date' } }],
  download: [
    { name: 'format', schema: { type: 'string', enum: [...LOG_FORMATS], default: 'json' } },
    { name: 'redirect', schema: { type: 'boolean', default: true } },
  ],
};

/** `GET /v1/logfiles`: the dates that have files, newest first; with `?date=`, that day's files. */
export async function getLogFiles(event: ApiEvent): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const query = onlyParams(event, ['date']);
  const now = clock.now();
  if (query.date === undefined) {
    const dates = [...new Set((await listLogFiles(accountId, now)).map((file) => file.date))];
    return { status: 200, body: { dates } };
  }
  if (!isLogDate(query.date)) throw invalid('date', 'must be a date as YYYY-MM-DD');
  const files = await listLogFiles(accountId, now, query.date);
  return {
    status: 200,
    body: { files: files.sort((a, b) => a.prefix.localeCompare(b.prefix)).map(toFileView) },
  };
}

/**
 * `GET /v1/logfiles/{name}?format=json|csv|xml[&redirect=false]`: a presigned URL of that one
 * object, as a 302 or (redirect=false) in the body. A closed day's file was compacted into one
 * object per format; today's is built now from what was flushed so far (each record once).
 */
export async function downloadLogFile(event: ApiEvent): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const query = onlyParams(event, ['format', 'redirect']);
  const format = (query.format ?? 'json') as LogFormat;
  if (!LOG_FORMATS.includes(format)) throw invalid('format', `must be one of ${LOG_FORMATS.join(', ')}`);
  if (query.redirect !== undefined && query.redirect !== 'true' && query.redirect !== 'false') {
    throw invalid('redirect', 'must be true or false');
  }
  const name = event.pathParameters?.name ?? '';
  const parsed = parseLogFileName(name);
  const now = clock.now();
  const file = parsed && (await getLogFile(accountId, parsed.date, parsed.prefix, now));
  if (!file) throw notFound(`There is no log file ${name}.`);

  const key = file.complete
    ? objectKeys.compacted(accountId, file.date, file.prefix, format)
    : await snapshot(file, format);
  const url = await presignedUrl(key, PRESIGN_EXPIRY_SECONDS);
  const expiresAt = new Date(now.getTime() + PRESIGN_EXPIRY_SECONDS * 1000).toISOString();
  if (query.redirect === 'false') return { status: 200, body: { url, expiresAt } };
  return { status: 302, headers: { location: url, 'cache-control': 'no-store' } };
}

/** Today's file (or a closed day's not compacted yet) as it stands now, in `format`. */
async function snapshot(file: LogFileEntry, format: LogFormat): Promise<string> {
  const json = objectKeys.snapshot(file.accountId, file.date, file.prefix, 'json');
  await writeDayFile(file, json);
  if (format === 'json') return json;
  const converted = objectKeys.snapshot(file.accountId, file.date, file.prefix, format);
  await convertDayFile(file, json, converted, format);
  return converted;
}

function toFileView(file: LogFileEntry) {
  return {
    name: logFileName(file.prefix, file.date),
    type: file.prefix,
    date: file.date,
    records: file.records,
    size: file.size,
    complete: file.complete,
  };
}

function onlyParams(event: ApiEvent, names: string[]): Record<string, string | undefined> {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).filter((name) => !names.includes(name));
  if (unknown.length) {
    throw badRequest(
      'invalid_request',
      `Unknown query parameter ${unknown.join(', ')}; this takes ${names.join(', ')}.`,
    );
  }
  return query;
}

function invalid(path: string, message: string) {
  return badRequest('invalid_request', `${path} ${message}.`, [{ path, message }]);
}
