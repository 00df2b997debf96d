// The merge of several transactions into one (mapping/transaction.ts), as the import engine and the act
// batches use it: each shared resource once, every reference resolving, the later content winning.
import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { mergeTransactionBundles, toOfferBundle } from '../../../src/mapping/index.ts';
import { generatedOffer } from '../../../src/synthetic/index.ts';
import { testValidator } from '../../support/app.ts';
import { asStored } from '../../../src/fhir/index.ts';

t.test('offers of one structure: one Organization, one Practitioner each, every reference resolves', async (t) => {
  // Offers 0–3 of a seed share their structure, its site and its team (OFFERS_PER_STRUCTURE).
  const offers = [0, 1, 2, 3].map((i) => generatedOffer(i, { seed: 5 }));
  const bundles = offers.map((offer) => toOfferBundle(offer, { now: '2026-01-01T00:00:00Z' }));
  const merged = mergeTransactionBundles(bundles).bundle;
  const entries = merged.entry ?? [];
  const count = (type: string) => entries.filter((e) => e.resource?.resourceType === type).length;
  t.equal(count('Organization'), 1, 'the shared Organization once');
  t.equal(count('HealthcareService'), 4);
  const rpps = new Set(offers.flatMap((o) => (o.professionals ?? []).map((p) => p.rpps)));
  t.equal(count('Practitioner'), rpps.size, 'each professional once');
  const urls = entries.map((e) => `${e.request?.method} ${e.request?.url}`);
  t.equal(new Set(urls).size, urls.length, 'no conditional URL twice');
  const fullUrls = new Set(entries.map((e) => e.fullUrl));
  const references = JSON.stringify(merged).match(/"reference":"(urn:uuid:[^"]+)"/g) ?? [];
  for (const reference of references) t.ok(fullUrls.has(reference.slice(13, -1)), `${reference} resolves`);
  const validator = await testValidator();
  t.same(validator.validate(asStored(merged, new Date())).filter((i) => i.severity === 'error'), [], 'the merged transaction passes the gate');
});

t.test('the later offer wins a shared resource, in the place the first gave it', async (t) => {
  const a: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:1', resource: { resourceType: 'Organization', name: 'A' }, request: { method: 'PUT', url: 'Organization?identifier=x|1' } }] };
  const b: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [
    { fullUrl: 'urn:uuid:2', resource: { resourceType: 'Location', name: 'L' }, request: { method: 'PUT', url: 'Location?identifier=x|2' } },
    { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Organization', name: 'B' }, request: { method: 'PUT', url: 'Organization?identifier=x|1' } },
  ] };
  const merged = mergeTransactionBundles([a, b]).bundle;
  t.same(merged.entry?.map((e) => (e.resource as { name?: string }).name), ['B', 'L']);
});
