// GET /metrics in Prometheus's text format: on the service's port behind the scope metrics:read, or,
// with METRICS_PORT, on a port of its own without authentication (for a Prometheus inside the network
// that holds no token). Requests are measured by fastify-metrics (route template, method, status).
import Fastify from 'fastify';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import promClient from 'prom-client';
import type { ServiceMetrics } from '../observability/metrics.ts';

// A CommonJS module: its plugin is its `default` export.
const fastifyMetrics = fastifyMetricsModule.default;

/** Request latency buckets in seconds: an INS check takes milliseconds, a large act a second or more. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricsRoutesOptions {
  readonly metrics: ServiceMetrics;
  /** Serve /metrics here (behind metrics:read); false when it has a port of its own. */
  readonly serveHere: boolean;
}

/** Measures every request by route and status (registered on the root instance, before the routes). */
export async function registerRequestMetrics(app: FastifyInstance, metrics: ServiceMetrics): Promise<void> {
  const registers = [metrics.registry];
  await app.register(fastifyMetrics, {
    promClient,
    endpoint: null,
    // Process metrics come from ServiceMetrics, in the same registry.
    defaultMetrics: { enabled: false },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      overrides: {
        histogram: { name: 'http_request_duration_seconds', help: 'HTTP requests by method, route (its template) and status', buckets: REQUEST_BUCKETS, registers },
        // Built by the plugin even when off: kept out of every registry.
        summary: { registers: [] },
      },
    },
  });
}

async function scrape(metrics: ServiceMetrics): Promise<{ type: string; text: string }> {
  return { type: metrics.registry.contentType, text: await metrics.registry.metrics() };
}

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { metrics, serveHere }) => {
  if (!serveHere) return;
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      config: { access: 'metrics:read', disableMetrics: true },
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const { type, text } = await scrape(metrics);
      return reply.type(type).send(text);
    },
  );
};

/** The metrics on a port of their own (METRICS_PORT): a bare server with /metrics only. */
export function metricsServer(metrics: ServiceMetrics): FastifyInstance {
  const server = Fastify({ logger: false });
  server.get('/metrics', async (_request, reply) => {
    const { type, text } = await scrape(metrics);
    return reply.type(type).send(text);
  });
  return server as unknown as FastifyInstance;
}
