// Fuzzing every write and check endpoint (fast-check): random JSON values and mutations of the example
// bodies, then hostile ones (issue 16, point 7): nesting thousands of levels deep, strings and base64 of
// megabytes, prototype keys (__proto__, constructor.prototype, inherited names), wrong content types.
// Whatever comes in, the answer is a 2xx or a 4xx OperationOutcome: never a 5xx, never a crash, never a
// 2xx for a body that is not even an object, and Object.prototype untouched. /health is probed all along
// and its worst latency printed (not asserted: timings live in bench/). FUZZ_RUNS sets the random bodies
// per endpoint (1,000) and FUZZ_HOSTILE_RUNS the hostile ones over all endpoints (2,000): 10,000 in all.
// FUZZ_SEED replays the seed a failure printed. Under CI the seed is fixed (CI_FUZZ_SEED), so that a
// submission is judged on the same bodies each time; everywhere else each run draws a new seed and
// explores further, and a failure prints the seed that replays it.
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import fc from 'fast-check';
import t from 'tap';
import type { FhirStore } from '../../../src/fhir/index.ts';
import { testApp } from '../../support/app.ts';
import { examples as offerExamples } from '../mapping/offer-examples.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000);
const HOSTILE_RUNS = Number(process.env.FUZZ_HOSTILE_RUNS ?? 2_000);
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
  probe: async () => empty as Bundle<never>,
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

// /health, probed every 25 ms for the whole run: a request that held the event loop shows here.
const probes: number[] = [];
let probing = false;
const prober = setInterval(() => {
  if (probing) return;
  probing = true;
  const started = performance.now();
  void app.inject({ method: 'GET', url: '/health' }).then(() => {
    probes.push(performance.now() - started);
    probing = false;
  });
}, 25);
t.teardown(() => {
  clearInterval(prober);
  const worst = Math.max(0, ...probes);
  const sorted = [...probes].sort((a, b) => a - b);
  console.log(`# /health during the fuzz: ${probes.length} probes, worst ${worst.toFixed(1)} ms, median ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1)} ms (a shared machine: not asserted)`);
});

/** Sends one body and throws on anything but a 2xx or a 4xx OperationOutcome without a stack trace. */
async function judged(endpoint: Endpoint, payload: string, contentType: string | undefined, seen: Map<number, number>): Promise<number> {
  const response = await app.inject({ method: endpoint.method, url: endpoint.url, headers: contentType === undefined ? {} : { 'content-type': contentType }, payload });
  seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1);
  const shown = `${endpoint.method} ${endpoint.url} (${contentType ?? 'no content type'}, ${payload.length} chars) ${payload.slice(0, 200)}`;
  if (response.statusCode >= 500) throw new Error(`${response.statusCode} for ${shown}: ${response.body.slice(0, 300)}`);
  if (response.statusCode >= 400) {
    let outcome: { resourceType?: string; issue?: unknown[] };
    try {
      outcome = response.json() as typeof outcome;
    } catch {
      throw new Error(`${response.statusCode}, not JSON, for ${shown}: ${response.body.slice(0, 300)}`);
    }
    if (outcome.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue) || outcome.issue.length === 0) throw new Error(`not an OperationOutcome for ${shown}: ${response.body.slice(0, 300)}`);
    if (/\n\s+at /.test(response.body)) throw new Error(`a stack trace: ${response.body.slice(0, 300)}`);
  }
  return response.statusCode;
}

const typeOf = (endpoint: Endpoint): string => (endpoint.ndjson ? 'application/x-ndjson' : 'application/json');

for (const endpoint of endpoints) {
  t.test(`${endpoint.method} ${endpoint.url}: ${RUNS} random bodies, only 2xx or 4xx OperationOutcomes`, async (t) => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(bodies(endpoint.examples), async ({ body, mutated }) => {
        const payload = endpoint.ndjson ? [body, ...endpoint.examples.slice(0, 1)].map((line) => JSON.stringify(line) ?? '').join('\n') : JSON.stringify(body);
        const status = await judged(endpoint, payload, typeOf(endpoint), seen);
        if (status < 400 && !endpoint.ndjson && !mutated && (body === null || typeof body !== 'object' || Array.isArray(body))) {
          throw new Error(`${status} for a body that is not an object: ${payload.slice(0, 200)}`);
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    t.notOk([...seen.keys()].some((status) => status >= 500), `statuses: ${JSON.stringify(Object.fromEntries(seen))}`);
  });
}

// --- hostile bodies ------------------------------------------------------------------------------------

/** `depth` levels of arrays or objects around a value, as text (JSON.stringify itself would recurse). */
function nestedText(depth: number, objects: boolean, inner: string): string {
  return objects ? `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}` : `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** The example's text with `insert` placed in its n-th object (an object opens with `{` followed by `"`). */
function intoObject(text: string, n: number, insert: string): string {
  const opens = [...text.matchAll(/\{(?=")/g)].map((match) => match.index);
  const at = opens[n % Math.max(1, opens.length)] ?? 0;
  return `${text.slice(0, at + 1)}${insert},${text.slice(at + 1)}`;
}

const PROTOTYPE_KEYS = ['"__proto__":{"polluted":"yes"}', '"constructor":{"prototype":{"polluted":"yes"}}', '"prototype":{"polluted":"yes"}', '"__proto__":null', '"toString":"x"', '"hasOwnProperty":{}'];
const WRONG_TYPES = ['text/plain', 'application/xml', 'text/csv', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=utf-16', 'application/jsonx', 'image/png', undefined];
const BASE64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

type Hostile = { readonly kind: string; readonly endpoint: number; readonly make: (example: string) => { payload: string; contentType?: string | undefined; typed?: boolean } };

// Megabyte bodies are rarer than the others: each costs a real parse, and the run must stay short.
const hostile: fc.Arbitrary<Hostile> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ endpoint: fc.nat(), depth: fc.integer({ min: 60, max: 20_000 }), objects: fc.boolean(), where: fc.nat() }).map(({ endpoint, depth, objects, where }) => ({
    kind: 'deep',
    endpoint,
    make: (example: string) => ({ payload: where % 3 === 0 ? nestedText(depth, objects, '1') : intoObject(example, where, `"deep":${nestedText(depth, objects, '"x"')}`) }),
  })) },
  { weight: 2, arbitrary: fc.record({ endpoint: fc.nat(), size: fc.integer({ min: 14, max: 21 }), char: fc.constantFrom('a', 'é', '\\"', '0', ' ', '\\u0000'), where: fc.nat() }).map(({ endpoint, size, char, where }) => ({
    kind: 'huge string',
    endpoint,
    make: (example: string) => ({ payload: intoObject(example, where, `"huge":"${char.repeat(Math.floor(2 ** size / char.length))}"`) }),
  })) },
  { weight: 1, arbitrary: fc.record({ size: fc.integer({ min: 1_000_000, max: 4_700_000 }), field: fc.constantFrom('pdf', 'attachment'), valid: fc.boolean(), seed: fc.nat() }).map(({ size, field, valid, seed }) => ({
    kind: 'huge base64',
    endpoint: 1,
    make: (example: string) => {
      const length = size - (size % 4);
      const data = BASE64_CHARS[seed % 64]?.repeat(length) ?? '';
      const body = JSON.parse(example) as { report: Record<string, unknown> };
      const value = valid ? data : `${data.slice(0, -4)}${'$*#!'}`;
      body.report = field === 'pdf' ? { ...body.report, text: undefined, pdfBase64: value } : { ...body.report, attachments: [{ contentType: 'image/png', dataBase64: value }] };
      return { payload: JSON.stringify(body) };
    },
  })) },
  { weight: 4, arbitrary: fc.record({ endpoint: fc.nat(), key: fc.constantFrom(...PROTOTYPE_KEYS), where: fc.nat() }).map(({ endpoint, key, where }) => ({
    kind: 'prototype key',
    endpoint,
    make: (example: string) => ({ payload: intoObject(example, where, key) }),
  })) },
  { weight: 4, arbitrary: fc.record({ endpoint: fc.nat(), type: fc.constantFrom(...WRONG_TYPES) }).map(({ endpoint, type }) => ({
    kind: 'wrong content type',
    endpoint,
    make: (example: string) => ({ payload: example, contentType: type, typed: true }),
  })) },
);

t.test(`${HOSTILE_RUNS} hostile bodies over every endpoint: deep, huge, prototype keys, wrong content types`, async (t) => {
  const seen = new Map<number, number>();
  const kinds = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(hostile, fc.nat(), async (attack, which) => {
      const endpoint = endpoints[attack.endpoint % endpoints.length] as Endpoint;
      const example = JSON.stringify(endpoint.examples[which % endpoint.examples.length]);
      const { payload, contentType, typed } = attack.make(example);
      kinds.set(attack.kind, (kinds.get(attack.kind) ?? 0) + 1);
      await judged(endpoint, payload, typed === true ? contentType : typeOf(endpoint), seen);
      if (({} as Record<string, unknown>).polluted !== undefined) throw new Error(`Object.prototype polluted by ${payload.slice(0, 200)}`);
    }),
    { numRuns: HOSTILE_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
  );
  t.notOk([...seen.keys()].some((status) => status >= 500), `statuses: ${JSON.stringify(Object.fromEntries(seen))}; kinds: ${JSON.stringify(Object.fromEntries(kinds))}`);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});
