import type { Bundle, Resource } from '@medplum/fhirtypes';

// Small readings of FHIR answers, shared by the routes and the writes.

/** `a=1&b=2&b=3` → `{ a: ['1'], b: ['2', '3'] }`, for the store's search parameters. */
export function paramsOfQuery(query: string): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) (params[name] ??= []).push(value);
  return params;
}

export function resourcesOf(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

/** The `Type/id` of every resource a transaction wrote, without the version. */
export function referencesOf(response: Bundle): string[] {
  return (response.entry ?? []).flatMap((entry) => {
    const location = entry.response?.location;
    return location ? [location.replace(/\/_history\/.*$/, '')] : [];
  });
}
