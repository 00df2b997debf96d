import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import { normalizeOffer } from '../../../src/mapping/index.ts';
import { testApp } from '../../support/app.ts';
import { example, examples, invalidExamples } from '../mapping/offer-examples.ts';

t.test('every example offer is accepted (201), then accepted again unchanged (200), and reads back as sent', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  for (const { file, offer } of examples) {
    const first = await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
    t.equal(first.statusCode, 201, `${file}: ${first.body.slice(0, 300)}`);
    t.ok(first.json().references.some((reference: string) => reference.startsWith('HealthcareService/')), `${file}: references`);
    const second = await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
    t.equal(second.statusCode, 200, `${file}: repeat`);
    t.equal(await store.count('HealthcareService', { identifier: `https://telesante-fhir.fr/fhir/sid/offre|${offer.identifiantOffre}` }), 1, `${file}: one HealthcareService`);
    const read = await app.inject({ method: 'GET', url: `/v1/offers/${encodeURIComponent(offer.identifiantOffre)}` });
    t.equal(read.statusCode, 200);
    t.same(read.json(), normalizeOffer(offer), `${file}: round trip`);
  }
});

t.test('every invalid example is refused with each mistake named, and nothing is written', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  for (const invalid of invalidExamples) {
    const response = await app.inject({ method: 'POST', url: '/v1/offers', payload: invalid.offer as object });
    t.equal(response.statusCode, invalid.expect.status, invalid.file);
    const outcome = response.json();
    t.equal(outcome.resourceType, 'OperationOutcome');
    const named = outcome.issue.filter((issue: { severity: string }) => issue.severity === 'error').map((issue: { expression: string[] }) => issue.expression[0]);
    for (const expected of invalid.expect.issues.filter((issue) => issue.severity === 'error')) {
      t.ok(named.includes(expected.field), `${invalid.file}: ${expected.field} named`);
    }
  }
  t.equal(await store.count('HealthcareService', {}), 0, 'nothing written');
  t.equal(await store.count('Organization', {}), 0, 'nothing written');
});

t.test('GET with Accept: application/fhir+json gives the FHIR resources; an unknown offer is a 404', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const offer = example('gp-teleconsultation');
  await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
  const fhir = await app.inject({ method: 'GET', url: `/v1/offers/${offer.identifiantOffre}`, headers: { accept: 'application/fhir+json' } });
  t.equal(fhir.statusCode, 200);
  t.match(fhir.headers['content-type'], /application\/fhir\+json/);
  const types = (fhir.json() as Bundle).entry?.map((entry) => entry.resource?.resourceType).sort();
  t.ok(types?.includes('HealthcareService') && types.includes('Organization') && types.includes('Location'), `types: ${types?.join(',')}`);
  const missing = await app.inject({ method: 'GET', url: '/v1/offers/NO-SUCH-OFFER' });
  t.equal(missing.statusCode, 404);
  t.same(missing.json().issue[0].expression, ['offerId']);
});

t.test('search by modality, FINESS, specialty and postal code; paging', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  for (const { offer } of examples) await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
  const gp = example('gp-teleconsultation');
  const byModality = await app.inject({ method: 'GET', url: '/v1/offers?modality=teleconsultation' });
  t.equal(byModality.statusCode, 200);
  const ids = byModality.json().offers.map((o: { identifiantOffre: string }) => o.identifiantOffre);
  t.ok(ids.includes(gp.identifiantOffre), 'the GP téléconsultation offer is found');
  t.notOk(ids.includes(example('nurse-telesoin').identifiantOffre), 'the télésoin offer is not');
  const byFiness = await app.inject({ method: 'GET', url: `/v1/offers?finess=${gp.structure.finess}` });
  t.same(byFiness.json().offers.map((o: { identifiantOffre: string }) => o.identifiantOffre), [gp.identifiantOffre]);
  const postalCode = gp.sites[0]?.address.postalCode ?? '';
  const byPlace = await app.inject({ method: 'GET', url: `/v1/offers?postalCode=${postalCode}` });
  t.ok(byPlace.json().offers.some((o: { identifiantOffre: string }) => o.identifiantOffre === gp.identifiantOffre));
  const page = await app.inject({ method: 'GET', url: '/v1/offers?pageSize=2&page=1' });
  t.equal(page.json().offers.length, 2);
  t.equal(page.json().total, examples.length);
  const bad = await app.inject({ method: 'GET', url: '/v1/offers?modality=telepathy&pageSize=0' });
  t.equal(bad.statusCode, 400);
  t.same(bad.json().issue.map((issue: { expression: string[] }) => issue.expression[0]).sort(), ['query.modality', 'query.pageSize']);
});

t.test('DELETE withdraws the offer: inactive, history kept; an unknown one is a 404', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  const offer = example('nurse-telesoin');
  await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
  const withdrawn = await app.inject({ method: 'DELETE', url: `/v1/offers/${offer.identifiantOffre}` });
  t.equal(withdrawn.statusCode, 200);
  const read = await app.inject({ method: 'GET', url: `/v1/offers/${offer.identifiantOffre}` });
  t.equal(read.json().active, false);
  const inactive = await app.inject({ method: 'GET', url: '/v1/offers?active=false' });
  t.ok(inactive.json().offers.some((o: { identifiantOffre: string }) => o.identifiantOffre === offer.identifiantOffre));
  const missing = await app.inject({ method: 'DELETE', url: '/v1/offers/NOPE' });
  t.equal(missing.statusCode, 404);
});

t.test('ten identical offers posted at once leave one HealthcareService', async (t) => {
  const store = new EmbeddedStore();
  // About what lands, not latency: on a loaded machine ten queued deliveries can outlast the default wait.
  const { app } = await testApp({ DELIVERY_WAIT_MS: '120000' }, store);
  t.teardown(() => app.close());
  const offer = example('hospital-teleexpertise-dermatologie');
  const answers = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'POST', url: '/v1/offers', payload: offer })));
  t.same(answers.map((a) => a.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
  t.equal(await store.count('HealthcareService', {}), 1);
});
