import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';
import type { CallContext, FhirStore, ReadyState, SearchParams } from './store.ts';

// One place where every call to the FHIR store can be watched (metrics, traces), whatever the store
// and whoever calls it: the routes, the delivery worker, the import engine and the audit trail all hold
// this wrapper, so that no call site has to remember to measure itself.

export type StoreOperation = 'transaction' | 'read' | 'search' | 'probe' | 'count' | 'history' | 'ready';

/** What an observer may add to a call's context. */
type Added = Pick<CallContext, 'traceParent'>;

/**
 * Runs a call of the store, around which it measures or traces what it likes; answers what the call
 * answers. It may add to the call's context what the server should receive (a traceparent).
 */
export interface StoreObserver {
  around<T>(operation: StoreOperation, resourceType: string | undefined, call: (added?: Added) => Promise<T>): Promise<T>;
}

/** The store, each of its calls passed through the observers (the first one outermost). */
export function observedStore(store: FhirStore, observers: readonly StoreObserver[]): FhirStore {
  if (observers.length === 0) return store;
  const around = <T>(operation: StoreOperation, resourceType: string | undefined, call: (added: Added) => Promise<T>): Promise<T> =>
    observers.reduceRight<(added: Added) => Promise<T>>(
      (inner, observer) => (added) => observer.around(operation, resourceType, (more) => inner({ ...added, ...more })),
      call,
    )({});
  const merged = (ctx: CallContext | undefined, added: Added): CallContext => ({ ...ctx, ...added });
  return {
    kind: store.kind,
    location: store.location,
    transaction: (bundle: Bundle, ctx?: CallContext) => around('transaction', 'Bundle', (added) => store.transaction(bundle, merged(ctx, added))),
    read: <T extends Resource>(type: ResourceType, id: string, ctx?: CallContext) => around('read', type, (added) => store.read<T>(type, id, merged(ctx, added))),
    search: <T extends Resource>(type: ResourceType, params: SearchParams, ctx?: CallContext) => around('search', type, (added) => store.search<T>(type, params, merged(ctx, added))),
    probe: <T extends Resource>(type: ResourceType, params: SearchParams, ctx?: CallContext) => around('probe', type, (added) => store.probe<T>(type, params, merged(ctx, added))),
    count: (type: ResourceType, params: SearchParams, ctx?: CallContext) => around('count', type, (added) => store.count(type, params, merged(ctx, added))),
    history: <T extends Resource>(type: ResourceType, id: string, ctx?: CallContext) => around('history', type, (added) => store.history<T>(type, id, merged(ctx, added))),
    ready: (ctx?: CallContext): Promise<ReadyState> => around('ready', undefined, (added) => store.ready(merged(ctx, added))),
    close: () => store.close(),
  };
}
