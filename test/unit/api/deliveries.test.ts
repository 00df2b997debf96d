// Writes through the outbox, seen from HTTP: Idempotency-Key, 202 when the FHIR server is down, the
// deliveries API, and the same answers as before when delivery is quick.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { EmbeddedStore, HapiStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;

t.test('an Idempotency-Key gives the same answer for the same body, and 422 for another body', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  const headers = { 'idempotency-key': 'dpi-msg-0001' };
  const first = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers });
  t.equal(first.statusCode, 201, first.body.slice(0, 300));
  const again = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act }, headers });
  t.equal(again.statusCode, 201);
  t.same(again.json(), first.json(), 'the same answer');
  t.equal(again.headers['x-delivery-id'], first.headers['x-delivery-id'], 'the same delivery, not a second one');
  const other = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, status: 'in-progress' }, headers });
  t.equal(other.statusCode, 422);
  t.equal(other.json().issue[0].expression[0], 'header.idempotency-key');
  t.equal(await store.count('Encounter', {}), 1);
  const bad = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: { 'idempotency-key': 'with space' } });
  t.equal(bad.statusCode, 400);
});

t.test('bad input is refused at once even when the FHIR server is down; good input gets 202 and a delivery to follow', async (t) => {
  const store = new HapiStore({ baseUrl: 'http://127.0.0.1:9/fhir', timeoutMs: 1_000, retries: 0 });
  const { app } = await testApp({ DELIVERY_WAIT_MS: '300', DELIVERY_BACKOFF_MS: '50' }, store);
  t.teardown(() => app.close());
  const invalid = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, end: '2025-03-11T14:00:00+01:00' } });
  t.equal(invalid.statusCode, 422, 'a business rule broken: 422, never 202');
  const accepted = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
  t.equal(accepted.statusCode, 202, accepted.body.slice(0, 300));
  const location = accepted.headers.location as string;
  t.match(location, /^\/v1\/deliveries\/[0-9a-f-]{36}$/);
  t.equal(accepted.json().location, location);
  const state = await app.inject({ method: 'GET', url: location });
  t.equal(state.statusCode, 200);
  t.equal(state.json().status, 'pending');
  t.ok(state.json().attempts >= 1, 'tried already');
  t.equal(state.json().lastError.status, 503, 'the last error says the server is unavailable');
  t.notOk('payload' in state.json(), 'the message (personal data) is not shown');
  const pending = await app.inject({ method: 'GET', url: '/v1/deliveries?status=pending' });
  t.equal(pending.json().total, 1);
  const audits = await app.inject({ method: 'GET', url: '/v1/deliveries?status=pending&kind=audit' });
  t.ok(audits.json().total >= 1, 'the audit records wait for the server too, listed apart');
  const replay = await app.inject({ method: 'POST', url: `${location}/$replay` });
  t.equal(replay.statusCode, 409, 'only dead letters are replayed');
  const unknown = await app.inject({ method: 'GET', url: '/v1/deliveries/00000000-0000-0000-0000-000000000000' });
  t.equal(unknown.statusCode, 404);
});

t.test('a report for an unknown act is refused within the wait, naming its dead letter', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const put = await app.inject({
    method: 'PUT',
    url: `/v1/acts/${encodeURIComponent(act.source)}/NOPE/report`,
    payload: act.report,
  });
  t.equal(put.statusCode, 404);
  const dead = await app.inject({ method: 'GET', url: put.headers.location as string });
  t.equal(dead.json().status, 'dead');
  t.equal(dead.json().lastError.status, 404);
});
