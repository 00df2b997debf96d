// FHIR in, on a real HAPI server: the FHIR of every example act and offer, as GET … (Accept:
// application/fhir+json) returns it, ids removed, posted back as FHIR under a new identifier, gives the
// same record.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import { HapiStore } from '../../src/fhir/index.ts';
import type { Act } from '../../src/model/act.ts';
import { loadConformance } from '../../scripts/load-conformance.ts';
import { testApp } from '../support/app.ts';
import { repostable } from '../support/fhir-input.ts';
import { HAPI_APP_ENV, hapiBaseUrl, loadConformanceOnce, runId } from '../support/hapi.ts';
import { example, exampleFiles } from '../unit/mapping/act-examples.ts';
import { examples as offerExamples } from '../unit/mapping/offer-examples.ts';

const FHIR = { 'content-type': 'application/fhir+json' };
const baseUrl = await hapiBaseUrl();

if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server: INTEGRATION TESTS SKIPPED (FHIR in)');
} else {
  await loadConformanceOnce(() => loadConformance(baseUrl, { log: () => undefined }));
  const store = new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 });
  const { app } = await testApp({ ...HAPI_APP_ENV }, store);
  t.teardown(() => app.close());
  const run = runId();

  t.test('every example act, through its FHIR and back under a new identifier: the same record', async (t) => {
    for (const file of exampleFiles) {
      const base = example(file);
      // Its own act id and IPP: runs on the same server never meet.
      const act: Act = { ...base, actId: `${base.actId}-${run}`, patient: { ...base.patient, ipp: { ...base.patient.ipp, value: `${base.patient.ipp.value}-${run}` } } };
      const path = (actId: string) => `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(actId)}`;
      const first = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
      t.equal(first.statusCode, 201, `${file}: ${first.body.slice(0, 500)}`);
      const fhir = (await app.inject({ method: 'GET', url: path(act.actId), headers: { accept: 'application/fhir+json' } })).json<Bundle>();
      const actId = `${act.actId}-F`;
      const payload = repostable(fhir, (r: Resource) => {
        if (r.resourceType !== 'Encounter') return;
        const key = r.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'VN')) ?? r.identifier?.[0];
        if (key) key.value = actId;
      });
      const posted = await app.inject({ method: 'POST', url: '/v1/acts', headers: FHIR, payload });
      t.equal(posted.statusCode, 201, `${file}: as FHIR: ${posted.body.slice(0, 1500)}`);
      t.same((await app.inject({ method: 'GET', url: path(actId) })).json(), { ...act, actId }, `${file}: the same record`);
    }
  });

  t.test('every example offer, through its FHIR and back under a new identifier: the same record', async (t) => {
    for (const { file, offer: base } of offerExamples) {
      const offer = { ...base, identifiantOffre: `${base.identifiantOffre}-${run}` };
      const path = (id: string) => `/v1/offers/${encodeURIComponent(id)}`;
      t.equal((await app.inject({ method: 'POST', url: '/v1/offers', payload: offer })).statusCode, 201, `${file}: as JSON`);
      const fhir = (await app.inject({ method: 'GET', url: path(offer.identifiantOffre), headers: { accept: 'application/fhir+json' } })).json<Bundle>();
      const id = `${offer.identifiantOffre}-F`;
      const payload = repostable(fhir, (r: Resource) => {
        if (r.resourceType !== 'HealthcareService') return;
        const key = r.identifier?.[0];
        if (key) key.value = id;
      });
      const posted = await app.inject({ method: 'POST', url: '/v1/offers', headers: FHIR, payload });
      t.equal(posted.statusCode, 201, `${file}: as FHIR: ${posted.body.slice(0, 1500)}`);
      const original = (await app.inject({ method: 'GET', url: path(offer.identifiantOffre) })).json<object>();
      t.same((await app.inject({ method: 'GET', url: path(id) })).json(), { ...original, identifiantOffre: id }, `${file}: the same record`);
    }
  });
}
