// `--format fhir`: offers read from FHIR, as the ROR's FHIR API answers (a searchset Bundle of
// HealthcareServices with their Organization, Locations and PractitionerRoles included) or as NDJSON of
// those resources, one per line (a Bundle on a line counts for its entries). Each HealthcareService is one
// record; its "line" is its line in NDJSON, its entry number (1-based) in a Bundle. References cross
// lines, so the file is read whole before the first record: unlike CSV and NDJSON offers, its size is
// bounded by memory. What the offers cannot hold is told once per element, with how many offers had it.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { offersOfFhir } from '../mapping/index.ts';
import type { ImportRecord, ReadOptions } from './source.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text of the whole input, and its lines. */
async function textOf(lines: AsyncIterable<{ line: number; text: string }>): Promise<{ line: number; text: string }[]> {
  const out: { line: number; text: string }[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

export async function* fhirRecords(lines: AsyncIterable<{ line: number; text: string }>, options: ReadOptions): AsyncGenerator<ImportRecord> {
  const all = await textOf(lines);
  let whole: unknown;
  try {
    whole = JSON.parse(all.map((l) => l.text).join('\n'));
  } catch {
    whole = undefined;
  }
  // One JSON document: a Bundle (searchset, collection, transaction), records numbered by entry.
  const resources: Resource[] = [];
  const lineOf: number[] = [];
  if (isObject(whole) && whole.resourceType === 'Bundle') {
    const bundle = whole as unknown as Bundle;
    (bundle.entry ?? []).forEach((entry, i) => {
      if (entry.resource !== undefined) {
        resources.push(entry.resource);
        lineOf.push(i + 1);
      }
    });
  } else {
    for (const { line, text } of all) {
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        yield { line, text, unreadable: `pas une ressource FHIR en JSON : ${(error as Error).message}` };
        continue;
      }
      if (!isObject(value) || typeof value.resourceType !== 'string') {
        yield { line, text, unreadable: 'pas une ressource FHIR (resourceType manque)' };
        continue;
      }
      const found = value.resourceType === 'Bundle' ? ((value as unknown as Bundle).entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [e.resource])) : [value as unknown as Resource];
      for (const resource of found) {
        resources.push(resource);
        lineOf.push(line);
      }
    }
  }
  const notHeld = new Map<string, number>();
  for (const posted of offersOfFhir(resources)) {
    const service = resources[posted.position];
    const line = lineOf[posted.position] ?? 0;
    const text = JSON.stringify(service);
    for (const issue of posted.issues) {
      if (issue.severity !== 'warning') continue;
      const at = /^\[(\d+)\]\.(\w+)$/.exec(issue.field);
      const element = at === null ? issue.code : `${resources[Number(at[1])]?.resourceType ?? '?'}.${at[2] ?? ''}`;
      notHeld.set(element, (notHeld.get(element) ?? 0) + 1);
    }
    const errors = posted.issues.filter((i) => i.severity === 'error');
    if (posted.offer === undefined || errors.length > 0) {
      yield { line, text, unreadable: errors.map((e) => e.message).join(' ; ') };
    } else {
      yield { line, text, body: posted.offer };
    }
  }
  for (const [element, count] of notHeld) {
    options.onWarning?.('fhir-element-not-held', `${element} n'est pas repris dans les offres importées (${count} ressource(s) l'avaient)`);
  }
}
