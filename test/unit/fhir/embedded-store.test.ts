import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore, FhirStoreError } from '../../../src/fhir/index.ts';
import { storeContract } from '../../contract/store-contract.ts';

storeContract(t, async () => new EmbeddedStore());

// The embedded store answers identifier, tag, reference and id searches from an index kept on every write:
// these tests change, delete and roll back what the index knows, and compare with what a scan would find.
const SYSTEM = 'https://telesante-fhir.fr/fhir/sid/index-test';
const TAGS = 'https://telesante-fhir.fr/fhir/CodeSystem/index-test';

function transaction(entries: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

const ids = (bundle: Bundle): string[] => (bundle.entry ?? []).map((entry) => `${entry.resource?.resourceType}/${entry.resource?.id}`).sort();

t.test('identifier, tag, reference and id searches follow updates, deletes and rollbacks', async (t) => {
  const store = new EmbeddedStore();
  t.teardown(() => store.close());
  const written = await store.transaction(
    transaction([
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: 'p1' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYSTEM}|p1` } },
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002', resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: 'p2' }] }, request: { method: 'POST', url: 'Patient' } },
      {
        fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000003',
        resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'VR' }, identifier: [{ system: SYSTEM, value: 'e1' }], subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' }, meta: { tag: [{ system: TAGS, code: 'a' }] } },
        request: { method: 'PUT', url: `Encounter?identifier=${SYSTEM}|e1` },
      },
      {
        resource: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'eA==' } }], context: { encounter: [{ reference: 'urn:uuid:00000000-0000-4000-8000-000000000003' }] }, masterIdentifier: { system: SYSTEM, value: 'd1' } },
        request: { method: 'POST', url: 'DocumentReference' },
      },
    ]),
  );
  const [p1, p2, e1, d1] = (written.entry ?? []).map((entry) => entry.response?.location?.split('/').slice(0, 2).join('/') ?? '');
  t.ok(p1 && p2 && e1 && d1);

  t.same(ids(await store.search('Encounter', { subject: p1 ?? '' })), [e1], 'by reference');
  t.same(ids(await store.search('Encounter', { subject: `${p2},${p1}` })), [e1], 'by references (OR)');
  t.same(ids(await store.search('Encounter', { subject: p2 ?? '' })), [], 'not by another reference');
  t.same(ids(await store.search('Encounter', { _tag: `${TAGS}|a` })), [e1], 'by tag');
  t.same(ids(await store.search('DocumentReference', { identifier: `${SYSTEM}|d1` })), [d1], 'by masterIdentifier');
  t.same(ids(await store.search('Patient', { _id: `${p1?.split('/')[1]},nope` })), [p1], 'by id');
  const withDocuments = await store.search('Encounter', { identifier: `${SYSTEM}|e1`, _revinclude: 'DocumentReference:encounter' });
  t.same(ids(withDocuments), [d1, e1].sort(), '_revinclude finds the document by its reference');

  // The Encounter changes patient, identifier and tag: the old keys no longer find it.
  await store.transaction(
    transaction([
      {
        resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'VR' }, identifier: [{ system: SYSTEM, value: 'e1-new' }], subject: { reference: p2 ?? '' }, meta: { tag: [{ system: TAGS, code: 'b' }] } },
        request: { method: 'PUT', url: `Encounter?identifier=${SYSTEM}|e1` },
      },
    ]),
  );
  t.same(ids(await store.search('Encounter', { subject: p1 ?? '' })), [], 'the old reference no longer finds it');
  t.same(ids(await store.search('Encounter', { subject: p2 ?? '' })), [e1], 'the new one does');
  t.same(ids(await store.search('Encounter', { identifier: `${SYSTEM}|e1` })), []);
  t.same(ids(await store.search('Encounter', { identifier: `${SYSTEM}|e1-new` })), [e1]);
  t.same(ids(await store.search('Encounter', { _tag: `${TAGS}|a` })), []);

  // A transaction that fails after a write: the write and its index entries are undone.
  const failing = store.transaction(
    transaction([
      { resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: 'p3' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYSTEM}|p3` } },
      { resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: 'p3' }] }, request: { method: 'PUT', url: `Patient?identifier=${SYSTEM}|p1,${SYSTEM}|p2` } },
    ]),
  );
  await t.rejects(failing, FhirStoreError);
  t.same(ids(await store.search('Patient', { identifier: `${SYSTEM}|p3` })), [], 'rolled back: no p3');

  // Deleted: gone from every index.
  await store.transaction(transaction([{ request: { method: 'DELETE', url: `DocumentReference?identifier=${SYSTEM}|d1` } }]));
  t.same(ids(await store.search('DocumentReference', { identifier: `${SYSTEM}|d1` })), []);
  const again = await store.search('Encounter', { identifier: `${SYSTEM}|e1-new`, _revinclude: 'DocumentReference:encounter' });
  t.same(ids(again), [e1], 'and from the _revinclude');
});

t.test('a search the index cannot narrow still answers (Medplum scans)', async (t) => {
  const store = new EmbeddedStore();
  t.teardown(() => store.close());
  await store.transaction(transaction([{ resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: 'x' }], gender: 'female' } as Resource, request: { method: 'POST', url: 'Patient' } }]));
  t.equal((await store.search('Patient', { gender: 'female' })).total, 1);
  t.equal((await store.search('Patient', { identifier: 'x' })).total, 1, 'a value without its system');
});
