// OpenTelemetry traces of one service instance: a span per HTTP request (request-tracing.ts), a span per
// delivery attempt in the trace of the request that accepted its message, a client span per call to the
// FHIR store whose traceparent goes to HAPI. Off unless the OTEL_* variables turn it on (config.ts):
// then nothing here is even built, and the rooms it watches only test for an absent observer.
//
// No process-wide state: the tracer provider, the propagator and the active context (an
// AsyncLocalStorage of this instance) belong to the app, so that tests build traced and untraced apps
// side by side. Nothing personal goes into a span: route templates, kinds, business keys (an act's
// source and id, an offer's id), statuses; never an INS, a name, a birth date, a body or a query string.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { TracingConfig } from '../config.ts';
import type { AttemptOutcomes, Delivery, DeliveryObserver, DeliveryOutcome } from '../delivery/index.ts';
import { FhirStoreError } from '../fhir/index.ts';
import type { StoreObserver, StoreOperation } from '../fhir/observed-store.ts';

/** The instrumentation scope of every span this service makes. */
const SCOPE = 'telesante-fhir';

/** The worst outcome of a batch names it: one dead letter matters more than fifteen delivered acts. */
const SEVERITY: readonly DeliveryOutcome[] = ['delivered', 'interrupted', 'retry', 'dead'];

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The OTLP/HTTP exporter of the configured protocol: protobuf (the specification's default) or JSON. */
function otlpExporterOf(config: TracingConfig): SpanExporter {
  const options = { url: config.otlpUrl, headers: { ...config.otlpHeaders }, timeoutMillis: config.otlpTimeoutMs };
  return config.otlpProtocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
}

/** The tracer provider the configuration describes: its exporters, service name, resource and sampler. */
export function tracerProviderOf(config: TracingConfig): TracerProvider {
  const spanProcessors: SpanProcessor[] = config.exporters.map((exporter) =>
    exporter === 'console'
      ? new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })
      : // Spans are sent in batches, off the request path; a collector that is down costs dropped spans, not latency.
        new BatchSpanProcessor({ exporter: otlpExporterOf(config) }),
  );
  return new TracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }),
    sampler: samplerOf(config),
    spanProcessors,
  });
}

/** One request's span and the context its handler runs in. */
export interface RequestSpan {
  readonly span: Span;
  readonly context: Context;
}

export class Tracing implements StoreObserver, DeliveryObserver {
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #active = new AsyncLocalStorage<Context>();
  readonly #propagator = new W3CTraceContextPropagator();

  constructor(provider: TracerProvider) {
    this.#provider = provider;
    this.#tracer = provider.getTracer(SCOPE);
  }

  /** Runs `work` with `context` active: the spans started inside it are its children. */
  with<T>(context: Context, work: () => T): T {
    return this.#active.run(context, work);
  }

  #current(): Context {
    return this.#active.getStore() ?? ROOT_CONTEXT;
  }

  /** The traceparent of a context, or undefined when it holds no span. */
  #traceParentOf(context: Context): string | undefined {
    const carrier: Record<string, string> = {};
    this.#propagator.inject(context, carrier, defaultTextMapSetter);
    return carrier.traceparent;
  }

  #contextOf(traceParent: string | undefined): Context {
    if (traceParent === undefined) return ROOT_CONTEXT;
    return this.#propagator.extract(ROOT_CONTEXT, { traceparent: traceParent }, defaultTextMapGetter);
  }

  /**
   * A server span for an HTTP request, named by its route template (`POST /v1/acts`), continuing the
   * caller's trace when it sent a traceparent.
   */
  startRequest(method: string, route: string | undefined, headers: Record<string, string | string[] | undefined>, requestId: string): RequestSpan {
    const parent = this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const attributes: Attributes = { 'http.request.method': method, 'telesante.request_id': requestId };
    if (route !== undefined) attributes['http.route'] = route;
    const span = this.#tracer.startSpan(route === undefined ? method : `${method} ${route}`, { kind: SpanKind.SERVER, attributes }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }

  /**
   * Ends a request's span with its status (undefined: the client went away first); a server error (5xx)
   * marks the span as failed, a client error does not.
   */
  endRequest(span: Span, statusCode: number | undefined): void {
    if (statusCode === undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client went away' });
    else {
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  carried(): string | undefined {
    return this.#traceParentOf(this.#current());
  }

  /**
   * A span per attempt at a flight, in the trace of the request that accepted its (first) message; a
   * batch links the traces of its other messages, and records how each message ended as an event.
   */
  async attempt(flight: readonly Delivery[], run: () => Promise<AttemptOutcomes>): Promise<AttemptOutcomes> {
    const first = flight[0] as Delivery;
    const parent = this.#contextOf(first.traceParent);
    const links: Link[] = flight
      .slice(1)
      .map((delivery) => trace.getSpanContext(this.#contextOf(delivery.traceParent)))
      .filter((context) => context !== undefined)
      .map((context) => ({ context }));
    const attributes: Attributes = { 'telesante.delivery.kind': first.kind, 'messaging.batch.message_count': flight.length };
    if (flight.length === 1) Object.assign(attributes, { 'telesante.delivery.id': first.id, 'telesante.delivery.key': first.key, 'telesante.delivery.attempt': first.attempts + 1 });
    const span = this.#tracer.startSpan(`deliver ${first.kind}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
    try {
      const outcomes = await this.with(trace.setSpan(parent, span), run);
      let worst: DeliveryOutcome = 'delivered';
      for (const delivery of flight) {
        const ended = outcomes.get(delivery.id);
        if (ended === undefined) continue;
        if (SEVERITY.indexOf(ended.outcome) > SEVERITY.indexOf(worst)) worst = ended.outcome;
        if (flight.length > 1) {
          span.addEvent('message', { 'telesante.delivery.id': delivery.id, 'telesante.delivery.key': delivery.key, 'telesante.delivery.outcome': ended.outcome, ...(ended.status === undefined ? {} : { 'http.response.status_code': ended.status }) });
        } else if (ended.status !== undefined) {
          span.setAttribute('http.response.status_code', ended.status);
        }
      }
      span.setAttribute('telesante.delivery.outcome', worst);
      if (worst === 'dead' || worst === 'retry') span.setStatus({ code: SpanStatusCode.ERROR, message: worst === 'dead' ? 'dead letter' : 'to retry' });
      return outcomes;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the outcome could not be recorded' });
      throw error;
    } finally {
      span.end();
    }
  }

  /** A client span per call to the FHIR store; the call carries its traceparent to the server. */
  async around<T>(operation: StoreOperation, resourceType: string | undefined, call: (added?: { traceParent?: string }) => Promise<T>): Promise<T> {
    const parent = this.#current();
    const attributes: Attributes = { 'telesante.fhir.operation': operation };
    if (resourceType !== undefined) attributes['telesante.fhir.resource_type'] = resourceType;
    const name = operation === 'transaction' || resourceType === undefined ? `FHIR ${operation}` : `FHIR ${operation} ${resourceType}`;
    const span = this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    const context = trace.setSpan(parent, span);
    const traceParent = this.#traceParentOf(context);
    try {
      return await this.with(context, () => call(traceParent === undefined ? {} : { traceParent }));
    } catch (error) {
      // The kind and status only: a FHIR server's diagnostics may quote what was sent (an INS, a name).
      const kind = error instanceof FhirStoreError ? error.kind : 'error';
      span.setAttribute('error.type', kind);
      if (error instanceof FhirStoreError && error.status !== undefined) span.setAttribute('http.response.status_code', error.status);
      span.setStatus({ code: SpanStatusCode.ERROR, message: kind });
      throw error;
    } finally {
      span.end();
    }
  }

  /** Sends what is still buffered and stops the exporters (at the app's close). */
  shutdown(): Promise<void> {
    return this.#provider.shutdown();
  }
}
