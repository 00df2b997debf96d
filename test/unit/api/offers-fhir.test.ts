// POST /v1/offers with Content-Type: application/fhir+json: a HealthcareService with its Organization,
// Locations and PractitionerRoles (a Bundle, ROR shape) read into the offer and published by the same path.
import type { Bundle, HealthcareService, OperationOutcome, Organization, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import { testApp } from '../../support/app.ts';
import { repostable } from '../../support/fhir-input.ts';
import { examples } from '../mapping/offer-examples.ts';

const FHIR = { 'content-type': 'application/fhir+json' };
const OFFER_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/offre';
const issuesOf = (body: unknown): { expression: string; severity: string; text: string }[] =>
  ((body as OperationOutcome | undefined)?.issue ?? []).map((i) => ({ expression: i.expression?.[0] ?? '', severity: i.severity, text: i.details?.text ?? '' }));

function renameOffer(resource: Resource, id: string): void {
  if (resource.resourceType !== 'HealthcareService') return;
  const key = resource.identifier?.find((i) => i.system === OFFER_SYSTEM) ?? resource.identifier?.[0];
  if (key) key.value = id;
}

async function fhirOf(app: Awaited<ReturnType<typeof testApp>>['app'], id: string): Promise<Bundle> {
  const answer = await app.inject({ method: 'GET', url: `/v1/offers/${encodeURIComponent(id)}`, headers: { accept: 'application/fhir+json' } });
  return answer.json<Bundle>();
}

t.test('every example offer: its FHIR, ids removed, posted back as FHIR under a new identifier, is the same record', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  for (const { file, offer } of examples) {
    t.equal((await app.inject({ method: 'POST', url: '/v1/offers', payload: offer })).statusCode, 201, `${file}: posted as JSON`);
    const id = `${offer.identifiantOffre}-FHIR`;
    const posted = await app.inject({ method: 'POST', url: '/v1/offers', headers: FHIR, payload: repostable(await fhirOf(app, offer.identifiantOffre), (r) => renameOffer(r, id)) });
    t.equal(posted.statusCode, 201, `${file}: posted as FHIR\n${posted.body.slice(0, 1500)}`);
    t.ok(issuesOf(posted.json<{ outcome: OperationOutcome }>().outcome).every((i) => i.severity === 'warning'), `${file}: warnings only`);
    const original = (await app.inject({ method: 'GET', url: `/v1/offers/${encodeURIComponent(offer.identifiantOffre)}` })).json<object>();
    const copy = (await app.inject({ method: 'GET', url: `/v1/offers/${encodeURIComponent(id)}` })).json<object>();
    t.same(copy, { ...original, identifiantOffre: id }, `${file}: the same record`);
  }
});

t.test('ROR shapes: a structure known by its idNatSt, an element the offer cannot hold, one offer per POST', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const [{ offer }] = examples as [(typeof examples)[number]];
  t.equal((await app.inject({ method: 'POST', url: '/v1/offers', payload: offer })).statusCode, 201);
  const bundle = repostable(await fhirOf(app, offer.identifiantOffre), (r) => renameOffer(r, 'ROR-0001'));
  const entries = bundle.entry ?? [];
  const organizationAt = entries.findIndex((e) => e.resource?.resourceType === 'Organization');
  const organization = entries[organizationAt]?.resource as Organization;
  organization.identifier = [{ system: 'urn:oid:1.2.250.1.71.4.2.2', value: `1${offer.structure.finess}` }];
  const serviceAt = entries.findIndex((e) => e.resource?.resourceType === 'HealthcareService');
  (entries[serviceAt]?.resource as HealthcareService).appointmentRequired = true;

  const posted = await app.inject({ method: 'POST', url: '/v1/offers', headers: FHIR, payload: bundle });
  t.equal(posted.statusCode, 201, posted.body.slice(0, 1500));
  t.ok(
    issuesOf(posted.json<{ outcome: OperationOutcome }>().outcome).some((i) => i.expression === `Bundle.entry[${serviceAt}].resource.appointmentRequired` && i.severity === 'warning'),
    'the element not held is named',
  );
  const read = (await app.inject({ method: 'GET', url: '/v1/offers/ROR-0001' })).json<{ structure: { finess: string } }>();
  t.equal(read.structure.finess, offer.structure.finess, 'the FINESS read from the idNatSt');

  const noCareMode = structuredClone(bundle);
  (noCareMode.entry?.[serviceAt]?.resource as HealthcareService).characteristic = [];
  const refused = await app.inject({ method: 'POST', url: '/v1/offers', headers: FHIR, payload: noCareMode });
  t.equal(refused.statusCode, 422);
  t.same(issuesOf(refused.json()).map((i) => i.expression), [`Bundle.entry[${serviceAt}].resource`], 'a care mode missing: on the HealthcareService');

  const badPostal = structuredClone(bundle);
  const locationAt = entries.findIndex((e) => e.resource?.resourceType === 'Location');
  const location = badPostal.entry?.[locationAt]?.resource as { address: { postalCode: string } };
  location.address.postalCode = '7501';
  const postal = await app.inject({ method: 'POST', url: '/v1/offers', headers: FHIR, payload: badPostal });
  t.equal(postal.statusCode, 422);
  t.ok(issuesOf(postal.json()).some((i) => i.expression === `Bundle.entry[${locationAt}].resource.address`), `a bad postal code, on the Location: ${postal.body}`);

  const two = structuredClone(bundle);
  two.entry?.push(structuredClone(entries[serviceAt] ?? {}));
  const twice = await app.inject({ method: 'POST', url: '/v1/offers', headers: FHIR, payload: two });
  t.equal(twice.statusCode, 422);
  t.same(issuesOf(twice.json()).map((i) => i.expression), ['Bundle.entry']);
});
