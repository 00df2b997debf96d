// The offer examples of examples/offers/ (each must be accepted) and examples/offers/invalid/ (each with the
// issues it must produce), for the offer tests.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import type { Offer, OfferIssue } from '../../../src/model/offer.ts';

const EXAMPLES = new URL('../../../examples/offers/', import.meta.url);

export interface InvalidExample {
  readonly file: string;
  readonly description: string;
  readonly expect: { readonly status: 400 | 422; readonly issues: readonly Pick<OfferIssue, 'severity' | 'code' | 'field'>[] };
  readonly offer: unknown;
}

function jsonFiles(dir: URL): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export const examples: readonly { readonly file: string; readonly offer: Offer }[] = jsonFiles(EXAMPLES).map((file) => ({
  file,
  offer: JSON.parse(readFileSync(new URL(file, EXAMPLES), 'utf8')) as Offer,
}));

const INVALID = new URL('invalid/', EXAMPLES);
export const invalidExamples: readonly InvalidExample[] = jsonFiles(INVALID).map((file) => ({
  file,
  ...(JSON.parse(readFileSync(new URL(file, INVALID), 'utf8')) as Omit<InvalidExample, 'file'>),
}));

export function example(name: string): Offer {
  const found = examples.find((e) => e.file === `${name}.json`);
  if (found === undefined) throw new Error(`no example ${name}`);
  return structuredClone(found.offer);
}

export const NOW = '2025-03-04T09:30:00+01:00';

export function resources(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [e.resource]));
}

export function only<T extends Resource['resourceType']>(bundle: Bundle, type: T): Extract<Resource, { resourceType: T }>[] {
  return resources(bundle).filter((r): r is Extract<Resource, { resourceType: T }> => r.resourceType === type);
}

/**
 * The transaction as a server would give it back to a search: ids assigned, urn:uuid references rewritten
 * to `Type/id`, absolute fullUrls, a searchset, entries in another order.
 */
export function asSearchResult(bundle: Bundle, base = 'https://hapi.example/fhir'): Bundle {
  const ids = new Map<string, string>();
  (bundle.entry ?? []).forEach((e, index) => {
    if (e.fullUrl !== undefined && e.resource !== undefined) ids.set(e.fullUrl, `${e.resource.resourceType}/${1000 + index}`);
  });
  const text = JSON.stringify(bundle).replace(/"reference":"(urn:uuid:[^"]+)"/g, (whole, urn: string) => {
    const id = ids.get(urn);
    return id === undefined ? whole : `"reference":"${id}"`;
  });
  const rewritten = JSON.parse(text) as Bundle;
  const entry: BundleEntry[] = (rewritten.entry ?? []).flatMap((e) => {
    if (e.resource === undefined || e.fullUrl === undefined) return [];
    const id = ids.get(e.fullUrl) ?? '';
    const resource = { ...e.resource, id: id.split('/')[1], meta: { ...e.resource.meta, versionId: '1', lastUpdated: '2025-03-04T08:30:00.000+00:00' } };
    return [{ fullUrl: `${base}/${id}`, resource, search: { mode: resource.resourceType === 'HealthcareService' ? 'match' : 'include' } }];
  });
  entry.reverse();
  return { resourceType: 'Bundle', type: 'searchset', total: 1, entry };
}
