import { ApiError } from '../../functions/shared/http/errors.ts';
import { type Template, prop, resourcesOfType } from '../template.ts';

/**
 * API Gateway's route throttling on this machine. An HTTP API stage's `DefaultRouteSettings` give
 * every route its own limits, and `RouteSettings` can override them for one route key; each is a
 * token bucket: it holds at most `burstLimit` requests and refills at `rateLimit` a second. A request
 * that finds it empty is answered 429 before the authoriser or the integration runs.
 */
export interface Limits {
  rateLimit: number;
  burstLimit: number;
}

export interface StageThrottling {
  defaults: Limits | undefined;
  routes: Map<string, Limits>;
}

/** Milliseconds from any fixed point, rising. */
export type Clock = () => number;

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limits: Limits,
    private readonly now: Clock = () => performance.now(),
  ) {
    this.tokens = limits.burstLimit;
    this.last = now();
  }

  /** Takes one request's token; without one, how many whole seconds until there is one. */
  take(): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.now();
    const { rateLimit, burstLimit } = this.limits;
    this.tokens = Math.min(burstLimit, this.tokens + ((now - this.last) / 1000) * rateLimit);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / rateLimit)) };
  }
}

/** The limits of the HTTP API's stage in the template (the twin serves one stage). */
export function readThrottling(template: Template): StageThrottling {
  const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
  if (stages.length > 1) throw new Error('The twin serves one HTTP API stage; the template has several');
  const stage = stages[0]?.[1];
  const limitsOf = (settings: Record<string, unknown> | undefined): Limits | undefined => {
    const rateLimit = settings?.ThrottlingRateLimit;
    const burstLimit = settings?.ThrottlingBurstLimit;
    if (typeof rateLimit !== 'number' || typeof burstLimit !== 'number') return undefined;
    return { rateLimit, burstLimit };
  };
  const routes = new Map<string, Limits>();
  const perRoute = (stage && prop<Record<string, Record<string, unknown>>>(stage, 'RouteSettings')) ?? {};
  for (const [routeKey, settings] of Object.entries(perRoute)) {
    const limits = limitsOf(settings);
    if (limits) routes.set(routeKey, limits);
  }
  return { defaults: limitsOf(stage && prop(stage, 'DefaultRouteSettings')), routes };
}

/** One bucket per route key, as the stage's settings say; a route without limits is not throttled. */
export class RouteThrottle {
  private readonly buckets = new Map<string, TokenBucket | null>();

  constructor(
    private readonly throttling: StageThrottling,
    private readonly now?: Clock,
  ) {}

  take(routeKey: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    let bucket = this.buckets.get(routeKey);
    if (bucket === undefined) {
      const limits = this.throttling.routes.get(routeKey) ?? this.throttling.defaults;
      bucket = limits ? new TokenBucket(limits, this.now) : null;
      this.buckets.set(routeKey, bucket);
    }
    return bucket ? bucket.take() : { ok: true };
  }
}

/** The 429 a throttled request gets, in the API's error shape (docs/api.md §2), with `Retry-After`. */
export function throttledAnswer(retryAfterSeconds: number): ApiError {
  return new ApiError(
    429,
    'too_many_requests',
    `Too many requests on this route; retry after ${retryAfterSeconds} s.`,
    { headers: { 'retry-after': String(retryAfterSeconds) } },
  );
}
