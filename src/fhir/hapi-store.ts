import type { Bundle, CapabilityStatement, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import type { FhirResource, SearchParams as KitSearchParams } from 'fhir-kit-client';
import { CreationGuard } from './creation-guard.ts';
import { FhirStoreError, kindOfStatus, outcomeText } from './errors.ts';
import type { CallContext, FhirStore, ReadyState, SearchParams } from './store.ts';

export interface HapiStoreOptions {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Extra attempts for reads, and for any call that the server refused before doing anything (503). */
  readonly retries: number;
  /** First backoff delay; doubled at each attempt, with jitter. */
  readonly backoffMs?: number;
}

interface KitError {
  response?: { status?: number; data?: unknown };
}

/**
 * A read changes nothing on the server and is retried on any transient failure; a write is not. A probe
 * is a read that HAPI must not keep in its search cache.
 */
type Effect = 'read' | 'probe' | 'write';

function isOutcome(data: unknown): data is OperationOutcome {
  return typeof data === 'object' && data !== null && (data as { resourceType?: unknown }).resourceType === 'OperationOutcome';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}

/** Turns whatever fhir-kit-client or fetch threw into a FhirStoreError. */
function toStoreError(error: unknown, what: string, timedOut: boolean): FhirStoreError {
  if (error instanceof FhirStoreError) return error;
  const response = (error as KitError).response;
  if (response?.status !== undefined) {
    const outcome = isOutcome(response.data) ? response.data : undefined;
    const detail = outcomeText(outcome) || `HTTP ${response.status}`;
    return new FhirStoreError(kindOfStatus(response.status), `${what}: ${detail}`, {
      status: response.status,
      outcome,
      cause: error,
    });
  }
  if (timedOut) return new FhirStoreError('timeout', `${what}: no answer from the FHIR server in time`, { cause: error });
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return new FhirStoreError('unavailable', `${what}: the FHIR server cannot be reached${code ? ` (${code})` : ''}`, { cause: error });
}

/**
 * HAPI over HTTP, through fhir-kit-client on the process's undici dispatcher (a keep-alive pool set up
 * by main.ts). Every call carries X-Request-ID (and traceparent, tracing on) and a deadline; searches ask HAPI not to answer from its
 * 60-second search cache, so that a client reads its own writes.
 */
export class HapiStore implements FhirStore {
  readonly kind = 'hapi' as const;
  readonly location: string;
  readonly #client: Client;
  readonly #options: HapiStoreOptions;
  /** Transactions that may create the same resource are not sent together (creation-guard.ts). */
  readonly #creations = new CreationGuard();

  constructor(options: HapiStoreOptions) {
    this.#options = options;
    this.location = options.baseUrl;
    this.#client = new Client({ baseUrl: options.baseUrl });
  }

  async transaction(bundle: Bundle, ctx: CallContext = {}): Promise<Bundle> {
    return this.#creations.run(bundle, () =>
      this.#call('write', 'transaction', ctx, (options) => this.#client.transaction({ body: bundle as unknown as FhirResource, options })),
    ) as Promise<Bundle>;
  }

  async read<T extends Resource>(type: ResourceType, id: string, ctx: CallContext = {}): Promise<T | undefined> {
    try {
      return (await this.#call('read', `read ${type}/${id}`, ctx, (options) => this.#client.read({ resourceType: type, id, options }))) as T;
    } catch (error) {
      if (error instanceof FhirStoreError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  /**
   * `POST [type]/_search` with the criteria in a form body, never in the URL: a search for a patient's
   * acts carries an INS, which must not land in the access logs of HAPI or of a proxy on the way, and a
   * search over the hundreds of structures of a department would pass the 8 KB that Tomcat (HAPI's
   * server) and most proxies take in a request line.
   */
  async search<T extends Resource>(type: ResourceType, params: SearchParams, ctx: CallContext = {}): Promise<Bundle<T>> {
    const searchParams = params as KitSearchParams;
    return this.#call('read', `search ${type}`, ctx, (options) =>
      this.#client.resourceSearch({ resourceType: type, searchParams, options: { ...options, postSearch: true } }),
    ) as Promise<Bundle<T>>;
  }

  async probe<T extends Resource>(type: ResourceType, params: SearchParams, ctx: CallContext = {}): Promise<Bundle<T>> {
    const searchParams = params as KitSearchParams;
    return this.#call('probe', `probe ${type}`, ctx, (options) =>
      this.#client.resourceSearch({ resourceType: type, searchParams, options: { ...options, postSearch: true } }),
    ) as Promise<Bundle<T>>;
  }

  async count(type: ResourceType, params: SearchParams, ctx: CallContext = {}): Promise<number> {
    const bundle = await this.search(type, { ...params, _summary: 'count' }, ctx);
    return bundle.total ?? 0;
  }

  async history<T extends Resource>(type: ResourceType, id: string, ctx: CallContext = {}): Promise<Bundle<T>> {
    return this.#call('read', `history ${type}/${id}`, ctx, (options) =>
      this.#client.history({ resourceType: type, id, options }),
    ) as Promise<Bundle<T>>;
  }

  async ready(ctx: CallContext = {}): Promise<ReadyState> {
    try {
      const statement = (await this.#call('read', 'metadata', ctx, (options) =>
        this.#client.capabilityStatement(options),
      )) as CapabilityStatement;
      if (statement.fhirVersion !== '4.0.1') {
        return { ok: false, reason: `the FHIR server at ${this.location} speaks FHIR ${statement.fhirVersion ?? '(unknown)'}, not 4.0.1 (R4)` };
      }
      return { ok: true, reason: `the FHIR server at ${this.location} answers (FHIR 4.0.1)` };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `the FHIR server at ${this.location} does not answer: ${message}` };
    }
  }

  async close(): Promise<void> {
    // Connections belong to the process-wide dispatcher, closed by main.ts at exit.
  }

  /**
   * One call with its deadline and retries. Reads are retried on every transient failure; writes only
   * when the server cannot have acted on them (no connection, or 503 "unavailable").
   */
  async #call(
    effect: Effect,
    what: string,
    ctx: CallContext,
    send: (options: { headers: Record<string, string>; signal: AbortSignal }) => Promise<unknown>,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    if (ctx.requestId !== undefined) headers['x-request-id'] = ctx.requestId;
    if (ctx.traceParent !== undefined) headers.traceparent = ctx.traceParent;
    if (effect === 'read') headers['cache-control'] = 'no-cache';
    else if (effect === 'probe') headers['cache-control'] = 'no-store';
    // A write's answer is a status line per entry: compressing it costs both sides more CPU than it saves.
    if (effect === 'write') headers['accept-encoding'] = 'identity';
    const backoffMs = this.#options.backoffMs ?? 200;
    for (let attempt = 0; ; attempt++) {
      const deadline = AbortSignal.timeout(this.#options.timeoutMs);
      const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
      try {
        return await send({ headers, signal });
      } catch (raw) {
        if (ctx.signal?.aborted) throw raw;
        const error = toStoreError(raw, what, deadline.aborted);
        const retryable =
          effect === 'write' ? error.kind === 'unavailable' : error.transient && error.kind !== 'conflict';
        if (!retryable || attempt >= this.#options.retries) throw error;
        const delay = backoffMs * 2 ** attempt * (0.5 + Math.random());
        await sleep(delay, ctx.signal);
      }
    }
  }
}
