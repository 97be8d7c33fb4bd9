import { type ApiEvent, type ApiResult, requireAccount } from '#shared/http/api-handler.ts';
import type { RequestOf } from '#shared/http/routes.ts';
import { type LogFormat, logFileName, parseLogFileName } from '#shared/logs/log-record.ts';
import { clock } from '#shared/runtime/clock.ts';
import { requireIntEnv } from '#shared/runtime/config.ts';
import { notFound } from '#shared/http/errors.ts';
import { type LogFileEntry, getLogFile, listLogFiles, recordSnapshot } from '#shared/store/log-index.ts';
import { writeDayFile, convertDayFile } from '#shared/store/log-files.ts';
import { objectKeys, presignedUrl } from '#shared/store/log-objects.ts';
import { ENV } from '#shared/runtime/env-names.ts';

const PRESIGN_EXPIRY_SECONDS = requireIntEnv(ENV.PRESIGN_EXPIRY_SECONDS);

/** `GET /v1/logfiles`: the dates that have files, newest first; with `?date=`, that day's files. */
export async function getLogFiles(event: ApiEvent, request: RequestOf<'GET /v1/logfiles'>): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const query = request.query();
  const now = clock.now();
  if (query.date === undefined) {
    const dates = [...new Set((await listLogFiles(accountId, now)).map((file) => file.date))];
    return { status: 200, body: { dates } };
  }
  const files = await listLogFiles(accountId, now, query.date);
  return {
    status: 200,
    body: { files: files.sort((a, b) => a.prefix.localeCompare(b.prefix)).map(toFileView) },
  };
}

/**
 * `GET /v1/logfiles/{name}?format=json|csv|xml[&redirect=false]`: a presigned URL of that one
 * object, as a 302 or (redirect=false) in the body. A closed day's file was compacted into one
 * object per format; today's is built from what was flushed so far (each record once), once per
 * version of the file and format: a download of a version already built reuses its snapshot.
 */
export async function downloadLogFile(
  event: ApiEvent,
  request: RequestOf<'GET /v1/logfiles/{name}'>,
): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const { format, redirect } = request.query();
  const name = event.pathParameters?.name ?? '';
  const parsed = parseLogFileName(name);
  const now = clock.now();
  const file = parsed && (await getLogFile(accountId, parsed.date, parsed.prefix, now));
  if (!file) throw notFound(`There is no log file ${name}.`);

  const key = file.complete
    ? objectKeys.compacted(accountId, file.date, file.prefix, format)
    : await snapshot(file, format, now);
  const url = await presignedUrl(key, PRESIGN_EXPIRY_SECONDS);
  const expiresAt = new Date(now.getTime() + PRESIGN_EXPIRY_SECONDS * 1000).toISOString();
  if (!redirect) return { status: 200, body: { url, expiresAt } };
  return { status: 302, headers: { location: url, 'cache-control': 'no-store' } };
}

/**
 * A snapshot is reused while it has this long (ms) left before the bucket's one-day lifecycle
 * deletes it: the URL's own expiry, and an hour to spare.
 */
const REUSE_MS = 24 * 3_600_000 - PRESIGN_EXPIRY_SECONDS * 1000 - 3_600_000;

/**
 * Today's file (or a closed day's not compacted yet) as it stands at its current version, in
 * `format`: the snapshot built of that version if there is one still fresh, else built now (the
 * JSON Lines first, which the other formats are converted from) and recorded.
 */
async function snapshot(file: LogFileEntry, format: LogFormat, now: Date): Promise<string> {
  const keyOf = (of: LogFormat) => objectKeys.snapshot(file.accountId, file.date, file.prefix, file.version, of);
  const current = (of: LogFormat) => {
    const built = file.snapshots[of];
    return built?.version === file.version && now.getTime() - Date.parse(built.builtAt) < REUSE_MS;
  };
  const built = { version: file.version, builtAt: now.toISOString() };
  if (!current('json')) {
    await writeDayFile(file, keyOf('json'));
    await recordSnapshot(file, 'json', built);
  }
  if (format === 'json' || current(format)) return keyOf(format);
  await convertDayFile(file, keyOf('json'), keyOf(format), format);
  await recordSnapshot(file, format, built);
  return keyOf(format);
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
