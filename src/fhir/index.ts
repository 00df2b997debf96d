import type { Config } from '../config.ts';
import { EmbeddedStore } from './embedded-store.ts';
import { HapiStore } from './hapi-store.ts';
import type { FhirStore } from './store.ts';

export type { CallContext, FhirStore, ReadyState, SearchParams } from './store.ts';
export { FhirStoreError, KEPT_ISSUES, outcomeSummary } from './errors.ts';
export type { FhirErrorKind } from './errors.ts';
export { EmbeddedStore } from './embedded-store.ts';
export { HapiStore } from './hapi-store.ts';
export { asStored } from './server-assigned.ts';
export { paramsOfQuery, referencesOf, resourcesOf } from './bundles.ts';

/** HAPI when FHIR_BASE_URL is set, else the embedded in-process store. */
export function createStore(config: Pick<Config, 'fhirBaseUrl' | 'fhirTimeoutMs' | 'fhirRetries'>): FhirStore {
  if (config.fhirBaseUrl === undefined) return new EmbeddedStore();
  return new HapiStore({ baseUrl: config.fhirBaseUrl, timeoutMs: config.fhirTimeoutMs, retries: config.fhirRetries });
}
