import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * A copy of what is about to be written, as the server will store it: the FHIR server sets
 * `meta.lastUpdated` on every write (the ROR profile requires it), so the validation gate checks the
 * resources with it present. What is sent is left without it, so that an unchanged resource stays a
 * no-op update on the server.
 */
export function asStored<T extends Resource>(resource: T, now: Date): T {
  const copy = structuredClone(resource);
  stamp(copy, now.toISOString());
  return copy;
}

function stamp(resource: Resource, lastUpdated: string): void {
  resource.meta = { ...resource.meta, lastUpdated: resource.meta?.lastUpdated ?? lastUpdated };
  if (resource.resourceType === 'Bundle') {
    for (const entry of (resource as Bundle).entry ?? []) {
      if (entry.resource) stamp(entry.resource, lastUpdated);
    }
  }
}
