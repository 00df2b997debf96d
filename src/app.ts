import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { failureOf, FHIR_JSON, registerErrorHandling } from './api/errors.ts';
import { registerMediaTypes } from './api/media-types.ts';
import { healthRoutes } from './api/health.ts';
import { actRoutes } from './api/acts.ts';
import { consoleRoutes } from './api/console.ts';
import { pageAssetRoutes } from './api/static-page.ts';
import { deliveryRoutes } from './api/deliveries.ts';
import { indicatorRoutes } from './api/indicators.ts';
import { Projection } from './indicators/index.ts';
import { insRoutes } from './api/ins.ts';
import { jobRoutes } from './api/jobs.ts';
import { metricsRoutes, metricsServer, registerRequestMetrics } from './api/metrics.ts';
import { offerRoutes } from './api/offers.ts';
import { openApiCompletion } from './api/openapi.ts';
import { validateRoutes } from './api/validate.ts';
import { batchWriteHandlers, StoredActReads, writeHandlers } from './writes/index.ts';
import type { ImportProgress } from './writes/index.ts';
import type { Config } from './config.ts';
import { createOutbox, DeliveryService, OutboxPurger } from './delivery/index.ts';
import type { Outbox } from './delivery/index.ts';
import { createStore } from './fhir/index.ts';
import type { FhirStore } from './fhir/index.ts';
import { observedStore } from './fhir/observed-store.ts';
import { createValidator, ValidationPool } from './fhir/validation/index.ts';
import type { Validator } from './fhir/validation/index.ts';
import { logDestination, resolvedLogFormat } from './observability/logging.ts';
import { ServiceMetrics } from './observability/metrics.ts';
import { registerRequestTracing } from './observability/request-tracing.ts';
import { tracerProviderOf, Tracing } from './observability/tracing.ts';
import { CONTRACT_FORMATS } from './model/strict-validator.ts';
import { createAuthenticator, httpsOptionsOf, registerJsonParsers, registerSecurity, requestIdOf } from './security/index.ts';

export interface AppDependencies {
  /** The FHIR store; by default the one the configuration names (HAPI or embedded). */
  readonly store?: FhirStore;
  /** Where logs go (tests capture them); by default standard output. */
  readonly logStream?: DestinationStream;
  /** The validation gate; by default built at start from the shipped profiles (a second or so). */
  readonly validator?: Validator;
  /** The service's clock (ROR creation dates, provenance); tests pass a fixed one. */
  readonly clock?: () => Date;
  /** The outbox; by default the SQLite file DELIVERY_SQLITE_PATH names. Closed with the app either way. */
  readonly outbox?: Outbox;
  /** Traces (tests pass one with an in-memory exporter); by default the one the OTEL_* variables describe, if any. */
  readonly tracing?: Tracing;
}

/**
 * Log paths that may carry secrets or personal health data. Request and response bodies are never
 * logged at all; these paths cover what could reach a log line through headers or error objects.
 */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  '*.ins',
  '*.patient',
  '*.traits',
  '*.birthDate',
  '*.birthFamilyName',
  '*.birthGivenNames',
];

/**
 * The request as it is logged: the path without its query string (GET /v1/acts?patientIns=… would put
 * an INS into the logs), never a header or a body.
 */
function requestForLog(request: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }): Record<string, unknown> {
  const query = request.url.indexOf('?');
  return {
    method: request.method,
    url: query < 0 ? request.url : `${request.url.slice(0, query)}?[query redacted]`,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** The Fastify instance with its plugins and routes; nothing lives outside it. */
export async function buildApp(config: Config, deps: AppDependencies = {}): Promise<FastifyInstance> {
  // Files first: a missing key or certificate stops the start with a ConfigError naming its variable.
  const authenticator = createAuthenticator(config);
  const https = httpsOptionsOf(config);
  const metrics = new ServiceMetrics();
  // Off by default: then no span is made anywhere, and nothing watches for one.
  const tracing = deps.tracing ?? (config.tracing === undefined ? undefined : new Tracing(tracerProviderOf(config.tracing)));
  // Every call to the FHIR store, from any room, goes through the observers (metrics, traces).
  const baseStore = deps.store ?? createStore(config);
  const store = observedStore(baseStore, tracing === undefined ? [metrics] : [metrics, tracing]);
  const loggerOptions = {
    level: config.logLevel,
    redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
    serializers: { req: requestForLog },
  };
  const options: FastifyServerOptions = {
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true, formats: { ...CONTRACT_FORMATS } } },
    return503OnClosing: true,
  };
  // Pretty for a person at a terminal, JSON lines for everything else; redacted the same either way.
  const logStream = logDestination(resolvedLogFormat(config.logFormat, deps.logStream === undefined && process.stdout.isTTY === true), deps.logStream);
  // With TLS the instance serves HTTPS; its API is the same, hence the one type for both.
  const app = Fastify({
    ...options,
    ...(https === undefined ? {} : { https }),
    logger: logStream === undefined ? loggerOptions : { ...loggerOptions, stream: logStream },
  }) as unknown as FastifyInstance;
  if (authenticator === undefined) {
    app.log.warn('*** AUTHENTICATION DISABLED (AUTH_MODE=none, development mode): every route is open to anyone. Set AUTH_JWKS_URL/AUTH_JWKS_FILE or AUTH_API_KEYS_FILE before any real use. ***');
  } else {
    app.log.info({ methods: authenticator.methods }, 'authentication required on /v1');
  }
  if (https !== undefined) app.log.info({ clientCertificates: config.tlsRequireClientCert ? 'required' : 'not asked' }, 'HTTPS');

  const validator = deps.validator ?? (await createValidator());
  if (deps.validator === undefined) app.log.info({ startupMs: Math.round(validator.startupMs) }, 'validation gate loaded (FHIR R4, FR Core, our profiles)');
  const clock = deps.clock ?? (() => new Date());

  const outbox = deps.outbox ?? createOutbox(config);
  // The indicators projection lives in the outbox's database, updated in its "delivered" transaction.
  const projection = new Projection(outbox.database);
  outbox.addDeliveredHook(projection.hook);
  const deliveries = new DeliveryService(
    outbox,
    {
      concurrency: config.deliveryConcurrency,
      maxAttempts: config.deliveryMaxAttempts,
      backoffMs: config.deliveryBackoffMs,
      maxBackoffMs: config.deliveryMaxBackoffMs,
      breakerThreshold: config.deliveryBreakerThreshold,
      breakerCooldownMs: config.deliveryBreakerCooldownMs,
      batchSize: config.deliveryBatchSize,
      batchFlights: config.deliveryBatchFlights,
    },
    failureOf,
    app.log,
  );

  // What each message kind does to the store: the worker's handlers, registered before it starts.
  const importsRunning = new Map<string, ImportProgress>();
  // An act read at acceptance serves its write too, where that is safe (StoredActReads): never on an
  // outbox that other instances deliver from.
  const actReads = new StoredActReads(store, { early: !outbox.shared });
  const writesOptions = { store, validator, allowTestIdentities: config.allowTestIdentities, reads: actReads, running: importsRunning, clock, log: app.log, watcher: metrics };
  for (const [kind, handler] of Object.entries(writeHandlers(writesOptions))) deliveries.handle(kind, handler);
  for (const [kind, handler] of Object.entries(batchWriteHandlers(writesOptions))) deliveries.handleBatch(kind, handler);
  // Metrics outermost: an attempt's time includes its span.
  deliveries.observe(metrics);
  if (tracing !== undefined) deliveries.observe(tracing);
  metrics.watch({ outbox, breakerState: () => deliveries.breakerState, inFlight: () => deliveries.inFlight });

  app.decorate('store', store);
  app.decorate('deliveries', deliveries);
  app.decorate('metricsServer', config.metricsPort === undefined ? undefined : metricsServer(metrics));
  const purger = config.deliveryRetentionHours === 0 ? undefined : new OutboxPurger(outbox, { retentionMs: config.deliveryRetentionHours * 3_600_000, onPurged: (count) => metrics.purged(count) }, app.log);
  // Pending work resumes once every route has registered its delivery handler.
  app.addHook('onReady', async () => {
    deliveries.start();
    purger?.start();
  });
  // On close: waiting requests answer at once (202 for what is pending), the worker stops taking work
  // and lets what is in flight finish for half the grace period; anything still running is aborted and
  // stays pending in the outbox for the next start.
  app.addHook('preClose', async () => {
    await purger?.stop();
    await deliveries.stop(Math.floor(config.shutdownTimeoutMs / 2));
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', String(request.id));
  });
  app.addHook('onClose', async () => {
    await outbox.close();
    if (deps.store === undefined) await baseStore.close();
    await app.metricsServer?.close();
    if (deps.tracing === undefined) await tracing?.shutdown();
  });
  // A span per request, opened before authentication and the routes run.
  if (tracing !== undefined) registerRequestTracing(app, tracing);
  // Measures every request (by route template and status): before the routes, so that it sees them all.
  await registerRequestMetrics(app, metrics);

  // FHIR clients send application/fhir+json: parse it as the JSON it is; both after a depth check.
  registerJsonParsers(app, [FHIR_JSON]);

  registerErrorHandling(app, { bodyLimit: config.bodyLimitBytes });
  registerMediaTypes(app);
  await registerSecurity(app, { authenticator, rateLimitPerMinute: config.rateLimitPerMinute, anonymousLimit: config.rateLimitAnonymous, anonymousWindowMs: config.rateLimitAnonymousWindowS * 1000, deliveries, store, clock, auditFlushMs: config.auditFlushMs });

  const completeDocument = openApiCompletion(app);
  await app.register(swagger, {
    transformObject: (document) => completeDocument('openapiObject' in document ? document.openapiObject : {}) as never,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'telesante-fhir',
        version: '0.1.0',
        description:
          'French telehealth on FHIR R4: ROR-aligned telehealth offers, telemedicine acts with their legal traceability, INS checks. ' +
          'Every error is a FHIR OperationOutcome (application/fhir+json).',
      },
      tags: [
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'ins', description: 'Identifiant National de Santé (NIR/NIA) checks' },
        { name: 'offers', description: 'Telehealth offers published as ROR-aligned FHIR resources' },
        { name: 'acts', description: 'Telemedicine acts from DPI/DUI systems, with their legal traceability' },
        { name: 'conformance', description: 'Validation against FHIR R4, FR Core and our profiles' },
        { name: 'indicators', description: 'Indicators of the telehealth roadmap, in JSON, CSV and FHIR MeasureReports' },
        { name: 'deliveries', description: 'Accepted writes on their way to the FHIR server: pending, dead letters, replay' },
      ],
    },
  });
  // swagger-ui's page sets its own policy (hashes of its inline parts), less the HTTPS upgrade (see security/plugin.ts).
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, '') });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { store, deliveries });
  await app.register(metricsRoutes, { metrics, serveHere: config.metricsPort === undefined });
  await app.register(insRoutes, { allowTestIdentities: config.allowTestIdentities, validator, clock, bodyLimit: config.bodyLimitBytes });
  const validationPool = new ValidationPool({ workers: config.validateWorkers, queue: config.validateQueue, timeoutMs: config.validateTimeoutMs });
  app.addHook('onClose', () => validationPool.close());
  await app.register(validateRoutes, { pool: validationPool, maxBytes: config.validateMaxBytes, timeoutMs: config.validateTimeoutMs });
  const waitMs = config.deliveryWaitMs;
  await app.register(offerRoutes, { store, validator, deliveries, waitMs, clock, bodyLimit: config.bodyLimitBytes });
  await app.register(actRoutes, { store, validator, deliveries, reads: actReads, waitMs, clock, allowTestIdentities: config.allowTestIdentities });
  await app.register(deliveryRoutes, { deliveries });
  await app.register(pageAssetRoutes);
  await app.register(consoleRoutes);
  await app.register(jobRoutes, { deliveries, running: importsRunning, clock, bodyLimit: 4 * config.bodyLimitBytes });
  await app.register(indicatorRoutes, { store, projection, clock });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    store: FhirStore;
    deliveries: DeliveryService;
    /** The server of GET /metrics when METRICS_PORT gives it a port of its own (main.ts listens on it). */
    metricsServer: FastifyInstance | undefined;
  }
}
