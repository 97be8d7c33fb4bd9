/**
 * The names of the functions' environment variables: the stack (lib/) sets them through the
 * AppFunction bind helpers, the functions read them through runtime/config.ts. Free of imports, so
 * that lib/ can import it too; one name, one place.
 */
export const ENV = {
  // Resources (each set by a bind helper that also grants the access)
  TABLE_NAME: 'TABLE_NAME',
  LOGS_BUCKET: 'LOGS_BUCKET',
  EVENTS_QUEUE_URL: 'EVENTS_QUEUE_URL',
  DELIVERIES_QUEUE_URL: 'DELIVERIES_QUEUE_URL',
  LOG_QUEUE_URL: 'LOG_QUEUE_URL',
  DEAD_LETTER_QUEUE_URL: 'DEAD_LETTER_QUEUE_URL',
  ADMIN_SECRET_NAME: 'ADMIN_SECRET_NAME',
  API_URL: 'API_URL',
  // Settings (docs/api.md §9) and the stack's derived values
  ALLOW_HTTP_TARGETS: 'ALLOW_HTTP_TARGETS',
  ALLOWED_TARGET_CIDRS: 'ALLOWED_TARGET_CIDRS',
  DELIVERY_TIMEOUT_SECONDS: 'DELIVERY_TIMEOUT_SECONDS',
  RETRY_SCHEDULE: 'RETRY_SCHEDULE',
  MAX_LOOPS_PER_ACCOUNT: 'MAX_LOOPS_PER_ACCOUNT',
  TEST_TIMEOUT_SECONDS: 'TEST_TIMEOUT_SECONDS',
  MESSAGE_CONTEXT_TTL_DAYS: 'MESSAGE_CONTEXT_TTL_DAYS',
  LOG_RETENTION_DAYS: 'LOG_RETENTION_DAYS',
  PRESIGN_EXPIRY_SECONDS: 'PRESIGN_EXPIRY_SECONDS',
  FANOUT_MAX_RECEIVES: 'FANOUT_MAX_RECEIVES',
  DELIVER_MAX_RECEIVES: 'DELIVER_MAX_RECEIVES',
  TRACKING_LINK_DAYS: 'TRACKING_LINK_DAYS',
  /** The base URL of tracking links: https://<trackingDomain>, or the API's own URL. */
  TRACKING_BASE_URL: 'TRACKING_BASE_URL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
