/**
 * The one price table of the cost meter: AWS list prices in us-east-1, on-demand, first tier, free
 * tiers left out (a million events should be priced as if it were not the first million). Each price
 * names the page it comes from. Taken 2026-11-29 as the pages (and secondary copies of them) stated
 * them; prices change, so check the pages before quoting a figure outside this project.
 */
export const PRICES_TAKEN = '2026-11-29';

export const PRICES = {
  lambda: {
    /** Arm (Graviton), first 7.5 billion GB-s a month. */
    armGbSecond: 0.0000133334,
    perRequest: 0.2 / 1e6,
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  sqs: {
    /** Standard queue; every 64 KB chunk of a request's payload is billed as one request. */
    perRequest: 0.4 / 1e6,
    chunkBytes: 64 * 1024,
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  dynamodb: {
    /** On-demand, after the price cut of 1 November 2024. */
    perWriteUnit: 0.625 / 1e6,
    perReadUnit: 0.125 / 1e6,
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  s3: {
    /** S3 Standard: PUT, COPY, POST, LIST requests. */
    perPut: 0.005 / 1000,
    /** GET, SELECT and all other requests (DELETE is free). */
    perGet: 0.0004 / 1000,
    source: 'https://aws.amazon.com/s3/pricing/',
  },
  apiGateway: {
    /** HTTP API, first 300 million requests a month; metered in 512 KB increments. */
    perRequest: 1.0 / 1e6,
    incrementBytes: 512 * 1024,
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  cloudWatchLogs: {
    /** Standard log class ingestion (Lambda's vended logs start at the same $0.50/GB tier). */
    perGb: 0.5,
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  xray: {
    /** Traces recorded. */
    perTrace: 5.0 / 1e6,
    source: 'https://aws.amazon.com/xray/pricing/',
  },
  secretsManager: {
    perCall: 0.05 / 10_000,
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
  },
} as const;
