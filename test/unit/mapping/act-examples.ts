// The act examples of examples/acts, read once for the act tests, and a tiny stand-in for a FHIR store
// that assigns ids to a transaction's entries (what actFromFhir and the amendment functions read back).
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Act } from '../../../src/model/act.ts';

const dir = fileURLToPath(new URL('../../../examples/acts/', import.meta.url));

export const RECEIVED_AT = '2025-06-15T08:00:00+02:00';

export const exampleFiles: readonly string[] = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

export function example(prefix: string): Act {
  const file = exampleFiles.find((f) => f.startsWith(prefix));
  if (file === undefined) throw new Error(`no example ${prefix}`);
  return JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as Act;
}

export function exampleBody(file: string, sub = ''): unknown {
  return JSON.parse(readFileSync(`${dir}${sub}${file}`, 'utf8'));
}

export const invalidExpectations = JSON.parse(readFileSync(`${dir}invalid/expected.json`, 'utf8')) as Record<string, { status: number; codes: string[] }>;

/**
 * The resources as a server would hold them after the transaction: each entry gets an id, and every
 * urn:uuid reference becomes Type/id. Entries without a resource (deletes) are skipped. `previous`
 * resources keep their ids and are replaced by entries that carry the same first identifier.
 */
export function stored(bundle: Bundle, previous: readonly Resource[] = []): Resource[] {
  const ids = new Map<string, string>();
  const out = new Map<string, Resource>();
  const keyOf = (r: Resource) => {
    const id = (r as { identifier?: { system?: string; value?: string }[] }).identifier?.[0];
    return `${r.resourceType}|${id?.system ?? ''}|${id?.value ?? r.id ?? ''}`;
  };
  for (const r of previous) out.set(keyOf(r), r);
  (bundle.entry ?? []).forEach((entry, i) => {
    if (entry.resource === undefined || entry.fullUrl === undefined) return;
    const existing = out.get(keyOf(entry.resource));
    const id = existing?.id ?? `${entry.resource.resourceType.toLowerCase()}-${i}`;
    ids.set(entry.fullUrl, `${entry.resource.resourceType}/${id}`);
  });
  let text = JSON.stringify(bundle);
  for (const [fullUrl, ref] of ids) text = text.split(`"${fullUrl}"`).join(`"${ref}"`);
  const resolved = JSON.parse(text) as Bundle;
  for (const entry of resolved.entry ?? []) {
    if (entry.resource === undefined || entry.fullUrl === undefined) continue;
    const id = entry.fullUrl.split('/')[1] ?? '';
    const key = keyOf(entry.resource);
    // A conditional create that matches keeps what is stored (Practitioner, Organization, Provenance).
    if (entry.request?.method === 'POST' && out.has(key) && entry.resource.resourceType !== 'Provenance') continue;
    out.set(entry.resource.resourceType === 'Provenance' ? `${key}|${id}` : key, { ...entry.resource, id });
  }
  return [...out.values()];
}

/** The value, or a failed test when the example lacks it. */
export function must<T>(value: T | undefined, what = 'value'): T {
  if (value === undefined) throw new Error(`example without ${what}`);
  return value;
}
