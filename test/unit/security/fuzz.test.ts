// Fuzzing every write endpoint (fast-check): random JSON values and mutations of the example bodies.
// Whatever comes in, the answer is a 2xx or a 4xx OperationOutcome: never a 5xx, never a crash, never a
// 2xx for a body that is not even an object. FUZZ_RUNS sets the number of bodies per endpoint (10,000);
// FUZZ_SEED replays the seed a failure printed. Under CI the seed is fixed (CI_FUZZ_SEED), so that a
// submission is judged on the same 80,000 bodies each time; everywhere else each run draws a new seed and
// explores further, and a failure prints the seed that replays it.
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import fc from 'fast-check';
import t from 'tap';
import type { FhirStore } from '../../../src/fhir/index.ts';
import { testApp } from '../../support/app.ts';
import { examples as offerExamples } from '../mapping/offer-examples.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const CI_FUZZ_SEED = 20_261_123;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.CI ? CI_FUZZ_SEED : undefined;

// The writes that pass validation go to the outbox (answering 202 at once: DELIVERY_WAIT_MS=0) and then
// to this store, which takes everything and holds nothing: the fuzz is about the HTTP face.
const empty: Bundle = { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] };
const stubStore: FhirStore = {
  kind: 'embedded',
  location: 'stub',
  transaction: async () => ({ resourceType: 'Bundle', type: 'transaction-response', entry: [] }),
  read: async () => undefined,
  search: async () => empty as Bundle<never>,
  count: async () => 0,
  history: async () => empty as Bundle<never>,
  ready: async () => ({ ok: true, reason: 'stub' }),
  close: async () => undefined,
};

const DIR = new URL('../../../examples/acts/', import.meta.url);
const acts = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as Record<string, unknown>);
const offers = offerExamples.map((e) => e.offer as unknown as Record<string, unknown>);
const act = acts[0] as { source: string; actId: string; report: Record<string, unknown>; patient: Record<string, unknown> };
const actPath = `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
const insBodies = [{ ins: '184037512345690', traits: { sex: 'male', birthDate: '1984-03-12' } }, { ins: act.patient.ins, oid: 'urn:oid:1.2.250.1.213.1.4.8' }];
const fhirBodies = [{ resourceType: 'Patient', gender: 'female', birthDate: '1970-01-01' }, { resourceType: 'Bundle', type: 'collection', entry: [] }];

type Json = unknown;

// Keys every object inherits: a body that names one must meet the same 400 as any unknown field (a
// duplicated specific act carrying "valueOf" once crashed Ajv's uniqueItems check).
const INHERITED_NAMES = Object.getOwnPropertyNames(Object.prototype);

/** The example with one change at a random path: a value replaced, a key removed, or a key added. */
function mutate(value: Json, steps: readonly number[], op: number, replacement: Json, key: string): Json {
  if (value === null || typeof value !== 'object') return replacement;
  const copy: Record<string, Json> | Json[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, Json>) };
  const keys = Object.keys(copy);
  if (keys.length === 0 || steps.length === 0) {
    if (op === 0) return replacement;
    if (!Array.isArray(copy)) copy[key] = replacement;
    return copy;
  }
  const chosen = keys[(steps[0] ?? 0) % keys.length] as string;
  const record = copy as Record<string, Json>;
  if (steps.length === 1 && op === 1) Reflect.deleteProperty(record, chosen);
  else if (steps.length === 1 && op === 2 && !Array.isArray(copy)) record[key] = replacement;
  else record[chosen] = mutate(record[chosen], steps.slice(1), op, replacement, key);
  return copy;
}

function bodies(examples: readonly Json[]): fc.Arbitrary<{ body: Json; mutated: boolean }> {
  const mutation = fc
    .record({ which: fc.nat(), steps: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), op: fc.integer({ min: 0, max: 2 }), value: fc.jsonValue({ maxDepth: 2 }), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...INHERITED_NAMES)) })
    .map(({ which, steps, op, value, key }) => ({ body: mutate(examples[which % examples.length], steps, op, value, key), mutated: true }));
  const random = fc.jsonValue({ maxDepth: 4 }).map((body) => ({ body, mutated: false }));
  return fc.oneof({ arbitrary: mutation, weight: 3 }, { arbitrary: random, weight: 1 });
}

interface Endpoint {
  readonly method: 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly examples: readonly Json[];
  readonly ndjson?: boolean;
}

const endpoints: Endpoint[] = [
  { method: 'POST', url: '/v1/offers', examples: offers },
  { method: 'POST', url: '/v1/acts', examples: acts },
  { method: 'PUT', url: `${actPath}/report`, examples: [act.report] },
  { method: 'DELETE', url: actPath, examples: [{ reason: 'Erreur de saisie', status: 'entered-in-error' }] },
  { method: 'POST', url: '/v1/ins/check', examples: insBodies },
  { method: 'POST', url: '/v1/ins/patient', examples: [act.patient] },
  { method: 'POST', url: '/v1/$validate', examples: fhirBodies },
  { method: 'POST', url: '/v1/offers/$import', examples: offers, ndjson: true },
];

const { app } = await testApp({ DELIVERY_WAIT_MS: '0', RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'silent', DELIVERY_SQLITE_PATH: ':memory:' }, stubStore);
t.teardown(() => app.close());

for (const endpoint of endpoints) {
  t.test(`${endpoint.method} ${endpoint.url}: ${RUNS} random bodies, only 2xx or 4xx OperationOutcomes`, async (t) => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(bodies(endpoint.examples), async ({ body, mutated }) => {
        const payload = endpoint.ndjson ? [body, ...endpoint.examples.slice(0, 1)].map((line) => JSON.stringify(line) ?? '').join('\n') : JSON.stringify(body);
        const response = await app.inject({
          method: endpoint.method,
          url: endpoint.url,
          headers: { 'content-type': endpoint.ndjson ? 'application/x-ndjson' : 'application/json' },
          payload,
        });
        seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500) throw new Error(`${response.statusCode} for ${payload.slice(0, 300)}: ${response.body.slice(0, 300)}`);
        if (response.statusCode >= 400) {
          const outcome = response.json() as { resourceType?: string; issue?: unknown[] };
          if (outcome.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue) || outcome.issue.length === 0) throw new Error(`not an OperationOutcome: ${response.body.slice(0, 300)}`);
          if (/\n\s+at /.test(response.body)) throw new Error(`a stack trace: ${response.body.slice(0, 300)}`);
        } else if (!endpoint.ndjson && !mutated && (body === null || typeof body !== 'object' || Array.isArray(body))) {
          throw new Error(`${response.statusCode} for a body that is not an object: ${payload.slice(0, 200)}`);
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    t.notOk([...seen.keys()].some((status) => status >= 500), `statuses: ${JSON.stringify(Object.fromEntries(seen))}`);
  });
}
