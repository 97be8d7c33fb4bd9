/**
 * What the stack and the ses-source function share about SES as a source (docs/ses.md). Plain values,
 * free of imports, so that lib/ can import them too.
 */

/** The EventBridge detail types of SES event publishing: the stack's rule takes these. */
export const SES_DETAIL_TYPES = [
  'Email Sent',
  'Email Delivered',
  'Email Opened',
  'Email Clicked',
  'Email Bounced',
  'Email Complaint Received',
  'Email Rejected',
  'Email Rendering Failed',
  'Email Delivery Delayed',
  'Email Subscribed',
] as const;

/** The fixed message of the log line for an SES event that is not delivered: a metric filter counts it. */
export const SES_NOT_DELIVERED = 'SES event not delivered';
