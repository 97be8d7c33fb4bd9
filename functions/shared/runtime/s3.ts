import { S3Client } from '@aws-sdk/client-s3';

/**
 * The S3 client, in a module of its own so that only the functions that use S3 load its SDK.
 * Path-style addressing where an endpoint is set (the local twin's emulator): its presigned URLs
 * must name a host this machine resolves.
 */
export const s3 = new S3Client({
  forcePathStyle: !!process.env.AWS_ENDPOINT_URL,
  // Checksums only where S3 requires them (DeleteObjects): a streamed upload then goes as plain
  // parts rather than aws-chunked with a trailing checksum, which the emulator cannot verify.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
