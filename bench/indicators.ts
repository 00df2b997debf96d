// Time to compute every roadmap indicator for a year of generated acts (issue 10), against the time of
// the cheapest thing that touches every act: one plain search of all the year's Encounters, page by
// page (the floor any "load everything and count in memory" approach pays before counting anything).
//   sh scripts/node.sh bench/indicators.ts [acts, default 2000] [seed, default 1]
//   FHIR_BASE_URL=http://127.0.0.1:8080/fhir sh scripts/node.sh bench/indicators.ts 1000
// The acts are written straight through the mapping (toActBundle + one transaction each, as the delivery
// worker does), in a year of their own per run on HAPI so that runs never mix.
import type { Encounter } from '@medplum/fhirtypes';
import { EmbeddedStore, FhirStoreError, HapiStore } from '../src/fhir/index.ts';
import type { FhirStore } from '../src/fhir/index.ts';
import { computeIndicators } from '../src/indicators/index.ts';
import { toActBundle } from '../src/mapping/act.ts';
import { generateActs } from '../src/synthetic/acts.ts';

const COUNT = Number(process.argv[2] ?? 2000);
const SEED = Number(process.argv[3] ?? 1);
const baseUrl = process.env.FHIR_BASE_URL;
const store: FhirStore = baseUrl === undefined ? new EmbeddedStore() : new HapiStore({ baseUrl, timeoutMs: 300_000, retries: 2 });
// A year nobody else uses on a shared server: 1800–1899, from the clock.
const year = baseUrl === undefined ? 2025 : 1800 + (Math.floor(Date.now() / 1000) % 100);
const prefix = `BENCH${Date.now().toString(36)}`;

const t0 = performance.now();
const acts = [...generateActs({ count: COUNT, seed: SEED, year, idPrefix: prefix })];
let next = 0;
const workers = Array.from({ length: store.kind === 'hapi' ? 4 : 1 }, async () => {
  for (let i = next++; i < acts.length; i = next++) {
    const act = acts[i];
    if (act === undefined) continue;
    const bundle = toActBundle(act, { receivedAt: '2026-01-01T00:00:00Z' }).bundle;
    // HAPI answers 409 when two transactions create the same Organization or Practitioner at once: retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await store.transaction(bundle);
        break;
      } catch (error) {
        if (!(error instanceof FhirStoreError && error.kind === 'conflict') || attempt >= 5) throw error;
      }
    }
  }
});
await Promise.all(workers);
const loadMs = performance.now() - t0;
console.log(`store: ${store.location}; ${COUNT} acts of ${year} loaded in ${(loadMs / 1000).toFixed(1)} s (${((COUNT * 1000) / loadMs).toFixed(1)} acts/s)`);

const period = { from: `${year}-01-01`, to: `${year + 1}-01-01` };

// Baseline: every Encounter of the year, 500 per page, as a loader-into-memory would start.
const b0 = performance.now();
let seen = 0;
for (let offset = 0; ; ) {
  const page = await store.search<Encounter>('Encounter', { date: [`ge${period.from}`, `lt${period.to}`], _count: '500', _offset: String(offset), _sort: '_id' });
  const n = page.entry?.length ?? 0;
  seen += n;
  offset += n;
  if (n === 0 || (page.total !== undefined && offset >= page.total)) break;
}
const baselineMs = performance.now() - b0;

const c0 = performance.now();
const overall = await computeIndicators(store, period);
const overallMs = performance.now() - c0;
const d0 = performance.now();
const byDepartment = await computeIndicators(store, { ...period, groupBy: 'department' });
const departmentMs = performance.now() - d0;

console.log(`baseline: one paged search of the year's ${seen} Encounters: ${(baselineMs / 1000).toFixed(2)} s`);
console.log(`indicators, overall (12 months): ${(overallMs / 1000).toFixed(2)} s, ${overall.cost.searches} searches, ${overall.overall.acts} finished acts — ratio ${(overallMs / baselineMs).toFixed(2)}× the baseline`);
console.log(`indicators, overall + ${byDepartment.groups.length} departments: ${(departmentMs / 1000).toFixed(2)} s, ${byDepartment.cost.searches} searches — ratio ${(departmentMs / baselineMs).toFixed(2)}× the baseline`);
await store.close();
