// Typed configuration from the environment, validated once at start. The defaults run the service on
// the embedded FHIR store, so that `npm start` works on a fresh clone with nothing else running.
import { availableParallelism } from 'node:os';

/** `auto`: pretty lines on a terminal, JSON lines otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Where spans go (OTEL_TRACES_EXPORTER): an OTLP collector over HTTP, or standard output. */
export type TraceExporter = 'otlp' | 'console';

/** How OTLP goes over HTTP (OTEL_EXPORTER_OTLP_PROTOCOL): protobuf, the specification's default, or JSON. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';
const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json'];

/** OTEL_TRACES_SAMPLER, as the OpenTelemetry specification names its samplers. */
export type TraceSampler = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

/** OpenTelemetry traces, from the standard OTEL_* variables; the service traces nothing without them. */
export interface TracingConfig {
  readonly exporters: readonly TraceExporter[];
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES (deployment.environment, service.version…), service.name aside. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** The OTLP traces URL (…/v1/traces). */
  readonly otlpUrl: string;
  readonly otlpProtocol: OtlpProtocol;
  /** Sent with every export (a collector's credentials): never logged. */
  readonly otlpHeaders: Readonly<Record<string, string>>;
  readonly otlpTimeoutMs: number;
  readonly sampler: TraceSampler;
  /** The ratio of the traceidratio samplers (OTEL_TRACES_SAMPLER_ARG), 0 to 1. */
  readonly samplerRatio: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Base URL of the FHIR server (HAPI); undefined means the embedded, in-process store. */
  readonly fhirBaseUrl: string | undefined;
  /** Time allowed for one HTTP call to the FHIR server, in milliseconds. */
  readonly fhirTimeoutMs: number;
  /** How many times a failed read (or a request that never reached the server) is tried again. */
  readonly fhirRetries: number;
  /** Keep-alive connections kept open to the FHIR server. */
  readonly fhirConnections: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** Time given to in-flight requests on SIGTERM/SIGINT before the process exits anyway. */
  readonly shutdownTimeoutMs: number;
  /** Accept INS of test and demonstration identities (OIDs …1.4.10 and …1.4.11). */
  readonly allowTestIdentities: boolean;
  /** The outbox's SQLite file (WAL, synchronous writes), when no PostgreSQL outbox is configured. */
  readonly deliverySqlitePath: string;
  /** PostgreSQL shared by several service instances for the outbox; undefined means the SQLite file. */
  readonly deliveryDatabaseUrl: string | undefined;
  /** How long a write waits for its delivery before answering 202 with /v1/deliveries/{id}. */
  readonly deliveryWaitMs: number;
  /** Messages delivered at once (of different business keys). */
  readonly deliveryConcurrency: number;
  /** Acts delivered in one FHIR transaction at most (group commit). */
  readonly deliveryBatchSize: number;
  /** Audit records gather this long (on a grid of this step) before they are written together; 0: at once. */
  readonly auditFlushMs: number;
  /** Batches of one kind in flight at once. */
  readonly deliveryBatchFlights: number;
  /** Attempts before a message failing transiently goes to the dead letters; 0 = retry without end. */
  readonly deliveryMaxAttempts: number;
  /** First retry delay, doubled at each attempt (with jitter) up to deliveryMaxBackoffMs. */
  readonly deliveryBackoffMs: number;
  readonly deliveryMaxBackoffMs: number;
  /** Consecutive "server down" failures that open the circuit breaker. */
  readonly deliveryBreakerThreshold: number;
  /** How long the open breaker sends nothing before one delivery probes the server. */
  readonly deliveryBreakerCooldownMs: number;
  /** How long a delivered message stays in the outbox before it is purged, in hours; 0 keeps it for ever. */
  readonly deliveryRetentionHours: number;
  /** A port of its own for GET /metrics, without authentication; undefined: /metrics on PORT, scope metrics:read. */
  readonly metricsPort: number | undefined;
  /** OpenTelemetry traces; undefined: off (no span is made, nothing is sent). */
  readonly tracing: TracingConfig | undefined;
  /** `$validate`: worker threads, documents waiting beyond them, largest document, time budget per document. */
  readonly validateWorkers: number;
  readonly validateQueue: number;
  readonly validateMaxBytes: number;
  readonly validateTimeoutMs: number;
  /** NODE_ENV: production refuses to start without authentication. */
  readonly production: boolean;
  /** `none`: no authentication (development only); `required`: every /v1 route needs credentials. */
  readonly authMode: AuthMode;
  /** Expected `iss` and `aud` of bearer tokens (both required with a JWKS). */
  readonly authIssuer: string | undefined;
  readonly authAudience: string | undefined;
  /** Where the token signing keys come from: a URL (refreshed) or a file (air-gapped sites, tests). */
  readonly authJwksUrl: string | undefined;
  readonly authJwksFile: string | undefined;
  /** API keys of machine clients: a JSON file of { id, sha256, scopes, finess? }. */
  readonly authApiKeysFile: string | undefined;
  /** Clock skew allowed on exp, nbf and iat, in seconds. */
  readonly authClockSkewS: number;
  /** Longest life of a bearer token (exp − iat), and its oldest age (now − iat), in seconds. */
  readonly authMaxTokenLifetimeS: number;
  /** Requests per minute per client (per address when anonymous); 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** Requests without valid credentials per address and window, checked before authentication; 0: off. */
  readonly rateLimitAnonymous: number;
  /** That window in seconds, also the period of the aggregate AuditEvent of failed authentications. */
  readonly rateLimitAnonymousWindowS: number;
  /** Time allowed to receive a whole request; 0 turns it off. */
  readonly requestTimeoutMs: number;
  /** HTTPS: certificate and key (PEM); without them the service speaks plain HTTP. */
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** Certificate authorities that sign client certificates (PEM). */
  readonly tlsCaFile: string | undefined;
  /** Refuse TLS clients without a certificate signed by TLS_CA_FILE. */
  readonly tlsRequireClientCert: boolean;
}

export type AuthMode = 'none' | 'required';

export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Validation workers by default: one less than the cores, so that one core stays free for the event loop
 * (/health and every other request answer while large documents are validated); at least one, at most four.
 */
function defaultValidateWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(name, `expected a whole number between ${min} and ${max}, got "${raw}"`);
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `expected a whole number between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

/** Credentials never go into an error message: `postgres://user:secret@host` → `postgres://user:***@host`. */
function withoutPassword(raw: string): string {
  return raw.replace(/:[^:@/]*@/, ':***@');
}

/** An absolute URL of one of the given protocols, or undefined when the variable is empty. */
function readUrlOf(env: Env, name: string, protocols: readonly string[], example: string): URL | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected a URL such as ${example}, got "${withoutPassword(raw)}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL such as ${example}, got "${withoutPassword(raw)}"`);
  }
  return url;
}

function readPostgresUrl(env: Env, name: string): string | undefined {
  return readUrlOf(env, name, ['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/telesante') === undefined ? undefined : (env[name] ?? '').trim();
}

function readBaseUrl(env: Env, name: string): string | undefined {
  const url = readUrlOf(env, name, ['http:', 'https:'], 'http://127.0.0.1:8080/fhir');
  if (url === undefined) return undefined;
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError(name, `the base URL must not carry a query or a fragment, got "${withoutPassword(url.href)}"`);
  }
  return (env[name] ?? '').trim().replace(/\/+$/, '');
}

function readPath(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (raw.includes('\0')) throw new ConfigError(name, 'expected a file path');
  return raw;
}

function readUrl(env: Env, name: string): string | undefined {
  return readUrlOf(env, name, ['http:', 'https:'], 'https://idp.example.fr/.well-known/jwks.json') === undefined ? undefined : (env[name] ?? '').trim();
}

function readOptionalPath(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (raw.includes('\0')) throw new ConfigError(name, 'expected a file path');
  return raw;
}

function readText(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function readAuthMode(env: Env, name: string): AuthMode | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'none' || raw === 'required') return raw;
  throw new ConfigError(name, `expected none or required, got "${env[name]}"`);
}

function readLogLevel(env: Env, name: string): LogLevel {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === raw);
  if (level === undefined) throw new ConfigError(name, `expected one of ${LOG_LEVELS.join(', ')}, got "${env[name]}"`);
  return level;
}

function readLogFormat(env: Env, name: string): LogFormat {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'auto';
  if (raw === 'auto' || raw === 'json' || raw === 'pretty') return raw;
  throw new ConfigError(name, `expected auto, json or pretty, got "${env[name]}"`);
}

function readHost(env: Env, name: string): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return '127.0.0.1';
  if (/\s|\//.test(raw)) throw new ConfigError(name, `expected a host name or an IP address, got "${raw}"`);
  return raw;
}

function readOptionalPort(env: Env, name: string, servicePort: string | undefined): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const port = readInteger(env, name, 0, 1, 65535);
  if (servicePort !== undefined && servicePort.trim() === raw) throw new ConfigError(name, `must differ from PORT (${raw}): leave it empty to serve /metrics on PORT`);
  return port;
}

const TRACE_SAMPLERS: readonly TraceSampler[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/**
 * `key=value,key2=value2` with percent-encoded values, as OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_HEADERS write them. The value is never echoed (headers carry credentials).
 */
function readPairs(env: Env, name: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of (env[name] ?? '').split(',')) {
    if (item.trim() === '') continue;
    const equals = item.indexOf('=');
    const key = item.slice(0, equals).trim();
    if (equals < 1 || key === '') throw new ConfigError(name, 'expected key=value pairs separated by commas');
    try {
      pairs[key] = decodeURIComponent(item.slice(equals + 1).trim());
    } catch {
      throw new ConfigError(name, `the value of ${key} is not valid percent-encoding`);
    }
  }
  return pairs;
}

/** The first of the variables that is set (the signal-specific one before the general one). */
function firstSet(env: Env, names: readonly string[]): string | undefined {
  return names.find((name) => (env[name] ?? '').trim() !== '');
}

/**
 * The OTEL_* variables as the OpenTelemetry specification defines them, with one difference: without
 * OTEL_TRACES_EXPORTER or an OTLP endpoint, tracing is off (the specification's default exporter would
 * send spans to localhost:4318 from every instance that nobody configured).
 */
function readTracing(env: Env): TracingConfig | undefined {
  if (readBoolean(env, 'OTEL_SDK_DISABLED', false)) return undefined;
  const endpointVariable = firstSet(env, ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']);
  const listed = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  for (const name of listed) {
    if (name !== 'otlp' && name !== 'console' && name !== 'none') throw new ConfigError('OTEL_TRACES_EXPORTER', `expected otlp, console or none (or a list of them), got "${name}"`);
  }
  const exporters = (listed.length === 0 && endpointVariable !== undefined ? ['otlp'] : listed).filter((name): name is TraceExporter => name !== 'none');
  if (exporters.length === 0 || listed.includes('none')) return undefined;
  const protocolVariable = firstSet(env, ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']);
  const protocol = (protocolVariable === undefined ? 'http/protobuf' : (env[protocolVariable] ?? '').trim().toLowerCase()) as OtlpProtocol;
  if (exporters.includes('otlp') && !OTLP_PROTOCOLS.includes(protocol)) {
    throw new ConfigError(protocolVariable ?? 'OTEL_EXPORTER_OTLP_PROTOCOL', `this service exports OTLP over HTTP: expected http/protobuf or http/json (grpc is not offered), got "${env[protocolVariable ?? ''] ?? ''}"`);
  }
  // The general endpoint is a base to which the signal's path is added; the traces endpoint is used as it is.
  let otlpUrl = 'http://localhost:4318/v1/traces';
  if (endpointVariable !== undefined) {
    readUrlOf(env, endpointVariable, ['http:', 'https:'], 'http://otel-collector:4318');
    const raw = (env[endpointVariable] ?? '').trim();
    otlpUrl = endpointVariable === 'OTEL_EXPORTER_OTLP_ENDPOINT' ? `${raw.replace(/\/+$/, '')}/v1/traces` : raw;
  }
  const sampler = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase() || 'parentbased_always_on';
  if (!TRACE_SAMPLERS.includes(sampler as TraceSampler)) throw new ConfigError('OTEL_TRACES_SAMPLER', `expected one of ${TRACE_SAMPLERS.join(', ')}, got "${env.OTEL_TRACES_SAMPLER}"`);
  const ratioText = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
  const samplerRatio = ratioText === '' ? 1 : Number(ratioText);
  if (ratioText !== '' && !(/^[\d.]+$/.test(ratioText) && samplerRatio >= 0 && samplerRatio <= 1)) throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `expected a ratio between 0 and 1, got "${ratioText}"`);
  const resourceAttributes = readPairs(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const serviceName = readText(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'telesante-fhir';
  delete resourceAttributes['service.name'];
  const headersVariable = firstSet(env, ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS']);
  const timeoutVariable = firstSet(env, ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']);
  return {
    exporters: [...new Set(exporters)],
    serviceName,
    resourceAttributes,
    otlpUrl,
    otlpProtocol: protocol,
    otlpHeaders: headersVariable === undefined ? {} : readPairs(env, headersVariable),
    otlpTimeoutMs: timeoutVariable === undefined ? 10_000 : readInteger(env, timeoutVariable, 10_000, 1, 600_000),
    sampler: sampler as TraceSampler,
    samplerRatio,
  };
}

/** Reads and checks the configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  return { ...readBase(env), ...readSecurity(env) };
}

type SecurityConfig = Pick<
  Config,
  | 'production'
  | 'authMode'
  | 'authIssuer'
  | 'authAudience'
  | 'authJwksUrl'
  | 'authJwksFile'
  | 'authApiKeysFile'
  | 'authClockSkewS'
  | 'authMaxTokenLifetimeS'
  | 'rateLimitPerMinute'
  | 'rateLimitAnonymous'
  | 'rateLimitAnonymousWindowS'
  | 'requestTimeoutMs'
  | 'tlsCertFile'
  | 'tlsKeyFile'
  | 'tlsCaFile'
  | 'tlsRequireClientCert'
>;

function readSecurity(env: Env): SecurityConfig {
  // `Production`, `PRODUCTION`: one environment, however it is written (it once started without authentication).
  const production = env.NODE_ENV?.trim().toLowerCase() === 'production';
  const authJwksUrl = readUrl(env, 'AUTH_JWKS_URL');
  const authJwksFile = readOptionalPath(env, 'AUTH_JWKS_FILE');
  const authApiKeysFile = readOptionalPath(env, 'AUTH_API_KEYS_FILE');
  if (authJwksUrl !== undefined && authJwksFile !== undefined) throw new ConfigError('AUTH_JWKS_FILE', 'set AUTH_JWKS_URL or AUTH_JWKS_FILE, not both');
  const jwks = authJwksUrl !== undefined || authJwksFile !== undefined;
  const authIssuer = readText(env, 'AUTH_ISSUER');
  const authAudience = readText(env, 'AUTH_AUDIENCE');
  if (jwks && authIssuer === undefined) throw new ConfigError('AUTH_ISSUER', 'required with AUTH_JWKS_URL or AUTH_JWKS_FILE (the expected iss of tokens)');
  if (jwks && authAudience === undefined) throw new ConfigError('AUTH_AUDIENCE', 'required with AUTH_JWKS_URL or AUTH_JWKS_FILE (the expected aud of tokens)');
  const configured = jwks || authApiKeysFile !== undefined;
  const mode = readAuthMode(env, 'AUTH_MODE');
  if (production && mode === 'none') throw new ConfigError('AUTH_MODE', 'none is refused with NODE_ENV=production');
  if (production && !configured) {
    throw new ConfigError('AUTH_JWKS_URL', 'NODE_ENV=production needs authentication: set AUTH_JWKS_URL or AUTH_JWKS_FILE (with AUTH_ISSUER, AUTH_AUDIENCE), or AUTH_API_KEYS_FILE');
  }
  if (mode === 'required' && !configured) throw new ConfigError('AUTH_MODE', 'required needs AUTH_JWKS_URL, AUTH_JWKS_FILE or AUTH_API_KEYS_FILE');
  const authMode: AuthMode = mode ?? (configured ? 'required' : 'none');
  const tlsCertFile = readOptionalPath(env, 'TLS_CERT_FILE');
  const tlsKeyFile = readOptionalPath(env, 'TLS_KEY_FILE');
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new ConfigError(tlsCertFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE', 'TLS_CERT_FILE and TLS_KEY_FILE go together');
  }
  const tlsCaFile = readOptionalPath(env, 'TLS_CA_FILE');
  const tlsRequireClientCert = readBoolean(env, 'TLS_REQUIRE_CLIENT_CERT', false);
  if (tlsRequireClientCert && (tlsCaFile === undefined || tlsCertFile === undefined)) {
    throw new ConfigError('TLS_REQUIRE_CLIENT_CERT', 'needs TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE');
  }
  return {
    production,
    authMode,
    authIssuer,
    authAudience,
    authJwksUrl,
    authJwksFile,
    authApiKeysFile,
    authClockSkewS: readInteger(env, 'AUTH_CLOCK_SKEW_S', 30, 0, 600),
    authMaxTokenLifetimeS: readInteger(env, 'AUTH_MAX_TOKEN_LIFETIME_S', 3600, 60, 86_400),
    rateLimitPerMinute: readInteger(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    rateLimitAnonymous: readInteger(env, 'RATE_LIMIT_ANONYMOUS', 60, 0, 1_000_000),
    rateLimitAnonymousWindowS: readInteger(env, 'RATE_LIMIT_ANONYMOUS_WINDOW_S', 60, 1, 86_400),
    requestTimeoutMs: readInteger(env, 'REQUEST_TIMEOUT_MS', 60_000, 0, 3_600_000),
    tlsCertFile,
    tlsKeyFile,
    tlsCaFile,
    tlsRequireClientCert,
  };
}

function readBase(env: Env): Omit<Config, keyof SecurityConfig> {
  return {
    port: readInteger(env, 'PORT', 3000, 0, 65535),
    host: readHost(env, 'HOST'),
    fhirBaseUrl: readBaseUrl(env, 'FHIR_BASE_URL'),
    fhirTimeoutMs: readInteger(env, 'FHIR_TIMEOUT_MS', 30_000, 100, 600_000),
    fhirRetries: readInteger(env, 'FHIR_RETRIES', 2, 0, 10),
    fhirConnections: readInteger(env, 'FHIR_CONNECTIONS', 16, 1, 1024),
    logLevel: readLogLevel(env, 'LOG_LEVEL'),
    logFormat: readLogFormat(env, 'LOG_FORMAT'),
    bodyLimitBytes: readInteger(env, 'BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    allowTestIdentities: readBoolean(env, 'ALLOW_TEST_IDENTITIES', false),
    deliverySqlitePath: readPath(env, 'DELIVERY_SQLITE_PATH', 'data/outbox.sqlite'),
    deliveryDatabaseUrl: readPostgresUrl(env, 'DELIVERY_DATABASE_URL'),
    deliveryWaitMs: readInteger(env, 'DELIVERY_WAIT_MS', 5_000, 0, 600_000),
    deliveryConcurrency: readInteger(env, 'DELIVERY_CONCURRENCY', 8, 1, 256),
    deliveryBatchSize: readInteger(env, 'DELIVERY_BATCH_SIZE', 16, 1, 500),
    auditFlushMs: readInteger(env, 'AUDIT_FLUSH_MS', 1000, 0, 60_000),
    deliveryBatchFlights: readInteger(env, 'DELIVERY_BATCH_FLIGHTS', 2, 1, 256),
    deliveryMaxAttempts: readInteger(env, 'DELIVERY_MAX_ATTEMPTS', 0, 0, 1_000_000),
    deliveryBackoffMs: readInteger(env, 'DELIVERY_BACKOFF_MS', 500, 1, 3_600_000),
    deliveryMaxBackoffMs: readInteger(env, 'DELIVERY_MAX_BACKOFF_MS', 60_000, 1, 86_400_000),
    deliveryBreakerThreshold: readInteger(env, 'DELIVERY_BREAKER_THRESHOLD', 5, 1, 10_000),
    deliveryBreakerCooldownMs: readInteger(env, 'DELIVERY_BREAKER_COOLDOWN_MS', 5_000, 10, 3_600_000),
    deliveryRetentionHours: readInteger(env, 'DELIVERY_RETENTION_HOURS', 168, 0, 24 * 3650),
    metricsPort: readOptionalPort(env, 'METRICS_PORT', env.PORT),
    tracing: readTracing(env),
    validateWorkers: readInteger(env, 'VALIDATE_WORKERS', defaultValidateWorkers(), 1, 64),
    validateQueue: readInteger(env, 'VALIDATE_QUEUE', 4, 0, 10_000),
    validateMaxBytes: readInteger(env, 'VALIDATE_MAX_BYTES', 2 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    validateTimeoutMs: readInteger(env, 'VALIDATE_TIMEOUT_MS', 10_000, 100, 600_000),
  };
}

/** The configuration table of the README, kept beside the code that reads it. */
export const CONFIG_VARIABLES: readonly { name: string; default: string; meaning: string }[] = [
  { name: 'PORT', default: '3000', meaning: 'HTTP port of the service' },
  { name: 'HOST', default: '127.0.0.1', meaning: 'address to listen on (0.0.0.0 in a container)' },
  { name: 'FHIR_BASE_URL', default: '(none: embedded store)', meaning: 'FHIR server base URL, e.g. http://127.0.0.1:8080/fhir' },
  { name: 'FHIR_TIMEOUT_MS', default: '30000', meaning: 'time allowed for one call to the FHIR server' },
  { name: 'FHIR_RETRIES', default: '2', meaning: 'retries of reads and of calls that never reached the server' },
  { name: 'FHIR_CONNECTIONS', default: '16', meaning: 'keep-alive connections to the FHIR server' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'LOG_FORMAT', default: 'auto', meaning: '`auto`: readable lines (pino-pretty) on a terminal, JSON lines otherwise; `json`; `pretty`' },
  { name: 'BODY_LIMIT_BYTES', default: '5242880', meaning: 'largest request body (5 MB)' },
  { name: 'SHUTDOWN_TIMEOUT_MS', default: '10000', meaning: 'grace period for in-flight requests on SIGTERM' },
  { name: 'ALLOW_TEST_IDENTITIES', default: 'false', meaning: 'accept INS of test and demo identities' },
  { name: 'DELIVERY_SQLITE_PATH', default: 'data/outbox.sqlite', meaning: 'the outbox file (SQLite, WAL): accepted writes not yet delivered' },
  { name: 'DELIVERY_DATABASE_URL', default: '(none: SQLite file)', meaning: 'PostgreSQL for an outbox shared by several instances, e.g. postgres://user@host/db' },
  { name: 'DELIVERY_WAIT_MS', default: '5000', meaning: 'how long a write waits for its delivery before answering 202' },
  { name: 'DELIVERY_CONCURRENCY', default: '8', meaning: 'deliveries to the FHIR store at once (one at a time per business key)' },
  { name: 'DELIVERY_BATCH_SIZE', default: '16', meaning: 'acts of different keys merged into one FHIR transaction at most, when that many are due (never waited for)' },
  { name: 'DELIVERY_BATCH_FLIGHTS', default: '2', meaning: 'batches of one kind (acts, audit events) in flight at once: what arrives meanwhile goes in the next batch; on a shared outbox, from all the instances together (each keeps its share, at least 1)' },
  { name: 'AUDIT_FLUSH_MS', default: '1000', meaning: 'audit records gather this long before they go to the FHIR store together (one transaction of up to 100); 0: each at once' },
  { name: 'DELIVERY_MAX_ATTEMPTS', default: '0', meaning: 'attempts before a transient failure goes to the dead letters (0: never)' },
  { name: 'DELIVERY_BACKOFF_MS', default: '500', meaning: 'first retry delay, doubled at each attempt, with jitter' },
  { name: 'DELIVERY_MAX_BACKOFF_MS', default: '60000', meaning: 'longest retry delay' },
  { name: 'DELIVERY_BREAKER_THRESHOLD', default: '5', meaning: 'consecutive failures of the FHIR server that open the circuit breaker' },
  { name: 'DELIVERY_BREAKER_COOLDOWN_MS', default: '5000', meaning: 'how long the open breaker waits before one delivery probes the server' },
  { name: 'DELIVERY_RETENTION_HOURS', default: '168', meaning: 'how long a delivered message (its answer, its Idempotency-Key) stays in the outbox before it is purged (7 days); 0: for ever. Pending messages and dead letters are never purged' },
  { name: 'METRICS_PORT', default: '(none: /metrics on PORT, scope metrics:read)', meaning: 'a port of its own for GET /metrics (Prometheus), without authentication: keep it inside the network' },
  { name: 'OTEL_TRACES_EXPORTER', default: '(none: no tracing)', meaning: 'OpenTelemetry traces: `otlp`, `console` or both (`otlp,console`); `none`. Set alone, `OTEL_EXPORTER_OTLP_ENDPOINT` means `otlp`' },
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: 'http://localhost:4318', meaning: 'the OTLP/HTTP collector; spans go to its `/v1/traces` (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: a full URL, used as it is)' },
  { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', default: 'http/protobuf', meaning: '`http/protobuf` or `http/json` (`grpc` is refused at start); `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` first' },
  { name: 'OTEL_EXPORTER_OTLP_HEADERS', default: '(none)', meaning: 'headers of every export, `key=value,…` percent-encoded (a collector\'s credentials); `…_TRACES_HEADERS` first' },
  { name: 'OTEL_EXPORTER_OTLP_TIMEOUT', default: '10000', meaning: 'time allowed for one export, in ms; `…_TRACES_TIMEOUT` first' },
  { name: 'OTEL_SERVICE_NAME', default: 'telesante-fhir', meaning: 'the `service.name` of the spans (before one in `OTEL_RESOURCE_ATTRIBUTES`)' },
  { name: 'OTEL_RESOURCE_ATTRIBUTES', default: '(none)', meaning: 'more resource attributes, `key=value,…` (`deployment.environment.name=prod`)' },
  { name: 'OTEL_TRACES_SAMPLER', default: 'parentbased_always_on', meaning: 'always_on, always_off, traceidratio, or their parentbased_ forms (which follow the caller\'s `traceparent`)' },
  { name: 'OTEL_TRACES_SAMPLER_ARG', default: '1', meaning: 'the ratio of the traceidratio samplers, 0 to 1' },
  { name: 'OTEL_SDK_DISABLED', default: 'false', meaning: '`true`: no tracing, whatever the other OTEL_* variables say' },
  { name: 'VALIDATE_WORKERS', default: 'one less than the cores (1 to 4)', meaning: '`POST /v1/$validate`: worker threads that validate (each loads its own validator on first use); one core stays free for the event loop' },
  { name: 'VALIDATE_QUEUE', default: '4', meaning: 'documents waiting for a free worker; past it, 503 with Retry-After' },
  { name: 'VALIDATE_MAX_BYTES', default: '2097152', meaning: 'largest document `$validate` takes (2 MiB; 413 past it)' },
  { name: 'VALIDATE_TIMEOUT_MS', default: '10000', meaning: 'time budget of one validation; past it the worker is replaced and the answer is 413' },
  { name: 'NODE_ENV', default: '(none)', meaning: '`production` (in any case) refuses to start without authentication (AUTH_JWKS_* or AUTH_API_KEYS_FILE)' },
  { name: 'AUTH_MODE', default: '(required when keys are configured, else none)', meaning: '`none`: no authentication, development only (refused in production); `required`' },
  { name: 'AUTH_ISSUER', default: '(none)', meaning: 'expected `iss` of bearer tokens (required with a JWKS)' },
  { name: 'AUTH_AUDIENCE', default: '(none)', meaning: 'expected `aud` of bearer tokens (required with a JWKS)' },
  { name: 'AUTH_JWKS_URL', default: '(none)', meaning: 'the JWKS of the authorization server (RS256, ES256, PS256 tokens)' },
  { name: 'AUTH_JWKS_FILE', default: '(none)', meaning: 'the same JWKS from a file (air-gapped sites, tests); not with AUTH_JWKS_URL' },
  { name: 'AUTH_API_KEYS_FILE', default: '(none)', meaning: 'JSON file of API keys for machine clients: `[{ id, sha256, scopes, finess? }]`' },
  { name: 'AUTH_CLOCK_SKEW_S', default: '30', meaning: 'clock skew allowed on `exp`, `nbf` and `iat`, in seconds' },
  { name: 'AUTH_MAX_TOKEN_LIFETIME_S', default: '3600', meaning: 'longest life of a bearer token (`exp` − `iat`) and its oldest `iat`; `iat` is required' },
  { name: 'RATE_LIMIT_PER_MINUTE', default: '600', meaning: 'requests per minute per client (per address when anonymous); 0: no limit' },
  { name: 'RATE_LIMIT_ANONYMOUS', default: '60', meaning: 'requests without valid credentials per address and window, checked before authentication (429 past it); 0: no limit' },
  { name: 'RATE_LIMIT_ANONYMOUS_WINDOW_S', default: '60', meaning: 'that window, also the period of the one AuditEvent per address that counts its failed authentications' },
  { name: 'REQUEST_TIMEOUT_MS', default: '60000', meaning: 'time allowed to receive a whole request; 0: none' },
  { name: 'TLS_CERT_FILE', default: '(none: plain HTTP)', meaning: 'HTTPS certificate (PEM), with TLS_KEY_FILE' },
  { name: 'TLS_KEY_FILE', default: '(none)', meaning: 'HTTPS private key (PEM)' },
  { name: 'TLS_CA_FILE', default: '(none)', meaning: 'authorities that sign client certificates (PEM)' },
  { name: 'TLS_REQUIRE_CLIENT_CERT', default: 'false', meaning: 'refuse TLS clients without a certificate signed by TLS_CA_FILE' },
];
