import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { FHIR_JSON, registerErrorHandling } from './api/errors.ts';
import { healthRoutes } from './api/health.ts';
import { actRoutes } from './api/acts.ts';
import { deliveryRoutes } from './api/deliveries.ts';
import { failureOf } from './api/errors.ts';
import { indicatorRoutes } from './api/indicators.ts';
import { insRoutes } from './api/ins.ts';
import { jobRoutes } from './api/jobs.ts';
import { offerRoutes } from './api/offers.ts';
import { validateRoutes } from './api/validate.ts';
import type { Config } from './config.ts';
import { createOutbox, DeliveryService } from './delivery/index.ts';
import type { Outbox } from './delivery/index.ts';
import { createStore } from './fhir/index.ts';
import type { FhirStore } from './fhir/index.ts';
import { createValidator } from './fhir/validation/index.ts';
import type { Validator } from './fhir/validation/index.ts';
import { createAuthenticator, httpsOptionsOf, registerSecurity } from './security/index.ts';

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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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

function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

/** The Fastify instance with its plugins and routes; nothing lives outside it. */
export async function buildApp(config: Config, deps: AppDependencies = {}): Promise<FastifyInstance> {
  // Files first: a missing key or certificate stops the start with a ConfigError naming its variable.
  const authenticator = createAuthenticator(config);
  const https = httpsOptionsOf(config);
  const store = deps.store ?? createStore(config);
  const loggerOptions = {
    level: config.logLevel,
    redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
    serializers: { req: requestForLog },
  };
  const options: FastifyServerOptions = {
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true } },
    return503OnClosing: true,
  };
  // With TLS the instance serves HTTPS; its API is the same, hence the one type for both.
  const app = Fastify({
    ...options,
    ...(https === undefined ? {} : { https }),
    logger: deps.logStream ? { ...loggerOptions, stream: deps.logStream } : loggerOptions,
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
  const deliveries = new DeliveryService(
    outbox,
    {
      concurrency: config.deliveryConcurrency,
      maxAttempts: config.deliveryMaxAttempts,
      backoffMs: config.deliveryBackoffMs,
      maxBackoffMs: config.deliveryMaxBackoffMs,
      breakerThreshold: config.deliveryBreakerThreshold,
      breakerCooldownMs: config.deliveryBreakerCooldownMs,
    },
    failureOf,
    app.log,
  );

  app.decorate('store', store);
  app.decorate('deliveries', deliveries);
  // Pending work resumes once every route has registered its delivery handler.
  app.addHook('onReady', async () => {
    deliveries.start();
  });
  // On close: waiting requests answer at once (202 for what is pending), the worker stops taking work
  // and lets what is in flight finish for half the grace period; anything still running is aborted and
  // stays pending in the outbox for the next start.
  app.addHook('preClose', async () => {
    await deliveries.stop(Math.floor(config.shutdownTimeoutMs / 2));
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', String(request.id));
  });
  app.addHook('onClose', async () => {
    await outbox.close();
    if (deps.store === undefined) await store.close();
  });

  // FHIR clients send application/fhir+json: parse it as the JSON it is.
  app.addContentTypeParser(FHIR_JSON, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  registerErrorHandling(app, { bodyLimit: config.bodyLimitBytes });
  await registerSecurity(app, { authenticator, rateLimitPerMinute: config.rateLimitPerMinute, deliveries, store, clock });

  await app.register(swagger, {
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
  await app.register(insRoutes, { allowTestIdentities: config.allowTestIdentities, validator, clock, bodyLimit: config.bodyLimitBytes });
  await app.register(validateRoutes, { validator });
  const waitMs = config.deliveryWaitMs;
  await app.register(offerRoutes, { store, validator, deliveries, waitMs, clock, bodyLimit: config.bodyLimitBytes });
  await app.register(actRoutes, { store, validator, deliveries, waitMs, clock, allowTestIdentities: config.allowTestIdentities });
  await app.register(deliveryRoutes, { deliveries });
  await app.register(jobRoutes, { store, validator, deliveries, clock, bodyLimit: 4 * config.bodyLimitBytes });
  await app.register(indicatorRoutes, { store, clock });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    store: FhirStore;
    deliveries: DeliveryService;
  }
}
