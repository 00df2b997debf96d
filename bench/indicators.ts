// Time to compute every roadmap indicator for a year of generated acts (issue 10), against the time of
// the cheapest thing that touches every act: one plain search of all the year's Encounters, page by
// page (the floor any "load everything and count in memory" approach pays before counting anything).
//   sh scripts/node.sh bench/indicators.ts [acts=2000] [seed=1] [actsPerTransaction=200] [concurrency=2]
//   FHIR_BASE_URL=http://127.0.0.1:8080/fhir sh scripts/node.sh bench/indicators.ts 5000
//   FHIR_BASE_URL=… INDICATORS_YEAR=1880 sh scripts/node.sh bench/indicators.ts 100000   (that year, already loaded)
// Loading is not timed with the indicators (it prints its own rate): the acts go through the mapping
// (toActBundle, as the delivery worker does), several acts per transaction with their shared
// Organizations, Practitioners, roles and Patients written once (see mergeActBundles), in a year of their
// own per run on HAPI so that runs never mix. On the local HAPI, the database's statistics are then
// refreshed (docker/hapi/hapi.sh analyze), as autovacuum would do on a server where it is on. Then, timed
// one after the other on the same data: the baseline, the indicators overall, by department, by structure.
import type { Bundle, BundleEntry, Encounter } from '@medplum/fhirtypes';
import { EmbeddedStore, FhirStoreError, HapiStore } from '../src/fhir/index.ts';
import type { FhirStore } from '../src/fhir/index.ts';
import { computeIndicators } from '../src/indicators/index.ts';
import type { IndicatorQuery, IndicatorReport } from '../src/indicators/index.ts';
import { toActBundle } from '../src/mapping/act.ts';
import { generateActs } from '../src/synthetic/index.ts';
import { analyzeLocalHapi } from './local-hapi.ts';

const COUNT = Number(process.argv[2] ?? 2000);
const SEED = Number(process.argv[3] ?? 1);
const PER_TRANSACTION = Number(process.argv[4] ?? 200);
const baseUrl = process.env.FHIR_BASE_URL;
const store: FhirStore = baseUrl === undefined ? new EmbeddedStore() : new HapiStore({ baseUrl, timeoutMs: 300_000, retries: 2 });
const CONCURRENCY = Number(process.argv[5] ?? (store.kind === 'hapi' ? 2 : 1));
const prefix = `BENCH${Date.now().toString(36)}`;

/**
 * A year of 1800–1899 without any finished act on a shared server (from the clock, then the next free
 * one), so that runs never mix. Finished only: a planned act has no end, and its period meets every
 * later year.
 */
async function freeYear(): Promise<number> {
  if (baseUrl === undefined) return 2025;
  const first = Math.floor(Date.now() / 1000) % 100;
  for (let i = 0; i < 100; i++) {
    const year = 1800 + ((first + i) % 100);
    if ((await store.count('Encounter', { status: 'finished', date: [`ge${year}-01-01`, `lt${year + 1}-01-01`] })) === 0) return year;
  }
  throw new Error('no free year left in 1800–1899 on this server: use a fresh database');
}
const loadedYear = process.env.INDICATORS_YEAR === undefined ? undefined : Number(process.env.INDICATORS_YEAR);
const year = loadedYear ?? (await freeYear());

// The resources of the act itself (Encounter, Consent, report, incidents, Provenance…) carry identifiers
// made from the act id, new in every run (prefix): they are created without the lookup a conditional
// write makes first. The stored data is the same; only the shared resources need their conditions.
const SHARED_TYPES = new Set(['Organization', 'Practitioner', 'PractitionerRole', 'Patient']);

function plainCreate(entry: BundleEntry): BundleEntry {
  const type = entry.resource?.resourceType;
  if (type === undefined || SHARED_TYPES.has(type)) return entry;
  return { ...entry, request: { method: 'POST', url: type } };
}

/**
 * Several acts' transactions as one. An act's Bundle writes its Organizations, Practitioners (conditional
 * creates), roles and Patient (conditional updates) under a fullUrl derived from their business
 * identifier (mapping/act-coding.ts stableUuid): the same resource has the same fullUrl in every act, and
 * HAPI refuses the same conditional create twice in one transaction. One entry per fullUrl, in the place
 * it first appears, with the last act's content (as if the acts had been sent one after the other).
 * src/peuplement/merge.ts keys on the request URL, which for a conditional create is only the type.
 */
function mergeActBundles(bundles: readonly Bundle[]): Bundle {
  const byFullUrl = new Map<string, BundleEntry>();
  for (const bundle of bundles) for (const entry of bundle.entry ?? []) byFullUrl.set(entry.fullUrl ?? `#${byFullUrl.size}`, plainCreate(entry));
  return { resourceType: 'Bundle', type: 'transaction', entry: [...byFullUrl.values()] };
}

/** The acts, PER_TRANSACTION at a time, built as they are sent (a year of 100,000 acts is not held in memory). */
function* batchesOfActs(): Generator<Bundle> {
  let pending: Bundle[] = [];
  for (const act of generateActs({ count: COUNT, seed: SEED, year, idPrefix: prefix })) {
    pending.push(toActBundle(act, { receivedAt: '2026-01-01T00:00:00Z' }).bundle);
    if (pending.length === PER_TRANSACTION) {
      yield mergeActBundles(pending);
      pending = [];
    }
  }
  if (pending.length > 0) yield mergeActBundles(pending);
}

async function load(): Promise<number> {
  const batches = batchesOfActs();
  const t0 = performance.now();
  let loaded = 0;
  let reported = t0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    for (let next = batches.next(); next.done !== true; next = batches.next()) {
      // HAPI answers 409 when two transactions create the same Organization or Practitioner at once: retry.
      for (let attempt = 1; ; attempt++) {
        try {
          await store.transaction(next.value);
          break;
        } catch (error) {
          if (!(error instanceof FhirStoreError && error.kind === 'conflict') || attempt >= 5) throw error;
        }
      }
      loaded += PER_TRANSACTION;
      if (performance.now() - reported > 60_000) {
        reported = performance.now();
        console.log(`loading: ${Math.min(loaded, COUNT)}/${COUNT} acts, ${((Math.min(loaded, COUNT) * 1000) / (reported - t0)).toFixed(1)} acts/s`);
      }
    }
  });
  await Promise.all(workers);
  return performance.now() - t0;
}

if (loadedYear === undefined) {
  const loadMs = await load();
  console.log(
    `store: ${store.location}; ${COUNT} acts of ${year} loaded in ${(loadMs / 1000).toFixed(1)} s: ${((COUNT * 1000) / loadMs).toFixed(1)} acts/s ` +
      `(${PER_TRANSACTION} acts per transaction, ${CONCURRENCY} at once; not timed below)`,
  );
  analyzeLocalHapi(baseUrl);
} else {
  console.log(`store: ${store.location}; measuring the acts of ${year} already loaded`);
}

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
console.log(`baseline: one paged search of the year's ${seen} Encounters: ${(baselineMs / 1000).toFixed(2)} s`);

async function timed(name: string, query: IndicatorQuery): Promise<IndicatorReport> {
  const t0 = performance.now();
  const report = await computeIndicators(store, query);
  const ms = performance.now() - t0;
  const groups = report.groupBy === 'none' ? '' : `, ${report.groups.length} groups`;
  console.log(
    `indicators, ${name}: ${(ms / 1000).toFixed(2)} s, ${report.cost.searches} searches${groups}, ${report.overall.acts} finished acts — ` +
      `ratio ${(ms / baselineMs).toFixed(2)}× the baseline`,
  );
  return report;
}

const overall = await timed('overall (12 months)', period);
const byDepartment = await timed('overall + by department', { ...period, groupBy: 'department' });
const byStructure = await timed('overall + by structure', { ...period, groupBy: 'structure' });
// The three computations must agree: a faster grouping that changed the figures would be no gain.
const sum = (report: IndicatorReport) => report.groups.reduce((n, g) => n + g.indicators.acts, 0);
const same = [byDepartment, byStructure].every((r) => JSON.stringify(r.overall) === JSON.stringify(overall.overall));
if (!same || sum(byDepartment) !== overall.overall.acts || sum(byStructure) !== overall.overall.acts) {
  console.error(`MISMATCH: ${overall.overall.acts} acts overall, ${sum(byDepartment)} summed by department, ${sum(byStructure)} by structure`);
  process.exitCode = 1;
}
await store.close();
