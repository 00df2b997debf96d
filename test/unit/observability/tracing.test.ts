// Traces as an operator sees them in a collector: one POST /v1/acts is one trace, from the request to
// the delivery (which may run later, from the outbox) to the FHIR transaction, and HAPI receives that
// trace's traceparent. A stand-in HTTP server plays HAPI (test/support/hapi-stand-in.ts).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import t from 'tap';
import type { Test } from 'tap';
import { HapiStore } from '../../../src/fhir/index.ts';
import { loadConfig } from '../../../src/config.ts';
import { Tracing } from '../../../src/observability/tracing.ts';
import type { Delivery } from '../../../src/delivery/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { hapiStandIn } from '../../support/hapi-stand-in.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;

function inMemoryTracing(): { tracing: Tracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { tracing: new Tracing(provider), exporter };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

/** Every span's attribute values, for the test that nothing personal is in them. */
function attributeText(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(spans.map((span) => [span.name, span.attributes, span.events.map((event) => event.attributes)]));
}

t.test('POST /v1/acts is one trace: request → delivery → FHIR transaction, and HAPI gets its traceparent', async (t) => {
  const hapi = await hapiStandIn();
  t.teardown(() => hapi.close());
  const { tracing, exporter } = inMemoryTracing();
  const store = new HapiStore({ baseUrl: hapi.baseUrl, timeoutMs: 5_000, retries: 0 });
  const { app } = await testApp({}, store, { tracing });
  t.teardown(() => app.close());

  const response = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
  t.equal(response.statusCode, 201, response.body.slice(0, 300));
  const spans = exporter.getFinishedSpans();

  const request = spans.find((span) => span.kind === SpanKind.SERVER);
  t.equal(request?.name, 'POST /v1/acts', 'the request span is named by its route template');
  t.equal(request?.attributes['http.response.status_code'], 201);
  const traceId = request?.spanContext().traceId;

  const delivery = spans.find((span) => span.name === 'deliver act');
  t.ok(delivery, 'a delivery span');
  t.equal(delivery?.spanContext().traceId, traceId, 'the delivery is in the trace of the request that accepted the act');
  t.equal(delivery?.parentSpanContext?.spanId, request?.spanContext().spanId, 'its parent is the request span');
  t.equal(delivery?.attributes['telesante.delivery.outcome'], 'delivered');
  t.equal(delivery?.attributes['telesante.delivery.key'], `act|${act.source}|${act.actId}`);

  const transaction = spans.find((span) => span.name === 'FHIR transaction');
  t.equal(transaction?.kind, SpanKind.CLIENT);
  t.equal(transaction?.spanContext().traceId, traceId, 'the FHIR transaction is in that trace too');
  t.equal(transaction?.parentSpanContext?.spanId, delivery?.spanContext().spanId, 'under the delivery');

  const posted = hapi.received.find((seen) => seen.method === 'POST' && seen.path === '/');
  const sent = TRACEPARENT.exec(String(posted?.headers.traceparent));
  t.ok(sent, `HAPI received a W3C traceparent with the transaction: ${String(posted?.headers.traceparent)}`);
  t.equal(sent?.[1], traceId, 'with the trace id of the request');
  t.equal(sent?.[2], transaction?.spanContext().spanId, 'and the client span as its parent');
  for (const seen of hapi.received) t.match(String(seen.headers.traceparent), TRACEPARENT, `${seen.method} ${seen.path} carries a traceparent`);

  const text = attributeText(spans);
  t.ok(text.includes(act.actId), 'the check below reads the attributes');
  t.notOk(text.includes(String(act.patient.ins)), 'no INS in any span');
  t.notOk(text.includes(act.patient.traits.birthDate), 'no birth date in any span');
  t.notOk(text.includes(act.patient.traits.birthFamilyName), 'no name in any span');
});

t.test('a batch: one span in the trace of its first message, linked to the others, an event per message, named by its worst outcome', async (t) => {
  const { tracing, exporter } = inMemoryTracing();
  const message = (n: number, traceId: string | undefined): Delivery =>
    ({ id: `d${n}`, kind: 'act', key: `act|src|A-${n}`, attempts: 0, traceParent: traceId === undefined ? undefined : `00-${traceId}-00f067aa0ba902b7-01` }) as unknown as Delivery;
  const first = '4bf92f3577b34da6a3ce929d0e0e4736';
  const second = '5bf92f3577b34da6a3ce929d0e0e4737';
  const flight = [message(1, first), message(2, second), message(3, undefined)];
  const outcomes = await tracing.attempt(flight, async () =>
    new Map([
      ['d1', { outcome: 'delivered' as const }],
      ['d2', { outcome: 'dead' as const, status: 422 }],
      ['d3', { outcome: 'delivered' as const }],
    ]),
  );
  t.equal(outcomes.get('d2')?.outcome, 'dead', 'the outcomes are answered on');
  const [span] = exporter.getFinishedSpans();
  t.equal(span?.name, 'deliver act');
  t.equal(span?.spanContext().traceId, first, 'in the trace of the first message');
  t.same(span?.links.map((link) => link.context.traceId), [second], 'linked to the trace of the other message that has one');
  t.equal(span?.attributes['messaging.batch.message_count'], 3);
  t.equal(span?.attributes['telesante.delivery.outcome'], 'dead', 'the worst outcome names the batch');
  t.equal(span?.status.code, SpanStatusCode.ERROR);
  t.same(
    span?.events.map((event) => [event.attributes?.['telesante.delivery.key'], event.attributes?.['telesante.delivery.outcome'], event.attributes?.['http.response.status_code']]),
    [['act|src|A-1', 'delivered', undefined], ['act|src|A-2', 'dead', 422], ['act|src|A-3', 'delivered', undefined]],
    'one event per message',
  );
});

t.test('a caller that sends a traceparent gets its trace continued', async (t) => {
  const { tracing, exporter } = inMemoryTracing();
  const { app } = await testApp({}, undefined, { tracing });
  t.teardown(() => app.close());
  const caller = '0af7651916cd43dd8448eb211c80319c';
  const response = await app.inject({ method: 'GET', url: '/v1/acts/nothing/here', headers: { traceparent: `00-${caller}-b7ad6b7169203331-01` } });
  t.equal(response.statusCode, 404);
  const request = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
  t.equal(request?.spanContext().traceId, caller);
  t.equal(request?.parentSpanContext?.spanId, 'b7ad6b7169203331');
  t.equal(request?.name, 'GET /v1/acts/:source/:actId');
});

t.test('tracing off: HAPI receives no traceparent, the outbox keeps no trace context', async (t) => {
  const hapi = await hapiStandIn();
  t.teardown(() => hapi.close());
  const store = new HapiStore({ baseUrl: hapi.baseUrl, timeoutMs: 5_000, retries: 0 });
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
  t.equal(response.statusCode, 201, response.body.slice(0, 300));
  t.ok(hapi.received.length > 0, 'HAPI was called');
  for (const seen of hapi.received) t.equal(seen.headers.traceparent, undefined, `${seen.method} ${seen.path}: no traceparent`);
  const { deliveries } = await app.deliveries.list('delivered', 10);
  t.equal(deliveries[0]?.traceParent, undefined);
});

/** An OTLP/HTTP collector that keeps what it is posted. */
async function collector(t: Test): Promise<{ url: string; posts: { url: string; type: string | undefined; headers: Record<string, unknown>; body: Buffer }[] }> {
  const posts: { url: string; type: string | undefined; headers: Record<string, unknown>; body: Buffer }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      posts.push({ url: request.url ?? '', type: request.headers['content-type'], headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': request.headers['content-type'] ?? 'application/json' }).end(request.headers['content-type']?.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts };
}

t.test('OTEL_EXPORTER_OTLP_ENDPOINT alone: the spans reach the collector over OTLP/HTTP in protobuf, the specification\'s default', async (t) => {
  const { url, posts } = await collector(t);
  const { app } = await testApp({ OTEL_EXPORTER_OTLP_ENDPOINT: url });
  t.equal((await app.inject({ method: 'GET', url: '/v1/acts/nothing/here' })).statusCode, 404);
  await app.close();
  const post = posts.find((seen) => seen.url === '/v1/traces');
  t.ok(post, `the collector received /v1/traces (got ${posts.map((seen) => seen.url).join(', ') || 'nothing'})`);
  t.equal(post?.type, 'application/x-protobuf');
  // Protobuf keeps strings as UTF-8 bytes: the service name and the span's name are in the body as they are.
  t.ok(post?.body.includes('telesante-fhir'), 'the service name');
  t.ok(post?.body.includes('GET /v1/acts/:source/:actId'), "the request's span");
});

t.test('OTEL_EXPORTER_OTLP_PROTOCOL=http/json: the spans reach the collector in JSON, by the close at the latest', async (t) => {
  const { url, posts } = await collector(t);
  const { app } = await testApp({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k%C3%A9' });
  t.equal((await app.inject({ method: 'GET', url: '/v1/acts/nothing/here' })).statusCode, 404);
  await app.close();
  const post = posts.find((seen) => seen.url === '/v1/traces');
  t.ok(post, `the collector received /v1/traces (got ${posts.map((seen) => seen.url).join(', ') || 'nothing'})`);
  t.match(post?.type, /application\/json/);
  t.equal(post?.headers['x-collector-key'], 'k\u00e9', 'with the configured header');
  const body = post?.body.toString('utf8');
  t.match(body, /"service\.name"/);
  t.match(body, /telesante-fhir/);
  t.match(body, /GET \/v1\/acts\/:source\/:actId/);
});

t.test('the OTEL_* variables: off by default, on with an exporter or an endpoint, refused when wrong', async (t) => {
  t.equal(loadConfig({}).tracing, undefined, 'off by default');
  t.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing, undefined, 'none');
  t.equal(loadConfig({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'console' }).tracing, undefined, 'OTEL_SDK_DISABLED wins');
  const endpoint = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'telesante-paca', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=ars' }).tracing;
  t.same(endpoint?.exporters, ['otlp'], 'an endpoint alone means otlp');
  t.equal(endpoint?.otlpUrl, 'http://collector:4318/v1/traces', "the signal's path added to the base");
  t.equal(endpoint?.serviceName, 'telesante-paca');
  t.same(endpoint?.otlpHeaders, { authorization: 'Bearer abc', 'x-tenant': 'ars' });
  t.equal(endpoint?.sampler, 'parentbased_always_on');
  const traces = loadConfig({ OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example.fr/otlp/traces', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource,deployment.environment.name=test', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).tracing;
  t.same(traces?.exporters, ['otlp', 'console']);
  t.equal(traces?.otlpUrl, 'https://collector.example.fr/otlp/traces', 'the traces endpoint used as it is');
  t.equal(traces?.serviceName, 'from-resource');
  t.same(traces?.resourceAttributes, { 'deployment.environment.name': 'test' });
  t.equal(traces?.samplerRatio, 0.25);
  t.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER/);
  t.equal(endpoint?.otlpProtocol, 'http/protobuf', "protobuf by default, as the specification's");
  t.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).tracing?.otlpProtocol, 'http/json', 'the traces variable first');
  t.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_PROTOCOL.*http\/protobuf or http\/json.*"grpc"/);
  t.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT/);
  t.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: 'console', OTEL_TRACES_SAMPLER_ARG: '2' }), /OTEL_TRACES_SAMPLER_ARG/);
  t.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: 'console', OTEL_EXPORTER_OTLP_HEADERS: 'secret' }), /OTEL_EXPORTER_OTLP_HEADERS: expected key=value/);
});
