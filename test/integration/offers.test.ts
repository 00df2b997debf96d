// Offers on a real HAPI server: publish, publish again unchanged (same version), change the hours
// (exactly one new version), find by the ROR telehealth characteristic, withdraw; HAPI's own validator
// judges every resource written.
import type { Bundle, HealthcareService, OperationOutcome, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import { HapiStore } from '../../src/fhir/index.ts';
import { FhirHttp, loadConformance } from '../../scripts/load-conformance.ts';
import { testApp } from '../support/app.ts';
import { HAPI_APP_ENV, hapiBaseUrl, loadConformanceOnce, runId } from '../support/hapi.ts';
import { examples } from '../unit/mapping/offer-examples.ts';

const TRE_R338 = 'https://mos.esante.gouv.fr/NOS/TRE_R338-ModaliteAccueil/FHIR/TRE-R338-ModaliteAccueil';
const baseUrl = await hapiBaseUrl();

async function hapiValidate(resource: Resource): Promise<OperationOutcome> {
  return (await new FhirHttp(baseUrl ?? '').validate(resource, resource.meta?.profile?.[0])).outcome;
}

if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  const store = new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 });
  const { app } = await testApp({ ...HAPI_APP_ENV }, store);
  t.teardown(() => app.close());
  await loadConformanceOnce(() => loadConformance(baseUrl));

  for (const { file, offer: example } of examples) {
    t.test(`${file} on HAPI`, async (t) => {
      // A fresh identifier per run, so that runs on the same server never meet.
      const offer = { ...example, identifiantOffre: `${example.identifiantOffre}-${runId()}` };
      const first = await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
      t.equal(first.statusCode, 201, first.body.slice(0, 500));
      const serviceRef: string = first.json().references.find((reference: string) => reference.startsWith('HealthcareService/'));
      const serviceId = serviceRef.split('/')[1] ?? '';
      const v1 = await store.read<HealthcareService>('HealthcareService', serviceId);

      const again = await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
      t.equal(again.statusCode, 200);
      const v1bis = await store.read<HealthcareService>('HealthcareService', serviceId);
      t.equal(v1bis?.meta?.versionId, v1?.meta?.versionId, 'sent again unchanged: same version');
      t.equal(v1bis?.meta?.lastUpdated, v1?.meta?.lastUpdated, 'and same lastUpdated');

      const changed = {
        ...offer,
        openingHours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], opens: '07:30', closes: '19:30' }],
      };
      const third = await app.inject({ method: 'POST', url: '/v1/offers', payload: changed });
      t.equal(third.statusCode, 200, third.body.slice(0, 500));
      const history = await store.history('HealthcareService', serviceId);
      t.equal(history.entry?.length, 2, 'the hours changed: exactly one new version');
      const v2 = await store.read<HealthcareService>('HealthcareService', serviceId);
      const creation = (service: HealthcareService | undefined): string | undefined =>
        service?.extension?.find((extension) => extension.url.endsWith('ror-meta-creation-date'))?.valueDateTime;
      t.equal(creation(v2), creation(v1), 'the ROR creation date is kept across updates');

      const read = await app.inject({ method: 'GET', url: `/v1/offers/${encodeURIComponent(offer.identifiantOffre)}`, headers: { accept: 'application/fhir+json' } });
      const written = ((read.json() as Bundle).entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
      t.ok(written.length >= 3, 'the offer reads back from HAPI');
      for (const resource of written) {
        const outcome = await hapiValidate(resource);
        const errors = outcome.issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
        t.same(errors, [], `HAPI $validate: ${resource.resourceType}/${resource.id} has no error`);
      }

      const withdrawn = await app.inject({ method: 'DELETE', url: `/v1/offers/${encodeURIComponent(offer.identifiantOffre)}` });
      t.equal(withdrawn.statusCode, 200);
      const after = await store.read<HealthcareService>('HealthcareService', serviceId);
      t.equal(after?.active, false, 'withdrawn: inactive');
      t.equal(after?.meta?.versionId, String(Number(v2?.meta?.versionId) + 1), 'withdrawn as a new version: the history is kept');
    });
  }

  t.test('the telehealth offer is found by the ROR search on TRE_R338|04', async (t) => {
    const gp = examples.find((e) => e.file === 'gp-teleconsultation.json')?.offer;
    if (!gp) throw new Error('example gp-teleconsultation missing');
    const offer = { ...gp, identifiantOffre: `${gp.identifiantOffre}-${runId()}` };
    await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
    const found = await store.search<HealthcareService>('HealthcareService', {
      characteristic: `${TRE_R338}|04`,
      identifier: `https://telesante-fhir.fr/fhir/sid/offre|${offer.identifiantOffre}`,
    });
    t.equal(found.entry?.length, 1);
  });
}
