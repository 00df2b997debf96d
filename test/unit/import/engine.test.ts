// The import engine without a FHIR server: dry runs, and a store that refuses or fails on purpose.
import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore, FhirStoreError } from '../../../src/fhir/index.ts';
import type { FhirStore } from '../../../src/fhir/index.ts';
import { mergeTransactionBundles, validateOffer } from '../../../src/mapping/index.ts';
import { importOffers } from '../../../src/import/index.ts';
import { generatedOffer, generateOffers } from '../../../src/synthetic/index.ts';
import type { ImportRecord, ImportReject } from '../../../src/import/index.ts';
import { asStored } from '../../../src/fhir/index.ts';
import { testValidator } from '../../support/app.ts';

const validator = await testValidator();

async function* records(lines: readonly string[]): AsyncGenerator<ImportRecord> {
  let line = 0;
  for (const text of lines) {
    line++;
    try {
      yield { line, text, body: JSON.parse(text) as unknown };
    } catch {
      yield { line, text, unreadable: 'not JSON' };
    }
  }
}

function goodAndBad(count: number, seed: number): { lines: string[]; bad: number[] } {
  const lines = [...generateOffers(count, { seed })].map((o) => JSON.stringify(o));
  lines[3] = '{not json';
  lines[7] = JSON.stringify({ ...JSON.parse(lines[7] ?? '{}'), structure: { finess: '290004515', name: 'Clé fausse' } });
  lines[12] = JSON.stringify({ name: 'incomplete' });
  return { lines, bad: [4, 8, 13] };
}

t.test('generated offers: 1,000 pass validateOffer and, merged in batches, the validation gate', async (t) => {
  const offers = [...generateOffers(1000, { seed: 42 })];
  t.equal(offers.filter((o) => !validateOffer(o).ok).length, 0);
  t.equal(new Set(offers.map((o) => o.identifiantOffre)).size, 1000, 'identifiers are unique');
  const { toOfferBundle } = await import('../../../src/mapping/index.ts');
  let errors = 0;
  for (let i = 0; i < offers.length; i += 100) {
    const merged = mergeTransactionBundles(offers.slice(i, i + 100).map((o) => toOfferBundle(o, { now: '2026-01-01T00:00:00Z' }))).bundle;
    errors += validator.validate(asStored(merged, new Date())).filter((issue) => issue.severity === 'error').length;
  }
  t.equal(errors, 0);
  t.same(generatedOffer(517, { seed: 42 }), offers[517], 'deterministic: offer i depends on (seed, i) only');
  t.not(JSON.stringify(generatedOffer(517, { seed: 43 })), JSON.stringify(offers[517]), 'another seed, other offers');
});

t.test('dry run: good lines counted, bad ones rejected with their line number and an OperationOutcome', async (t) => {
  const { lines, bad } = goodAndBad(40, 1);
  const rejects: ImportReject[] = [];
  const result = await importOffers(records(lines), { validator, batchSize: 6, concurrency: 3, dryRun: true, onReject: (r) => void rejects.push(r) });
  t.equal(result.status, 'done');
  t.same(result.counts, { read: 40, imported: 37, rejected: 3 });
  t.equal(result.watermark, 40);
  t.same(rejects.map((r) => r.line).sort((a, b) => a - b), bad);
  const finess = rejects.find((r) => r.line === 8);
  t.equal(finess?.outcome.resourceType, 'OperationOutcome');
  t.same(finess?.outcome.issue.map((i) => [i.diagnostics, i.expression?.[0]]), [['finess-key', 'structure.finess']]);
  t.equal(rejects.find((r) => r.line === 4)?.text, '{not json', 'the line as it was');
});

/** The embedded store with another transaction(). */
function withTransaction(inner: EmbeddedStore, transaction: (bundle: Bundle) => Promise<Bundle>): FhirStore {
  return {
    kind: inner.kind,
    location: inner.location,
    transaction,
    read: (type, id, ctx) => inner.read(type, id, ctx),
    search: (type, params, ctx) => inner.search(type, params, ctx),
    probe: (type, params, ctx) => inner.probe(type, params, ctx),
    count: (type, params, ctx) => inner.count(type, params, ctx),
    history: (type, id, ctx) => inner.history(type, id, ctx),
    ready: () => inner.ready(),
    close: () => inner.close(),
  };
}

/** The embedded store, refusing every transaction that holds one of the given offers (as HAPI would, 422). */
function refusing(identifiers: readonly string[], store: EmbeddedStore): FhirStore {
  return withTransaction(store, async (bundle: Bundle) => {
      const text = JSON.stringify(bundle);
      const bad = identifiers.find((id) => text.includes(`"value":"${id}"`));
      if (bad !== undefined) {
        throw new FhirStoreError('invalid', `HTTP 422: ${bad}`, { status: 422, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: `HAPI-0000: refused ${bad}` }] } });
      }
      return store.transaction(bundle);
  });
}

t.test('a transaction the server refuses is halved until the refused lines stand alone; the others land', async (t) => {
  const offers = [...generateOffers(16, { seed: 2, prefix: 'SPLIT' })];
  const lines = offers.map((o) => JSON.stringify(o));
  const refused = [offers[5]?.identifiantOffre ?? '', offers[11]?.identifiantOffre ?? ''];
  const inner = new EmbeddedStore();
  const store = refusing(refused, inner);
  const rejects: ImportReject[] = [];
  const result = await importOffers(records(lines), { store, validator, batchSize: 8, concurrency: 2, onReject: (r) => void rejects.push(r) });
  t.equal(result.status, 'done');
  t.same(result.counts, { read: 16, imported: 14, rejected: 2 });
  t.same(rejects.map((r) => r.line).sort((a, b) => a - b), [6, 12]);
  t.match(rejects[0]?.outcome.issue[0]?.diagnostics, /HAPI-0000: refused/, "the server's own OperationOutcome");
  t.equal(await inner.count('HealthcareService', {}), 14, 'every other offer landed');
});

t.test('transient failures are retried; a store that never answers fails the import without moving the watermark past it', async (t) => {
  const inner = new EmbeddedStore();
  let failures = 2;
  const flaky = withTransaction(inner, async (bundle: Bundle) => {
    if (failures-- > 0) throw new FhirStoreError('timeout', 'no answer in time');
    return inner.transaction(bundle);
  });
  const lines = [...generateOffers(10, { seed: 3 })].map((o) => JSON.stringify(o));
  const ok = await importOffers(records(lines), { store: flaky, validator, batchSize: 5, concurrency: 1, backoffMs: 1 });
  t.equal(ok.status, 'done');
  t.equal(ok.counts.imported, 10);

  const down = withTransaction(inner, async (): Promise<Bundle> => {
    throw new FhirStoreError('unavailable', 'connection refused');
  });
  const failed = await importOffers(records(lines), { store: down, validator, batchSize: 5, concurrency: 1, backoffMs: 1, retries: 2 });
  t.equal(failed.status, 'failed');
  t.match(failed.error?.message, /connection refused/);
  t.equal(failed.watermark, 0);
});

t.test('stopped, then resumed from the watermark: every line in exactly once', async (t) => {
  const store = new EmbeddedStore();
  const offers = [...generateOffers(30, { seed: 4, prefix: 'RESUME' })];
  const lines = offers.map((o) => JSON.stringify(o));
  const controller = new AbortController();
  let watermark = { line: 0, counts: { read: 0, imported: 0, rejected: 0 } };
  const first = await importOffers(records(lines), {
    store,
    validator,
    batchSize: 4,
    concurrency: 2,
    signal: controller.signal,
    onWatermark: (line, counts) => {
      watermark = { line, counts };
    },
    onProgress: (counts) => {
      if (counts.imported >= 8) controller.abort();
    },
  });
  t.equal(first.status, 'stopped');
  t.ok(first.watermark > 0 && first.watermark < 30, `stopped part way (line ${first.watermark})`);
  t.equal(watermark.line, first.watermark);
  const second = await importOffers(records(lines), { store, validator, batchSize: 4, concurrency: 2, resumeFrom: watermark });
  t.equal(second.status, 'done');
  t.equal(second.watermark, 30);
  t.same(second.counts, { read: 30, imported: 30, rejected: 0 }, 'the counts of both runs add up to the file');
  t.equal(await store.count('HealthcareService', {}), 30);
  for (const offer of offers) {
    const found = await store.search('HealthcareService', { identifier: `https://telesante-fhir.fr/fhir/sid/offre|${offer.identifiantOffre}` });
    if ((found.entry ?? []).length !== 1) t.fail(`${offer.identifiantOffre} is there ${found.entry?.length ?? 0} times`);
  }
});
