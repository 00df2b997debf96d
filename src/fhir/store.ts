import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';

/** What travels with every call to the FHIR store: the request id that ties logs together, a deadline. */
export interface CallContext {
  readonly requestId?: string;
  readonly signal?: AbortSignal;
  /** The W3C trace context of the call (`traceparent`, tracing on): HAPI's logs and traces join ours. */
  readonly traceParent?: string;
}

export type SearchParams = Readonly<Record<string, string | readonly string[]>>;

export interface ReadyState {
  readonly ok: boolean;
  /** A sentence saying why the store is or is not ready. */
  readonly reason: string;
}

/**
 * The one interface to a FHIR store. Two implementations: HAPI over HTTP (hapi-store.ts) and the
 * embedded in-process store (embedded-store.ts). Both pass the same contract suite (test/contract/).
 * Failures are FhirStoreError with a kind; a read of a missing resource answers undefined.
 */
export interface FhirStore {
  readonly kind: 'hapi' | 'embedded';
  /** Where the data lives, for logs and /ready: the base URL, or "embedded". */
  readonly location: string;
  /** Runs a transaction Bundle atomically; answers the transaction-response Bundle. */
  transaction(bundle: Bundle, ctx?: CallContext): Promise<Bundle>;
  read<T extends Resource>(type: ResourceType, id: string, ctx?: CallContext): Promise<T | undefined>;
  /** One page of results, always fresh (never a server-side cached search). */
  search<T extends Resource>(type: ResourceType, params: SearchParams, ctx?: CallContext): Promise<Bundle<T>>;
  /**
   * One page of bare matches, for a question such as "which of these acts are stored?": fresh, and
   * nothing kept on the server (HAPI: `Cache-Control: no-store`, its search is not written into its
   * search cache, which costs it ~3 ms of CPU and PostgreSQL ~1 ms per search). Its `_include`,
   * `_revinclude` and `total` are not to be relied on: ask `search` for those.
   */
  probe<T extends Resource>(type: ResourceType, params: SearchParams, ctx?: CallContext): Promise<Bundle<T>>;
  /** How many resources match, without loading them (`_summary=count`). */
  count(type: ResourceType, params: SearchParams, ctx?: CallContext): Promise<number>;
  history<T extends Resource>(type: ResourceType, id: string, ctx?: CallContext): Promise<Bundle<T>>;
  ready(ctx?: CallContext): Promise<ReadyState>;
  close(): Promise<void>;
}
