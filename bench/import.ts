// Bulk import throughput into HAPI (issue 8). Every measurement runs in the same process against the same
// server, on generated offers of its own (a fresh seed and prefix: new offers, structures and
// professionals, so every write is a creation, as in a first peuplement):
//   naive    what a script without batching does: each resource of each offer sent as its own request
//            (a conditional PUT per Organization, Location, HealthcareService, Practitioner and role,
//            references rewritten to the ids the server gave), one request after the other
//   ceiling  the engine's own merged transaction Bundles, built and validated before the clock starts,
//            posted straight to HAPI with K in flight, for each K: the best of them is what HAPI takes
//            at best with that batching
//   engine   importOffers as `telesante offers import` runs it (rules, one search per batch, mapping,
//            merge, validation gate, K transactions in flight), for each batch size and K asked
//
//   sh scripts/node.sh bench/import.ts [count=2000] [batchSizes=50] [concurrencies=4] [naiveCount=count/10]
//   e.g. a sweep: sh scripts/node.sh bench/import.ts 1000 25,50,100,200 2,4,8
// Before anything is timed, a warm-up runs each kind of write on a few offers, so that no measurement
// pays for the JVM's warm-up (HAPI just started is several times slower). FHIR_BASE_URL (default
// http://127.0.0.1:8080/fhir). Not part of CI: it writes into that server.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { asStored, FhirStoreError, HapiStore } from '../src/fhir/index.ts';
import { createValidator } from '../src/fhir/validation/index.ts';
import { mergeTransactionBundles, toOfferBundle } from '../src/mapping/index.ts';
import { importOffers } from '../src/import/index.ts';
import { generateOffers } from '../src/synthetic/index.ts';
import type { ImportRecord } from '../src/import/index.ts';
import { cpuSnapshot, describeCpu, hapiPidFor } from './cpu.ts';
import { analyzeLocalHapi } from './local-hapi.ts';

const list = (text: string | undefined, fallback: number): number[] => (text === undefined ? [fallback] : text.split(',').map(Number));
const count = Number(process.argv[2] ?? 2000);
const batchSizes = list(process.argv[3], 50);
const concurrencies = list(process.argv[4], 4);
const naiveCount = Number(process.argv[5] ?? Math.max(50, Math.round(count / 10)));
const baseUrl = (process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir').replace(/\/+$/, '');
const hapiPid = hapiPidFor(baseUrl);
const store = new HapiStore({ baseUrl, timeoutMs: 300_000, retries: 2 });
const validator = await createValidator();
const run = Date.now().toString(36);
let seed = Date.now() % 100_000_000;
let measurement = 0;
/** Offers no other measurement of any run has written. */
const freshOffers = (n: number) => generateOffers(n, { seed: seed++, prefix: `B${run}${measurement++}` });

async function* records(n: number): AsyncGenerator<ImportRecord> {
  let line = 0;
  for (const offer of freshOffers(n)) {
    const text = JSON.stringify(offer);
    yield { line: ++line, text, body: JSON.parse(text) as unknown };
  }
}

/** A measurement: offers per second, and where the CPU went meanwhile. */
interface Measured {
  readonly rate: number;
  readonly cpu: string;
}

async function timed(n: number, work: () => Promise<void>): Promise<Measured> {
  const before = cpuSnapshot(hapiPid);
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  return { rate: n / seconds, cpu: describeCpu(before, cpuSnapshot(hapiPid), n) };
}

function engine(n: number, batchSize: number, concurrency: number): Promise<Measured> {
  return timed(n, async () => {
    const result = await importOffers(records(n), { store, validator, batchSize, concurrency });
    if (result.status !== 'done' || result.counts.imported !== n) throw new Error(`engine: ${result.status} ${JSON.stringify(result.counts)} ${result.error?.message ?? ''}`);
  });
}

/** One request per resource, in the Bundle's order (targets before the resources that point at them). */
function naive(n: number): Promise<Measured> {
  return timed(n, async () => {
    for (const offer of freshOffers(n)) {
      const serverIds = new Map<string, string>();
      for (const entry of toOfferBundle(offer, { now: new Date().toISOString() }).entry ?? []) {
        const body = JSON.stringify(entry.resource).replace(/"urn:uuid:[0-9a-f-]+"/g, (urn) => {
          const id = serverIds.get(urn.slice(1, -1));
          if (id === undefined) throw new Error(`naive: ${urn} is referenced before it is written`);
          return JSON.stringify(id);
        });
        const response = await fetch(`${baseUrl}/${entry.request?.url ?? ''}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body });
        const stored = (await response.json()) as Resource;
        if (!response.ok || stored.id === undefined) throw new Error(`naive: ${response.status} ${JSON.stringify(stored).slice(0, 300)}`);
        serverIds.set(entry.fullUrl ?? '', `${stored.resourceType}/${stored.id}`);
      }
    }
  });
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
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

async function ceiling(n: number, batchSize: number, concurrency: number): Promise<Measured> {
  const bundles: Bundle[] = [];
  const offers = [...freshOffers(n)];
  const now = new Date();
  for (let i = 0; i < offers.length; i += batchSize) {
    const bundle = mergeTransactionBundles(offers.slice(i, i + batchSize).map((o) => toOfferBundle(o, { now: now.toISOString() }))).bundle;
    if (validator.validate(asStored(bundle, now)).some((issue) => issue.severity === 'error')) throw new Error('ceiling: a generated batch fails the gate');
    bundles.push(bundle);
  }
  let next = 0;
  return timed(n, async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < bundles.length; i = next++) await post(bundles[i] as Bundle);
      }),
    );
  });
}

// Warm-up, not timed: the naive requests, merged transactions and the engine's searches and writes.
// A HAPI just started runs its per-request path several times slower until the JIT has compiled it:
// some 2,000 naive requests first (after 20 offers only, HAPI spent 60 ms of CPU per naive offer, against
// 25 ms once warm).
await naive(200);
await ceiling(100, 50, 4);
await engine(100, 50, 4);
// Each measurement adds its writes to the tables; their statistics are refreshed before the next one.
analyzeLocalHapi(baseUrl);

const rate = (value: number) => `${value.toFixed(1).padStart(7)} offers/s`;
const cpuLine = (m: Measured) => `${''.padEnd(54)}${m.cpu}`;
console.log(`HAPI ${baseUrl}${hapiPid === undefined ? ' (its process not found: no HAPI CPU)' : ` (pid ${hapiPid})`}; ${count} offers per measurement (naive: ${naiveCount}); batch sizes ${batchSizes.join(',')}; K ${concurrencies.join(',')}`);
const naiveRun = await naive(naiveCount);
console.log(`naive    (one request per resource, sequential)      ${rate(naiveRun.rate)}`);
console.log(cpuLine(naiveRun));
analyzeLocalHapi(baseUrl);
// For each batch size, the ceiling and the engine one after the other at each K (so that both meet a
// database of about the same size); the ceiling of a batch size is the best of its K values: HAPI may
// take the same Bundles faster with fewer in flight.
for (const batchSize of batchSizes) {
  const ceilings: number[] = [];
  const engines: { concurrency: number; rate: number }[] = [];
  for (const concurrency of concurrencies) {
    const ceilingRun = await ceiling(count, batchSize, concurrency);
    console.log(`ceiling  (pre-built merged Bundles, B=${batchSize}, K=${concurrency})`.padEnd(54) + rate(ceilingRun.rate));
    console.log(cpuLine(ceilingRun));
    ceilings.push(ceilingRun.rate);
    analyzeLocalHapi(baseUrl);
    const engineRun = await engine(count, batchSize, concurrency);
    console.log(`engine   (telesante offers import, B=${batchSize}, K=${concurrency})`.padEnd(54) + rate(engineRun.rate));
    console.log(cpuLine(engineRun));
    engines.push({ concurrency, rate: engineRun.rate });
    analyzeLocalHapi(baseUrl);
  }
  const best = Math.max(...ceilings);
  for (const { concurrency, rate: engineRate } of engines) {
    console.log(
      `B=${batchSize} K=${concurrency}: engine ${engineRate.toFixed(1)} offers/s, ${(engineRate / naiveRun.rate).toFixed(1)}x naive (target >= 10x), ` +
        `${((engineRate / best) * 100).toFixed(0)} % of the ceiling ${best.toFixed(1)} (the best of K ${concurrencies.join(',')}; target >= 85 %)`,
    );
  }
}
