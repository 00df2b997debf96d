// The indicators as GET /v1/indicators answers them (current period and the previous one, as the route
// computes both), timed through the app (fastify inject: routing, query, JSON), from:
// 1. the projection holding PROJECTED acts (default 1,000,000) over two years, generated straight into it
//    (facts of generated acts: no FHIR write), on 3,000 structures spread over every department;
// 2. the FHIR reference (?source=fhir) on REFERENCE acts (default 10,000) written to a FHIR store (the
//    embedded store, or HAPI with FHIR_BASE_URL), with the projection of the same acts rebuilt from that
//    store: both must agree figure by figure (the run fails otherwise), and their times give the ratio.
//   sh scripts/node.sh bench/indicators.ts [projected=1000000] [reference=10000] [runs=10]
//   FHIR_BASE_URL=http://127.0.0.1:8080/fhir sh scripts/node.sh bench/indicators.ts 1000000 10000
// Each timed query runs `runs` times; p95 is the nearest-rank 95th percentile (with 10 runs, the slowest).
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { EmbeddedStore, FhirStoreError, HapiStore } from '../src/fhir/index.ts';
import type { FhirStore } from '../src/fhir/index.ts';
import { createValidator } from '../src/fhir/validation/index.ts';
import { DEPARTMENTS, factOfAct, Projection } from '../src/indicators/index.ts';
import type { ActFact } from '../src/indicators/index.ts';
import { SqliteOutbox } from '../src/delivery/index.ts';
import { toActBundle } from '../src/mapping/act.ts';
import { withLuhnKey } from '../src/mapping/index.ts';
import { generateActs } from '../src/synthetic/index.ts';
import type { SyntheticStructure } from '../src/synthetic/index.ts';
import { analyzeLocalHapi } from './local-hapi.ts';

const PROJECTED = Number(process.argv[2] ?? 1_000_000);
const REFERENCE = Number(process.argv[3] ?? 10_000);
const RUNS = Number(process.argv[4] ?? 10);
const baseUrl = process.env.FHIR_BASE_URL;
const dir = mkdtempSync(join(tmpdir(), 'bench-indicators-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** 3,000 structures over every department, weighted as in src/synthetic (a CHU does more than an EHPAD). */
function nationalStructures(): SyntheticStructure[] {
  const departments = [...DEPARTMENTS.keys()];
  const weights = [12, 6, 3, 3, 1];
  return Array.from({ length: 3000 }, (_, i) => {
    const department = departments[i % departments.length] ?? '75';
    const serial = String(i).padStart(department.length === 3 ? 5 : 6, '0');
    return { finess: withLuhnKey(`${department}${serial}`), name: `Structure ${i} (${department}, fictive)`, department, weight: weights[i % weights.length] ?? 1 };
  });
}

const log = (line: string) => console.log(line);

// --- 1. the projection of PROJECTED acts -----------------------------------------------------------------

const projectionPath = join(dir, 'outbox.sqlite');
{
  const outbox = new SqliteOutbox(projectionPath);
  const projection = new Projection(outbox.database);
  const structures = nationalStructures();
  const t0 = performance.now();
  let batch: ActFact[] = [];
  let loaded = 0;
  for (const [year, share] of [[2024, 0.45], [2025, 0.55]] as const) {
    for (const act of generateActs({ count: Math.round(PROJECTED * share), seed: year, year, structures, idPrefix: `P${year}` })) {
      batch.push(factOfAct(act));
      if (batch.length === 20_000) {
        loaded += await projection.writeRebuilt({ acts: batch }, Number.MAX_SAFE_INTEGER);
        batch = [];
      }
    }
  }
  loaded += await projection.writeRebuilt({ acts: batch }, Number.MAX_SAFE_INTEGER);
  const database = outbox.database;
  if (database.kind === 'sqlite') database.db.exec('ANALYZE');
  await outbox.close();
  log(`projection: ${loaded} acts of 2024–2025 on ${structures.length} structures written in ${((performance.now() - t0) / 1000).toFixed(1)} s (SQLite, ${projectionPath}; not timed below)`);
}

const validator = await createValidator();
async function appOn(store: FhirStore, sqlitePath: string) {
  const app = await buildApp(loadConfig({ LOG_LEVEL: 'warn', DELIVERY_SQLITE_PATH: sqlitePath }), { store, validator, logStream: { write: () => undefined } });
  await app.ready();
  return app;
}
type App = Awaited<ReturnType<typeof appOn>>;

async function get(app: App, url: string): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  const answer = await app.inject({ method: 'GET', url });
  const ms = performance.now() - t0;
  if (answer.statusCode !== 200) throw new Error(`${url}: ${answer.statusCode} ${answer.body.slice(0, 300)}`);
  return { ms, body: answer.body };
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1] ?? Number.NaN;
}

async function timed(app: App, name: string, url: string, runs = RUNS): Promise<number> {
  const samples: number[] = [];
  let groups = 0;
  let acts = 0;
  for (let i = 0; i < runs; i++) {
    const { ms, body } = await get(app, url);
    samples.push(ms);
    const report = JSON.parse(body) as { overall: { acts: number }; groups: unknown[] };
    groups = report.groups.length;
    acts = report.overall.acts;
  }
  const median = [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? Number.NaN;
  log(`  ${name.padEnd(44)} p95 ${p95(samples).toFixed(0).padStart(6)} ms, median ${median.toFixed(0).padStart(6)} ms (${runs} runs; ${acts} acts, ${groups} groups)`);
  return p95(samples);
}

const year = '&from=2025-01-01&to=2026-01-01';
const QUERIES: readonly (readonly [string, string])[] = [
  ['overall, a year (+ the year before)', ''],
  ['by region', '&groupBy=region'],
  ['by department', '&groupBy=department'],
  ['by structure', '&groupBy=structure'],
  ['region 11, by department', '&groupBy=department&region=11'],
  ['department 69, by structure', '&groupBy=structure&department=69'],
  ['téléconsultations, by region', '&groupBy=region&type=teleconsultation'],
  ['acts with a nurse, by department', '&groupBy=department&profession=infirmier'],
  ['by profession', '&groupBy=specialty'],
];

const big = await appOn(new EmbeddedStore(), projectionPath);
log(`\nGET /v1/indicators from the projection of ${PROJECTED} acts (the year 2025 and, beside it, 2024):`);
const projectionP95 = new Map<string, number>();
for (const [name, query] of QUERIES) projectionP95.set(name, await timed(big, name, `/v1/indicators?${year.slice(1)}${query}`));
await big.close();

// --- 2. the FHIR reference on REFERENCE acts, and the projection of the same acts ------------------------

const store: FhirStore = baseUrl === undefined ? new EmbeddedStore() : new HapiStore({ baseUrl, timeoutMs: 600_000, retries: 2 });
const refYear = baseUrl === undefined ? 2025 : 1800 + (Math.floor(Date.now() / 1000) % 100);
const SHARED_TYPES = new Set(['Organization', 'Practitioner', 'PractitionerRole', 'Patient']);
/** Several acts' transactions as one, each shared resource once (see the history of this file for why). */
function merged(bundles: readonly Bundle[]): Bundle {
  const byFullUrl = new Map<string, BundleEntry>();
  for (const bundle of bundles) {
    for (const entry of bundle.entry ?? []) {
      const type = entry.resource?.resourceType;
      byFullUrl.set(entry.fullUrl ?? `#${byFullUrl.size}`, type === undefined || SHARED_TYPES.has(type) ? entry : { ...entry, request: { method: 'POST', url: type } });
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: [...byFullUrl.values()] };
}
{
  const t0 = performance.now();
  const prefix = `BENCHIND${Date.now().toString(36)}`;
  let pending: Bundle[] = [];
  const send = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await store.transaction(merged(pending));
        break;
      } catch (error) {
        if (!(error instanceof FhirStoreError && error.kind === 'conflict') || attempt >= 5) throw error;
      }
    }
    pending = [];
  };
  for (const act of generateActs({ count: REFERENCE, seed: 7, year: refYear, idPrefix: prefix })) {
    pending.push(toActBundle(act, { receivedAt: '2026-01-01T00:00:00Z' }).bundle);
    if (pending.length === 200) await send();
  }
  if (pending.length > 0) await send();
  log(`\nreference: ${REFERENCE} acts of ${refYear} written to ${store.location} in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed below)`);
  analyzeLocalHapi(baseUrl);
}
const small = await appOn(store, join(dir, 'reference.sqlite'));
{
  const t0 = performance.now();
  const started = await small.inject({ method: 'POST', url: '/v1/indicators/$rebuild' });
  if (started.statusCode !== 202) throw new Error(started.body);
  for (;;) {
    const state = (await small.inject({ method: 'GET', url: '/v1/indicators/$rebuild' })).json() as { running: boolean; error?: string; progress?: { written: number } };
    if (state.error !== undefined) throw new Error(state.error);
    if (!state.running) {
      log(`projection of the same acts rebuilt from the store in ${((performance.now() - t0) / 1000).toFixed(1)} s (${state.progress?.written ?? 0} facts)`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
const refPeriod = `from=${refYear}-01-01&to=${refYear + 1}-01-01`;
log(`\nthe same ${REFERENCE} acts, FHIR reference (?source=fhir) against the projection, and their agreement:`);
let disagreements = 0;
for (const [name, query] of QUERIES.slice(0, 4)) {
  const reference = await get(small, `/v1/indicators?${refPeriod}${query}&source=fhir`);
  const fromProjection = await get(small, `/v1/indicators?${refPeriod}${query}`);
  const strip = (body: string) => {
    const report = JSON.parse(body) as Record<string, unknown>;
    return JSON.stringify({ overall: report.overall, groups: report.groups, previous: report.previous });
  };
  const agree = strip(reference.body) === strip(fromProjection.body);
  if (!agree) disagreements += 1;
  const big95 = projectionP95.get(name) ?? Number.NaN;
  log(
    `  ${name.padEnd(44)} reference ${(reference.ms / 1000).toFixed(2).padStart(7)} s; projection ${fromProjection.ms.toFixed(0).padStart(5)} ms ` +
      `(${(reference.ms / fromProjection.ms).toFixed(0)}× faster); ${PROJECTED} acts in the projection: p95 ${big95.toFixed(0)} ms, ` +
      `${(reference.ms / big95).toFixed(1)}× faster than the reference on ${REFERENCE}; figures ${agree ? 'agree' : 'DISAGREE'}`,
  );
}
await small.close();
await store.close();
const slowest = Math.max(...projectionP95.values());
log(`\nslowest p95 from the projection of ${PROJECTED} acts: ${slowest.toFixed(0)} ms (${slowest < 1000 ? 'under' : 'OVER'} 1 s)`);
if (disagreements > 0) {
  console.error(`MISMATCH: the projection and the reference disagree on ${disagreements} queries`);
  process.exitCode = 1;
}
