import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  ApiMapping,
  CfnStage,
  DomainName,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  LogGroupLogDestination,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { type IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ApiProps {
  /** Resolves `Authorization: Bearer <key>` into the caller (admin, an account, or nobody). */
  readonly authorizer: IFunction;
  /** Answers what no route matches (404, or 405 with `Allow`) in the API's own error shape. */
  readonly fallback: IFunction;
  /** Every route's steady rate (requests per second) and burst; over them API Gateway answers 429. */
  readonly throttle: { rateLimit: number; burstLimit: number };
}

/**
 * The HTTP API: routes to functions, every route behind the Lambda authoriser unless marked public.
 *
 * The authoriser names no identity source and is not cached by API Gateway: with an identity source,
 * API Gateway answers a request without `Authorization` itself, with a body that is not the API's
 * error shape. The authoriser function caches key look-ups in memory instead (see its handler).
 */
export class Api extends Construct {
  readonly httpApi: HttpApi;
  private readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    this.authorizer = new HttpLambdaAuthorizer('ApiKeyAuthorizer', props.authorizer, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Feedback Loops API',
      defaultIntegration: new HttpLambdaIntegration('Fallback', props.fallback),
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = this.httpApi.defaultStage?.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: new LogGroupLogDestination(accessLogs).bind(this.httpApi.defaultStage!).destinationArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        routeKey: '$context.routeKey',
        status: '$context.status',
        responseLength: '$context.responseLength',
        integrationLatency: '$context.integrationLatency',
        authorizerError: '$context.authorizer.error',
      }),
    };
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.throttle.rateLimit,
      throttlingBurstLimit: props.throttle.burstLimit,
    };

    const fallbackRoute = this.httpApi.node.tryFindChild('DefaultRoute');
    if (fallbackRoute) {
      Validations.of(fallbackRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'The $default route only answers 404 or 405 for paths and methods the API does not have.',
      });
    }
  }

  /** Adds `METHOD /path` answered by `fn`; `public` routes skip the authoriser (`why`: if not by docs/api.md §3). */
  route(routeKey: string, fn: IFunction, options: { public?: boolean; why?: string } = {}): void {
    const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
    const route = new HttpRoute(this, routeKey.replace(/[^A-Za-z0-9]/g, ''), {
      httpApi: this.httpApi,
      routeKey: HttpRouteKey.with(path, HttpMethod[method]),
      integration: new HttpLambdaIntegration(`${routeKey}Integration`, fn),
      authorizer: options.public ? new HttpNoneAuthorizer() : this.authorizer,
    });
    if (options.public) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          options.why ??
          `${routeKey} is public by the API contract (docs/api.md §2): it reveals nothing about accounts.`,
      });
    }
  }

  /**
   * Serves the API on `domainName` too (an API Gateway custom domain with its ACM certificate, TLS
   * 1.2), so that tracking links in mail name the operator's domain. DNS: a CNAME to the returned
   * domain's `regionalDomainName`.
   */
  customDomain(domainName: string, certificateArn: string): DomainName {
    const domain = new DomainName(this, 'CustomDomain', {
      domainName,
      certificate: Certificate.fromCertificateArn(this, 'CustomDomainCertificate', certificateArn),
      securityPolicy: SecurityPolicy.TLS_1_2,
    });
    new ApiMapping(this, 'CustomDomainMapping', { api: this.httpApi, domainName: domain });
    return domain;
  }

  get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
