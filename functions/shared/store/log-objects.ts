import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { LogFormat, LogPrefix } from '#shared/logs/log-record.ts';
import { requireEnv } from '#shared/runtime/config.ts';
import { s3 } from '#shared/runtime/s3.ts';
import { ENV } from '#shared/runtime/env-names.ts';

/**
 * The log files' objects. Everything of an account is under `logs/<accountId>/`, and a presigned
 * URL names exactly one object, so a download link reaches one account's one file:
 *
 *   logs/<accountId>/<date>/<prefix>/chunks/<yyyymmddThhmmssmmmZ>-<uuid>.jsonl   what the writer flushed
 *   logs/<accountId>/<date>/<prefix>.<date>.<json|csv|xml>       a closed day, compacted once
 *   snapshots/<accountId>/<date>/v<version>/<prefix>.<date>.<format>  today's file as downloaded at that
 *                                                  version of its index entry (expires in a day)
 */

/** Every function that uses the bucket has LOGS_BUCKET set by the stack (AppFunction.useBucket). */
const BUCKET = () => requireEnv(ENV.LOGS_BUCKET);

export const objectKeys = {
  chunks: (accountId: string, date: string, prefix: LogPrefix) => `logs/${accountId}/${date}/${prefix}/chunks/`,
  compacted: (accountId: string, date: string, prefix: LogPrefix, format: LogFormat) =>
    `logs/${accountId}/${date}/${prefix}.${date}.${extension(format)}`,
  snapshot: (accountId: string, date: string, prefix: LogPrefix, version: number, format: LogFormat) =>
    `snapshots/${accountId}/${date}/v${version}/${prefix}.${date}.${extension(format)}`,
};

function extension(format: LogFormat): string {
  return format === 'json' ? 'jsonl' : format;
}

/** Writes one flushed chunk; its name sorts by time, so the records read back in flush order. */
export async function putChunk(
  accountId: string,
  date: string,
  prefix: LogPrefix,
  body: string,
  now: Date,
): Promise<void> {
  // Compact ISO time (no ':'), so keys need no escaping in URLs and signatures.
  const time = now.toISOString().replace(/[-:.]/g, '');
  const key = `${objectKeys.chunks(accountId, date, prefix)}${time}-${randomUUID()}.jsonl`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET(), Key: key, Body: body, ContentType: 'application/x-ndjson' }));
}

/** The keys of a file's chunks, oldest first. */
export async function listChunks(accountId: string, date: string, prefix: LogPrefix): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET(),
        Prefix: objectKeys.chunks(accountId, date, prefix),
        ContinuationToken: token,
      }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** An object's body as a stream; undefined when there is no such object. */
export async function readObject(key: string): Promise<Readable | undefined> {
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET(), Key: key }));
    return Body as Readable;
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Streams `body` into one object (multipart as it grows), never holding it whole. */
export async function writeObject(
  key: string,
  body: Readable,
  headers: { contentType: string; contentDisposition?: string },
): Promise<void> {
  await new Upload({
    client: s3,
    params: {
      Bucket: BUCKET(),
      Key: key,
      Body: body,
      ContentType: headers.contentType,
      ...(headers.contentDisposition ? { ContentDisposition: headers.contentDisposition } : {}),
    },
  }).done();
}

export async function deleteObjects(keys: string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET(),
        Delete: { Objects: keys.slice(start, start + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}

/** A URL that downloads this one object for `seconds`. */
export async function presignedUrl(key: string, seconds: number): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET(), Key: key }), { expiresIn: seconds });
}
