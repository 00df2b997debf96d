// Bulk import throughput into HAPI (issue 8), three measurements in the same run, each on offers of its
// own (fresh seed: new offers, structures and professionals, so every one is a creation):
//   engine   importOffers as `telesante offers import` runs it (validation, one search per batch,
//            mapping, merge, gate, K transactions in flight)
//   naive    one transaction per offer (its own Bundle: Organization, Location, HealthcareService,
//            Practitioners, roles), one after the other: a client posting offer by offer
//   ceiling  the same merged transaction Bundles as the engine's, built before the clock starts, posted
//            straight to HAPI with the same concurrency: what HAPI takes at best
//   sh scripts/node.sh bench/import.ts [count=100000] [batchSize=50] [concurrency=4] [naiveCount=count/10]
// FHIR_BASE_URL (default http://127.0.0.1:8080/fhir). Not part of CI: it writes into that server.
import type { Bundle } from '@medplum/fhirtypes';
import { FhirStoreError, HapiStore } from '../src/fhir/index.ts';
import { createValidator } from '../src/fhir/validation/index.ts';
import { toOfferBundle } from '../src/mapping/index.ts';
import { generateOffers, importOffers, mergeTransactions } from '../src/peuplement/index.ts';
import type { ImportRecord } from '../src/peuplement/index.ts';

const count = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? 50);
const concurrency = Number(process.argv[4] ?? 4);
const naiveCount = Number(process.argv[5] ?? Math.max(50, Math.round(count / 10)));
const baseUrl = (process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir').replace(/\/+$/, '');
const store = new HapiStore({ baseUrl, timeoutMs: 300_000, retries: 2 });
const validator = await createValidator();
const seed = Date.now() % 100_000_000;
const run = Date.now().toString(36);

async function* records(n: number, s: number, prefix: string): AsyncGenerator<ImportRecord> {
  let line = 0;
  for (const offer of generateOffers(n, { seed: s, prefix })) {
    const text = JSON.stringify(offer);
    yield { line: ++line, text, body: JSON.parse(text) as unknown };
  }
}

async function engine(): Promise<number> {
  const t0 = performance.now();
  const result = await importOffers(records(count, seed, `BE${run}`), { store, validator, batchSize, concurrency });
  const seconds = (performance.now() - t0) / 1000;
  if (result.status !== 'done' || result.counts.imported !== count) throw new Error(`engine: ${result.status} ${JSON.stringify(result.counts)} ${result.error?.message ?? ''}`);
  return count / seconds;
}

async function naive(): Promise<number> {
  const t0 = performance.now();
  for (const offer of generateOffers(naiveCount, { seed: seed + 1, prefix: `BN${run}` })) {
    await store.transaction(toOfferBundle(offer, { now: new Date().toISOString() }));
  }
  return naiveCount / ((performance.now() - t0) / 1000);
}

// Two batches in flight may both create one shared Organization: HAPI refuses the second (409, its
// unique index on conditional URLs) and the transaction is sent again, as the engine does.
async function post(bundle: Bundle): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await store.transaction(bundle);
      return;
    } catch (error) {
      if (!(error instanceof FhirStoreError) || !error.transient || attempt >= 6) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

async function ceiling(): Promise<number> {
  const bundles: Bundle[] = [];
  const offers = [...generateOffers(count, { seed: seed + 2, prefix: `BC${run}` })];
  const now = new Date().toISOString();
  for (let i = 0; i < offers.length; i += batchSize) bundles.push(mergeTransactions(offers.slice(i, i + batchSize).map((o) => toOfferBundle(o, { now }))));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < bundles.length; i = next++) await post(bundles[i] as Bundle);
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

console.log(`HAPI ${baseUrl}; ${count} offers per measurement (naive: ${naiveCount}); batch ${batchSize}, concurrency ${concurrency}; seed ${seed}`);
const ceilingRate = await ceiling();
console.log(`ceiling  (pre-built merged Bundles, K=${concurrency})  ${ceilingRate.toFixed(1).padStart(7)} offers/s`);
const naiveRate = await naive();
console.log(`naive    (one transaction per offer, sequential)  ${naiveRate.toFixed(1).padStart(7)} offers/s`);
const engineRate = await engine();
console.log(`engine   (telesante offers import)                ${engineRate.toFixed(1).padStart(7)} offers/s`);
console.log(`\nengine / naive = ${(engineRate / naiveRate).toFixed(1)}x (target >= 10x); engine / ceiling = ${((engineRate / ceilingRate) * 100).toFixed(0)} % (target >= 85 %)`);
