// The contract every FhirStore keeps, run unchanged against the embedded store (test/unit) and against
// a real HAPI server (test/integration). A behaviour the service relies on belongs here.
import type { Bundle, Encounter, Patient } from '@medplum/fhirtypes';
import type { Test } from 'tap';
import { FhirStoreError } from '../../src/fhir/index.ts';
import type { FhirStore } from '../../src/fhir/index.ts';

const SYSTEM = 'https://telesante-fhir.fr/fhir/sid/contract-test';

function suffix(): string {
  return `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

function patientAndEncounter(key: string, family = 'Contrat'): Bundle {
  const patientUrl = 'urn:uuid:6a2c7d4e-1f3b-4a5c-9d8e-0b1c2d3e4f50';
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: patientUrl,
        resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: `p-${key}` }], name: [{ family }] },
        request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYSTEM}|p-${key}` },
      },
      {
        fullUrl: 'urn:uuid:6a2c7d4e-1f3b-4a5c-9d8e-0b1c2d3e4f51',
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
          identifier: [{ system: SYSTEM, value: `e-${key}` }],
          subject: { reference: patientUrl },
          period: { start: '2026-03-02T10:00:00+01:00', end: '2026-03-02T10:20:00+01:00' },
        },
        request: { method: 'PUT', url: `Encounter?identifier=${SYSTEM}|e-${key}` },
      },
    ],
  };
}

function idOf(location: string | undefined): string {
  const match = /^[A-Za-z]+\/([^/]+)/.exec(location ?? '');
  if (!match?.[1]) throw new Error(`no id in location "${location}"`);
  return match[1];
}

export function storeContract(t: Test, makeStore: () => Promise<FhirStore>): void {
  let store: FhirStore;
  t.before(async () => {
    store = await makeStore();
  });
  t.teardown(async () => {
    await store?.close();
  });

  t.test('ready answers ok', async (t) => {
    const state = await store.ready();
    t.ok(state.ok, state.reason);
  });

  t.test('a transaction conditionally creates a Patient and an Encounter that references it by urn:uuid', async (t) => {
    const key = suffix();
    const response = await store.transaction(patientAndEncounter(key), { requestId: `contract-${key}` });
    t.equal(response.type, 'transaction-response');
    t.equal(response.entry?.length, 2);
    const patientId = idOf(response.entry?.[0]?.response?.location);
    const encounterId = idOf(response.entry?.[1]?.response?.location);
    const encounter = await store.read<Encounter>('Encounter', encounterId);
    t.equal(encounter?.subject?.reference, `Patient/${patientId}`, 'the urn:uuid reference was resolved to the Patient id');
    const patient = await store.read<Patient>('Patient', patientId);
    t.equal(patient?.identifier?.[0]?.value, `p-${key}`);
  });

  t.test('the same transaction sent twice leaves one Patient and one Encounter, unchanged', async (t) => {
    const key = suffix();
    const first = await store.transaction(patientAndEncounter(key));
    const second = await store.transaction(patientAndEncounter(key));
    t.equal(await store.count('Patient', { identifier: `${SYSTEM}|p-${key}` }), 1, 'one Patient');
    t.equal(await store.count('Encounter', { identifier: `${SYSTEM}|e-${key}` }), 1, 'one Encounter');
    t.equal(idOf(second.entry?.[0]?.response?.location), idOf(first.entry?.[0]?.response?.location), 'same Patient');
    const encounterId = idOf(first.entry?.[1]?.response?.location);
    const history = await store.history('Encounter', encounterId);
    t.equal(history.entry?.length, 1, 'an identical conditional update makes no new version');
  });

  t.test('a changed conditional update makes exactly one new version', async (t) => {
    const key = suffix();
    const bundle = patientAndEncounter(key);
    const first = await store.transaction(bundle);
    const changed = structuredClone(bundle);
    const encounter = changed.entry?.[1]?.resource as Encounter;
    encounter.period = { start: '2026-03-02T10:00:00+01:00', end: '2026-03-02T10:45:00+01:00' };
    await store.transaction(changed);
    const history = await store.history('Encounter', idOf(first.entry?.[1]?.response?.location));
    t.equal(history.entry?.length, 2);
  });

  t.test('a conditional create that matches two resources fails with the typed 412 error, and the transaction leaves nothing', async (t) => {
    const key = suffix();
    const duplicate = (): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: `dup-${key}` }] }, request: { method: 'POST', url: 'Patient' } }],
    });
    await store.transaction(duplicate());
    await store.transaction(duplicate());
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Encounter', status: 'planned', class: { code: 'VR', system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode' }, identifier: [{ system: SYSTEM, value: `lost-${key}` }] },
          request: { method: 'POST', url: 'Encounter' },
        },
        {
          resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: `dup-${key}` }] },
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYSTEM}|dup-${key}` },
        },
      ],
    };
    const error = await store.transaction(bundle).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    t.ok(error instanceof FhirStoreError, 'a FhirStoreError');
    t.equal((error as FhirStoreError).kind, 'precondition-failed');
    t.ok((error as FhirStoreError).multipleMatches, 'flagged as several matches');
    t.equal(await store.count('Encounter', { identifier: `${SYSTEM}|lost-${key}` }), 0, 'the Encounter of the failed transaction was not kept');
  });

  t.test('a probe finds what is stored at once, and nothing of what is not', async (t) => {
    const key = suffix();
    const absent = `${SYSTEM}|e-absent-${key}`;
    t.same((await store.probe('Encounter', { identifier: `${SYSTEM}|e-${key},${absent}`, _elements: 'identifier' })).entry ?? [], [], 'nothing before the write');
    const response = await store.transaction(patientAndEncounter(key, 'Sonde'));
    const encounterId = idOf(response.entry?.[1]?.response?.location);
    const found = await store.probe<Encounter>('Encounter', { identifier: `${SYSTEM}|e-${key},${absent}`, _elements: 'identifier' });
    t.same((found.entry ?? []).map((entry) => entry.resource?.id), [encounterId], 'the stored one only, right after the write');
  });

  t.test('a search reads its own writes at once', async (t) => {
    const key = suffix();
    t.equal(await store.count('Patient', { identifier: `${SYSTEM}|p-${key}` }), 0);
    const response = await store.transaction(patientAndEncounter(key, 'Avant'));
    const patientId = idOf(response.entry?.[0]?.response?.location);
    const found = await store.search<Patient>('Patient', { identifier: `${SYSTEM}|p-${key}` });
    t.equal(found.entry?.[0]?.resource?.id, patientId, 'found right after the write');
    const byReference = await store.search<Encounter>('Encounter', { subject: `Patient/${patientId}` });
    t.equal(byReference.entry?.length, 1, 'search on a reference parameter');
    const byDate = await store.count('Encounter', { identifier: `${SYSTEM}|e-${key}`, date: ['ge2026-03-02', 'lt2026-03-03'] });
    t.equal(byDate, 1, 'search on a date parameter');
    const outside = await store.count('Encounter', { identifier: `${SYSTEM}|e-${key}`, date: 'ge2026-04-01' });
    t.equal(outside, 0, 'a date outside the period finds nothing');
  });

  t.test('a search whose criteria are longer than a request line takes (8 KB) finds what they name', async (t) => {
    const key = suffix();
    const response = await store.transaction(patientAndEncounter(key));
    const patientId = idOf(response.entry?.[0]?.response?.location);
    // The OR-list of a department with hundreds of structures, or of a large import batch.
    const identifiers = Array.from({ length: 400 }, (_, i) => `${SYSTEM}|absent-${key}-${i}`);
    identifiers.splice(200, 0, `${SYSTEM}|p-${key}`);
    t.ok(identifiers.join(',').length > 16_000, 'the criteria alone pass 16,000 characters');
    t.equal(await store.count('Patient', { identifier: identifiers.join(',') }), 1, 'counted');
    const found = await store.search<Patient>('Patient', { identifier: identifiers.join(','), _count: '10' });
    t.same(found.entry?.map((e) => e.resource?.id), [patientId], 'found');
  });

  t.test('reading a missing resource answers undefined', async (t) => {
    t.equal(await store.read('Patient', `missing-${suffix()}`), undefined);
  });
}
