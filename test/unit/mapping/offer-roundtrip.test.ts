import type { Bundle, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import { fromFhir, normalizeOffer, toOfferBundle, UnreadableOfferError } from '../../../src/mapping/index.ts';
import { asSearchResult, example, examples, NOW, resources } from './offer-examples.ts';

t.test('offer → FHIR → offer gives the offer back, in normal form, for every example', async (t) => {
  t.ok(examples.length >= 5);
  for (const { file, offer } of examples) {
    const bundle = toOfferBundle(offer, { now: NOW });
    t.strictSame(fromFhir(bundle), normalizeOffer(offer), `${file}: from the transaction`);
    t.strictSame(fromFhir(asSearchResult(bundle)), normalizeOffer(offer), `${file}: from what the server answers to the read search`);
    t.strictSame(fromFhir(resources(asSearchResult(bundle))), normalizeOffer(offer), `${file}: from a plain list of stored resources`);
  }
});

t.test('FHIR → offer → FHIR gives the same bytes', async (t) => {
  for (const { file, offer } of examples) {
    const bundle = toOfferBundle(offer, { now: NOW });
    const again = toOfferBundle(fromFhir(asSearchResult(bundle)), { now: '2030-01-01T00:00:00Z', existing: resources(bundle).find((r) => r.resourceType === 'HealthcareService') as never });
    t.equal(JSON.stringify(again), JSON.stringify(bundle), file);
  }
});

t.test('the normal form is a fixed point', async (t) => {
  for (const { file, offer } of examples) {
    const normal = normalizeOffer(offer);
    t.strictSame(normalizeOffer(normal), normal, file);
  }
  const sparse = normalizeOffer({ ...example('gp-teleconsultation'), professionals: [], contacts: [], openingHours: [], receptionModalities: [] });
  for (const list of ['professionals', 'contacts', 'openingHours', 'receptionModalities', 'specificActs'] as const) t.notOk(list in sparse, `empty ${list} dropped`);
  t.same(sparse.patientType, { minAge: 0, maxAge: 120 }, 'the ROR requires an age range: all ages by default');
  t.equal(sparse.active, true);
  t.equal(sparse.structure.finessType, 'EG');
});

t.test('only the professionals of this offer come back', async (t) => {
  const offer = example('multisite-cardiologie');
  const other = toOfferBundle({ ...example('gp-teleconsultation'), identifiantOffre: 'AUTRE' }, { now: NOW });
  const mixed: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [...(toOfferBundle(offer, { now: NOW }).entry ?? []), ...(other.entry ?? []).filter((e) => e.resource?.resourceType !== 'HealthcareService')] };
  t.same(fromFhir(mixed).professionals?.map((p) => p.rpps), normalizeOffer(offer).professionals?.map((p) => p.rpps));
});

t.test('what cannot make an offer is said', async (t) => {
  const bundle = toOfferBundle(example('gp-teleconsultation'), { now: NOW });
  const stored = resources(asSearchResult(bundle));
  t.ok(fromFhir(stored), 'complete, it reads');
  const without = (type: Resource['resourceType']) => stored.filter((r) => r.resourceType !== type);
  t.throws(() => fromFhir(without('HealthcareService')), UnreadableOfferError);
  t.throws(() => fromFhir(without('Organization')), { name: 'UnreadableOfferError', message: /providedBy/ });
  t.throws(() => fromFhir(without('Location')), { name: 'UnreadableOfferError', message: /location/ });
  t.throws(() => fromFhir([]), UnreadableOfferError);
});
