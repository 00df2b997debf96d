import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * What is about to be written, as the server will store it: the FHIR server sets `meta.lastUpdated` on
 * every write (the ROR profile requires it), so the validation gate checks the resources with it present.
 * What is sent is left without it, so that an unchanged resource stays a no-op update on the server.
 *
 * A new object for each resource (and a Bundle's entries), sharing everything else with `resource`:
 * the validation only reads it (test/unit/fhir/server-assigned.test.ts validates a frozen one), and a deep
 * copy of an act's Bundle cost ~0.1 ms an act for nothing.
 */
export function asStored<T extends Resource>(resource: T, now: Date): T {
  return stamped(resource, now.toISOString());
}

function stamped<T extends Resource>(resource: T, lastUpdated: string): T {
  const copy: T = { ...resource, meta: { ...resource.meta, lastUpdated: resource.meta?.lastUpdated ?? lastUpdated } };
  const entries = resource.resourceType === 'Bundle' ? (resource as Bundle).entry : undefined;
  if (entries !== undefined) {
    (copy as Bundle).entry = entries.map((entry) => (entry.resource === undefined ? entry : { ...entry, resource: stamped(entry.resource, lastUpdated) }));
  }
  return copy;
}
