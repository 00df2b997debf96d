// `telesante offers import --format fhir`: a ROR searchset, or NDJSON of FHIR resources, read into one
// record per HealthcareService.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Bundle, HealthcareService } from '@medplum/fhirtypes';
import t from 'tap';
import { recordsOf } from '../../../src/import/index.ts';
import type { ImportRecord } from '../../../src/import/index.ts';
import { normalizeOffer, toOfferBundle } from '../../../src/mapping/index.ts';
import { asSearchResult, examples, NOW } from '../mapping/offer-examples.ts';

async function read(text: string, onWarning?: (code: string, message: string) => void): Promise<ImportRecord[]> {
  const out: ImportRecord[] = [];
  for await (const record of recordsOf(Readable.from([Buffer.from(text)]), 'fhir', onWarning === undefined ? {} : { onWarning })) out.push(record);
  return out;
}

/** A searchset as the ROR's FHIR API answers: each HealthcareService with what it references, ids per offer. */
function searchset(): Bundle {
  const entry = examples.flatMap(({ offer }, n) =>
    (asSearchResult(toOfferBundle(offer, { now: NOW }), `https://ror.example/fhir/o${n}`).entry ?? []).map((e) => {
      const resource = e.resource;
      if (resource === undefined) return e;
      // Ids unique across offers, as one server's would be.
      const text = JSON.stringify(resource).replace(/"reference":"([A-Za-z]+)\/(\d+)"/g, `"reference":"$1/${n}-$2"`);
      return { ...e, fullUrl: undefined, resource: { ...JSON.parse(text), id: `${n}-${resource.id ?? ''}` } };
    }),
  );
  return { resourceType: 'Bundle', type: 'searchset', entry };
}

t.test('a searchset Bundle: one record per HealthcareService, the offer as the JSON door takes it', async (t) => {
  const bundle = searchset();
  const records = await read(JSON.stringify(bundle, null, 2));
  t.equal(records.length, examples.length);
  records.forEach((record, i) => {
    t.same(record.body, normalizeOffer(examples[i]?.offer ?? ({} as never)), `${examples[i]?.file}: the offer`);
    t.equal(bundle.entry?.[record.line - 1]?.resource?.resourceType, 'HealthcareService', 'its line is its entry number');
  });
});

t.test('NDJSON of resources: a bad line is a rejected record at its line; elements not held are told once, counted', async (t) => {
  const bundle = searchset();
  const lines = (bundle.entry ?? []).map((e) => {
    const r = e.resource as HealthcareService;
    if (r.resourceType === 'HealthcareService') r.appointmentRequired = true;
    return JSON.stringify(r);
  });
  lines.splice(1, 0, '{"resourceType": "Organization", ');
  const warnings: string[] = [];
  const records = await read(lines.join('\n'), (_code, message) => warnings.push(message));
  t.same(records.filter((r) => r.unreadable !== undefined).map((r) => r.line), [2], 'the broken line');
  t.equal(records.filter((r) => r.body !== undefined).length, examples.length, 'every offer read');
  t.same(warnings, [`HealthcareService.appointmentRequired n'est pas repris dans les offres importées (${examples.length} ressource(s) l'avaient)`]);
  const unresolvable = await read(JSON.stringify({ resourceType: 'HealthcareService', identifier: [{ value: 'X' }] }));
  t.match(unresolvable, [{ line: 1, unreadable: /providedBy/ }], 'an offer without its organization: rejected, saying why');
});

t.test('telesante offers import --format fhir --dry-run reads a searchset file', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'cli-fhir-')), 'ror.json');
  writeFileSync(file, JSON.stringify(searchset()));
  const result = spawnSync(process.execPath, ['src/cli/main.ts', 'offers', 'import', file, '--format', 'fhir', '--dry-run', '--quiet'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 0, result.stderr);
  t.match(result.stderr, new RegExp(`${examples.length} offres valides, 0 rejetée\\(s\\)`));
});
