import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger: structured JSON on stdout, which Lambda sends to the function's log group. */
export const logger = new Logger({ serviceName: 'feedback-loops' });
