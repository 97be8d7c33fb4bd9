import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../local/gateway/gateway.ts';
import type { LocalFunction } from '../../local/lambda/runtime.ts';
import { readRoutes } from '../../local/gateway/routes.ts';
import type { Template } from '../../local/template.ts';
import { TokenBucket, readThrottling } from '../../local/gateway/throttle.ts';

/** A clock the test moves by hand, in milliseconds. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('the token bucket', () => {
  it('lets a burst through, then one request per 1/rate seconds, and says when to retry', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rateLimit: 2, burstLimit: 3 }, clock.now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(bucket.take()).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.advance(499);
    expect(bucket.take().ok).toBe(false);
    clock.advance(1);
    expect(bucket.take()).toEqual({ ok: true });
    expect(bucket.take().ok).toBe(false);
  });

  it('never holds more than the burst, however long it stayed idle', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rateLimit: 10, burstLimit: 2 }, clock.now);
    clock.advance(60_000);
    expect([bucket.take(), bucket.take(), bucket.take()].map((taken) => taken.ok)).toEqual([true, true, false]);
  });

  it('asks a client to wait the whole seconds a slow rate needs', () => {
    const bucket = new TokenBucket({ rateLimit: 0.25, burstLimit: 1 }, manualClock().now);
    bucket.take();
    expect(bucket.take()).toEqual({ ok: false, retryAfterSeconds: 4 });
  });
});

/** The shape of what the CDK writes for an HTTP API: a function, its integration, two routes and the stage. */
function template(stage: Record<string, unknown>): Template {
  const target = { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] };
  return {
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function' },
      Integration: {
        Type: 'AWS::ApiGatewayV2::Integration',
        Properties: { PayloadFormatVersion: '2.0', IntegrationUri: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
      },
      Health: { Type: 'AWS::ApiGatewayV2::Route', Properties: { RouteKey: 'GET /v1/health', Target: target } },
      Events: { Type: 'AWS::ApiGatewayV2::Route', Properties: { RouteKey: 'POST /v1/events', Target: target } },
      Stage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { StageName: '$default', ...stage } },
    },
  };
}

describe('the stage throttling in the template', () => {
  it('reads the default route settings and the per-route overrides', () => {
    const throttling = readThrottling(
      template({
        DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
        RouteSettings: { 'POST /v1/events': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 } },
      }),
    );
    expect(throttling.defaults).toEqual({ rateLimit: 500, burstLimit: 1000 });
    expect(throttling.routes).toEqual(new Map([['POST /v1/events', { rateLimit: 5, burstLimit: 10 }]]));
  });

  it('has no limits when the stage sets none', () => {
    expect(readThrottling(template({}))).toEqual({ defaults: undefined, routes: new Map() });
  });
});

describe('the twin gateway over the limit', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function gateway(stage: Record<string, unknown>) {
    const clock = manualClock();
    const invoked: string[] = [];
    const fn = {
      spec: { name: 'fn' },
      invoke: async (event: { routeKey: string }) => {
        invoked.push(event.routeKey);
        return { ok: true, result: { statusCode: 200, body: '{"status":"ok"}' } };
      },
    } as unknown as LocalFunction;
    const routes = readRoutes(template(stage), new Map([['Fn', fn]]), clock.now);
    server = await startGateway({ routes, port: 0, accountId: '000000000000', log: () => {} });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = (path: string) => fetch(`${base}${path}`);
    return { clock, invoked, get, post: (path: string) => fetch(`${base}${path}`, { method: 'POST' }) };
  }

  it('answers 429 in the error shape with Retry-After, without running the function', async () => {
    const { invoked, get } = await gateway({
      DefaultRouteSettings: { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 2 },
    });
    expect([(await get('/v1/health')).status, (await get('/v1/health')).status]).toEqual([200, 200]);
    const refused = await get('/v1/health');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await refused.json()).toEqual({
      error: { code: 'too_many_requests', message: expect.stringMatching(/retry after 1 s/) },
    });
    expect(invoked).toEqual(['GET /v1/health', 'GET /v1/health']);
  });

  it('gives each route its own bucket, and takes requests again once the rate refilled it', async () => {
    const { clock, get, post } = await gateway({
      DefaultRouteSettings: { ThrottlingRateLimit: 2, ThrottlingBurstLimit: 1 },
    });
    expect((await get('/v1/health')).status).toBe(200);
    expect((await get('/v1/health')).status).toBe(429);
    expect((await post('/v1/events')).status).toBe(200);
    clock.advance(500);
    expect((await get('/v1/health')).status).toBe(200);
  });

  it('holds a route to its own override rather than the default', async () => {
    const { get, post } = await gateway({
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 100 },
      RouteSettings: { 'POST /v1/events': { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 1 } },
    });
    expect([(await post('/v1/events')).status, (await post('/v1/events')).status]).toEqual([200, 429]);
    expect([(await get('/v1/health')).status, (await get('/v1/health')).status]).toEqual([200, 200]);
  });
});
