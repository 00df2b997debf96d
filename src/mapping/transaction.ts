// The kit acts' transaction Bundles are made of: conditional writes on a business identifier, each
// under a fullUrl derived from its conditional URL, so that the same resource has the same urn:uuid in
// every Bundle (and a merge of Bundles writes it once).
import type { Bundle, BundleEntry, Reference, Resource } from '@medplum/fhirtypes';
import { identifierQuery, stableUuid } from './keys.ts';

/**
 * A reference that fits every typed Reference<T> slot: medplum types narrow `resource`, which we never
 * fill (the reference is a urn:uuid, a Type/id or a logical identifier).
 */
export type Ref = Reference<never>;

export type Method = 'PUT' | 'POST';

export interface Write {
  readonly fullUrl: string;
  readonly resource: Resource;
  readonly method: Method;
  /** PUT: `Type?identifier=…`; POST: the ifNoneExist query. */
  readonly query: string;
}

export function put(resource: Resource, identifier: { system: string; value: string }): Write {
  const query = identifierQuery(identifier.system, identifier.value);
  return { fullUrl: stableUuid(`${resource.resourceType}?${query}`), resource, method: 'PUT', query };
}

export function createOnce(resource: Resource, query: string): Write {
  return { fullUrl: stableUuid(`${resource.resourceType}?${query}`), resource, method: 'POST', query };
}

export function entryOf(write: Write): BundleEntry {
  const type = write.resource.resourceType;
  return {
    fullUrl: write.fullUrl,
    resource: write.resource,
    request: write.method === 'PUT' ? { method: 'PUT', url: `${type}?${write.query}` } : { method: 'POST', url: type, ifNoneExist: write.query },
  };
}

export function ref(write: Write, display?: string): Ref {
  const reference: Ref = { reference: write.fullUrl, type: write.resource.resourceType };
  if (display !== undefined) reference.display = display;
  return reference;
}

/** A stored resource prepared for a conditional rewrite: server-assigned fields dropped. */
export function rewritable<T extends Resource>(stored: T): T {
  const copy = structuredClone(stored);
  delete copy.id;
  // The tags stay: they carry meaning (an Encounter's care structures decide who may read the act).
  if (copy.meta !== undefined) {
    const { profile, tag } = copy.meta;
    copy.meta = { ...(profile === undefined ? {} : { profile }), ...(tag === undefined || tag.length === 0 ? {} : { tag }) };
  }
  if (copy.meta !== undefined && Object.keys(copy.meta).length === 0) delete copy.meta;
  return copy;
}

export function bundleOf(writes: readonly Write[], deletes: readonly string[] = []): Bundle {
  const entry = writes.map(entryOf);
  for (const url of deletes) entry.push({ request: { method: 'DELETE', url } });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** Where each entry of a merged transaction's parts went: `positions[part][entry]` = index in the merged Bundle. */
export interface MergedTransaction {
  readonly bundle: Bundle;
  readonly positions: readonly (readonly number[])[];
}

/**
 * Several transactions as one. An entry is known by its fullUrl (derived from its conditional URL: the
 * same Organization, Practitioner or Patient has the same urn:uuid in every act), else by its request
 * (a conditional DELETE); each is written once, and every part's references, being the same urn:uuid,
 * point at that one entry. A later part's content wins, as it would had the parts been sent one after
 * the other; entries keep the place where they first appear.
 */
export function mergeTransactionBundles(parts: readonly Bundle[]): MergedTransaction {
  const indexOf = new Map<string, number>();
  const entries: BundleEntry[] = [];
  const positions = parts.map((part) =>
    (part.entry ?? []).map((entry) => {
      const key = entry.fullUrl ?? `${entry.request?.method ?? ''} ${entry.request?.url ?? ''}`;
      const known = indexOf.get(key);
      if (known !== undefined) {
        entries[known] = entry;
        return known;
      }
      indexOf.set(key, entries.length);
      entries.push(entry);
      return entries.length - 1;
    }),
  );
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, positions };
}
