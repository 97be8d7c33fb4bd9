import { readdirSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import {
  functionEnvironment,
  functionEnvironments,
  functionFolder,
  withOverrides,
} from '../support/function-environment.ts';

const template = {
  Resources: {
    StorageTableB43FDCE7: { Type: 'AWS::DynamoDB::Table' },
    EventsQueue4C7AF1FB: { Type: 'AWS::SQS::Queue' },
    StorageLogsBucket16160246: { Type: 'AWS::S3::Bucket' },
    ApiHttpApi4C294DC0: { Type: 'AWS::ApiGatewayV2::Api' },
    DeadLettersFunction1E128675: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: {
            FANOUT_MAX_RECEIVES: '5',
            TABLE_NAME: { Ref: 'StorageTableB43FDCE7' },
            QUEUE_ARN: { 'Fn::GetAtt': ['EventsQueue4C7AF1FB', 'Arn'] },
            EVENTS_QUEUE_URL: { Ref: 'EventsQueue4C7AF1FB' },
            LOGS_BUCKET: { Ref: 'StorageLogsBucket16160246' },
            API_URL: {
              'Fn::Join': [
                '',
                [
                  'https://',
                  { Ref: 'ApiHttpApi4C294DC0' },
                  '.execute-api.',
                  { Ref: 'AWS::Region' },
                  '.',
                  { Ref: 'AWS::URLSuffix' },
                ],
              ],
            },
          },
        },
      },
    },
    DashboardFunction117EF421: { Type: 'AWS::Lambda::Function', Properties: {} },
  },
};

describe('the environment a handler test takes from the template', () => {
  it.each([
    ['DeadLettersFunction1E128675', 'dead-letters'],
    ['ApiFunctionCE271BD4', 'api'],
    ['LogCompactorFunctionE337CB8E', 'log-compactor'],
    ['StorageTableB43FDCE7', undefined],
  ])('names %s after its folder: %s', (id, folder) => {
    expect(functionFolder(id)).toBe(folder);
  });

  it('replaces every reference by a fixed, plausible value', () => {
    expect(functionEnvironments(template)).toEqual({
      'dead-letters': {
        FANOUT_MAX_RECEIVES: '5',
        TABLE_NAME: 'FeedbackLoops-StorageTableB43FDCE7',
        QUEUE_ARN: 'arn:aws:sqs:eu-west-1:123456789012:FeedbackLoops-EventsQueue4C7AF1FB',
        EVENTS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/FeedbackLoops-EventsQueue4C7AF1FB',
        LOGS_BUCKET: 'feedbackloops-storagelogsbucket16160246',
        API_URL: 'https://4c294dc0.execute-api.eu-west-1.amazonaws.com',
      },
      dashboard: {},
    });
  });

  it('says which reference it has no stand-in for', () => {
    const odd = {
      Resources: {
        ThingA1B2C3D4: { Type: 'AWS::Kinesis::Stream' },
        IngestFunction4B2F2EB2: {
          Type: 'AWS::Lambda::Function',
          Properties: { Environment: { Variables: { STREAM: { Ref: 'ThingA1B2C3D4' } } } },
        },
      },
    };
    expect(() => functionEnvironments(odd)).toThrow(/ingest STREAM: no stand-in for a Ref to ThingA1B2C3D4/);
  });

  it('refuses an override of a variable the function does not have, such as ROUTE_KEYS', () => {
    expect(() => withOverrides('api', { TABLE_NAME: 't' }, { ROUTE_KEYS: '[]' })).toThrow(
      /function api has no environment variable ROUTE_KEYS/,
    );
    expect(withOverrides('api', { TABLE_NAME: 't' }, { TABLE_NAME: 'u', POWERTOOLS_LOG_LEVEL: undefined })).toEqual({
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_LOG_LEVEL: undefined,
      TABLE_NAME: 'u',
    });
  });

  it('reads the synthesized stack: every function has its folder, deliver its queues', () => {
    const folders = readdirSync(new URL('../../functions/', import.meta.url)).filter((name) => name !== 'shared');
    expect(Object.keys(inject('functionEnvironments')).sort()).toEqual(folders.sort());
    const deliver = functionEnvironment('deliver');
    expect(deliver.DELIVERIES_QUEUE_URL).toMatch(/^https:\/\/sqs\.eu-west-1\.amazonaws\.com\/123456789012\//);
    expect(process.env.TABLE_NAME).toBe(deliver.TABLE_NAME);
    expect(() => functionEnvironment('no-such-function')).toThrow(/no function no-such-function/);
  });
});
