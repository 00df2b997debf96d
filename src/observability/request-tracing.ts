// A server span per HTTP request, named by its route template. A hook of our own rather than
// @fastify/otel: that plugin is an instrumentation of the global OpenTelemetry registry (one tracer
// provider per process, where tests build many apps) and makes a span for every hook and handler too;
// an operator wants one span per request, in the trace of the writes it caused.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestSpan, Tracing } from './tracing.ts';

/** Traces every request of the app (registered on the root instance, before the routes). */
export function registerRequestTracing(app: FastifyInstance, tracing: Tracing): void {
  const spans = new WeakMap<FastifyRequest, RequestSpan>();
  /** `statusCode` undefined: the client went away before the answer. */
  const end = (request: FastifyRequest, statusCode: number | undefined): void => {
    const started = spans.get(request);
    if (started === undefined) return;
    spans.delete(request);
    tracing.endRequest(started.span, statusCode);
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const started = tracing.startRequest(request.method, request.routeOptions.url, request.headers, String(request.id));
    spans.set(request, started);
    tracing.with(started.context, done);
  });
  // Reading the body leaves the request's async context (the socket's events run outside it): the
  // handler gets it back here, and with it every store call and submitted message.
  app.addHook('preHandler', (request, _reply, done) => {
    const started = spans.get(request);
    if (started === undefined) done();
    else tracing.with(started.context, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}
