// Many offers' transactions as one. Each offer's Bundle writes its neighbours by conditional update on
// their business identifier, under a fullUrl derived from that conditional URL (mapping/offer.ts): the
// same Organization, Location (site FINESS) or Practitioner has the same URL and the same urn:uuid in
// every offer. Merging keeps one entry per URL, so that a batch writes each shared resource once, and the
// references of every offer, being the same urn:uuid, point at that one entry.
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';

function keyOf(entry: BundleEntry): string {
  return `${entry.request?.method ?? ''} ${entry.request?.url ?? entry.fullUrl ?? ''}`;
}

/**
 * One transaction holding every entry of the given ones, each conditional write once. When two offers
 * describe the same shared resource differently (two spellings of a structure's name), the later offer
 * wins, as it would had they been sent one after the other. Entries keep the order in which they first
 * appear (Organizations before what refers to them, as in each offer's Bundle).
 */
export function mergeTransactions(bundles: readonly Bundle[]): Bundle {
  const byKey = new Map<string, BundleEntry>();
  for (const bundle of bundles) {
    for (const entry of bundle.entry ?? []) {
      const key = keyOf(entry);
      // Map.set on an existing key keeps its position: first place, last content.
      byKey.set(key, entry);
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: [...byKey.values()] };
}
