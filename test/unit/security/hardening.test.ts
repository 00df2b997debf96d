// Security headers, rate limits per client, body limits per route, the audit trail of writes.
import { readFileSync } from 'node:fs';
import type { AuditEvent, Provenance } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { testIssuer } from '../../support/auth.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;

t.test('security headers on every answer; the HTML pages carry a policy that lets them run', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const health = await app.inject({ method: 'GET', url: '/health' });
  t.equal(health.headers['x-content-type-options'], 'nosniff');
  t.equal(health.headers['x-frame-options'], 'SAMEORIGIN');
  t.match(health.headers['strict-transport-security'], /max-age=/);
  t.match(health.headers['content-security-policy'], /frame-ancestors 'none'/);
  t.notMatch(health.headers['content-security-policy'], /upgrade-insecure-requests/);
  const dashboard = await app.inject({ method: 'GET', url: '/dashboard' });
  t.match(dashboard.headers['content-security-policy'], /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, 'the inline script by its hash, nothing else inline');
  t.notMatch(dashboard.headers['content-security-policy'], /unsafe-inline/);
  const docs = await app.inject({ method: 'GET', url: '/docs/' });
  t.match(docs.headers['content-security-policy'], /script-src 'self'/, 'swagger-ui: its own scripts (it has no inline one)');
  t.notMatch(docs.headers['content-security-policy'], /unsafe-inline|upgrade-insecure-requests/);
  const error = await app.inject({ method: 'GET', url: '/v1/nothing' });
  t.equal(error.headers['x-content-type-options'], 'nosniff', 'errors too');
});

t.test('the rate limit counts per client: one client over its share gets 429 OperationOutcomes, another is not slowed', async (t) => {
  const issuer = await testIssuer();
  const { app } = await testApp({ RATE_LIMIT_PER_MINUTE: '3' }, undefined, { auth: { issuer } });
  t.teardown(() => app.close());
  const a = { authorization: `Bearer ${await issuer.sign({ client_id: 'client-a', scope: 'offers:read' })}` };
  const b = { authorization: `Bearer ${await issuer.sign({ client_id: 'client-b', scope: 'offers:read' })}` };
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ method: 'GET', url: '/v1/offers', headers: a })).statusCode);
  t.same(statuses, [200, 200, 200, 429]);
  const limited = await app.inject({ method: 'GET', url: '/v1/offers', headers: a });
  t.equal(limited.json().resourceType, 'OperationOutcome');
  t.equal(limited.json().issue[0].code, 'throttled');
  t.match(limited.headers['retry-after'], /^\d+$/);
  t.equal((await app.inject({ method: 'GET', url: '/v1/offers', headers: b })).statusCode, 200, 'another client from the same address');
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'health is never limited');
});

t.test('body limits per route: 1 MB for INS checks, more for acts', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const big = JSON.stringify({ ins: '1'.repeat(1_100_000) });
  const ins = await app.inject({ method: 'POST', url: '/v1/ins/check', headers: { 'content-type': 'application/json' }, payload: big });
  t.equal(ins.statusCode, 413);
  t.match(ins.json().issue[0].details.text, /1048576 octets/);
  const acts = await app.inject({ method: 'POST', url: '/v1/acts', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...act, report: { ...act.report, text: 'x'.repeat(1_100_000) } }) });
  t.not(acts.statusCode, 413, 'an act of 1.1 MB is within its limit');
});

t.test('every write leaves an AuditEvent (who, what, when, outcome, request id) and a log line, without personal data', async (t) => {
  const issuer = await testIssuer();
  const store = new EmbeddedStore();
  // A window of one second: the refused write's aggregate AuditEvent comes within the test.
  const { app, logs } = await testApp({ RATE_LIMIT_ANONYMOUS_WINDOW_S: '1' }, store, { auth: { issuer } });
  t.teardown(() => app.close());
  const token = await issuer.sign({ sub: 'dr.martin@msp', client_id: 'dpi-batignolles', scope: 'acts:write acts:read' });
  const posted = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-audit-1' } });
  t.equal(posted.statusCode, 201, posted.body.slice(0, 300));
  const refused = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: { 'x-request-id': 'req-audit-2' } });
  t.equal(refused.statusCode, 401);
  const read = await app.inject({ method: 'GET', url: '/v1/acts', headers: { authorization: `Bearer ${token}` } });
  t.equal(read.statusCode, 200);

  let events: AuditEvent[] = [];
  for (let i = 0; i < 300 && events.length < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    events = ((await store.search<AuditEvent>('AuditEvent', { _count: '50' })).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  }
  t.equal(events.length, 3, 'a write, a read of acts (personal health data), the aggregate of the failed authentication');
  const search = events.find((e) => e.action === 'E' && e.type?.code === 'rest');
  t.match(search, { subtype: [{ code: 'search-type' }], outcome: '0' }, 'the search of acts');
  t.same(search?.agent?.map((agent) => agent.who?.identifier?.value), ['dpi-batignolles', 'dr.martin@msp'], 'by whom');
  const byRequest = (id: string) => events.find((e) => e.entity?.some((entity) => entity.what?.identifier?.value === id));
  const ok = byRequest('req-audit-1');
  t.match(ok, {
    type: { code: 'rest' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'create' }],
    action: 'C',
    outcome: '0',
    source: { observer: { display: 'telesante-fhir' } },
  });
  t.same(ok?.agent?.map((agent) => agent.who?.identifier?.value), ['dpi-batignolles', 'dr.martin@msp'], 'the client and the subject');
  t.ok(ok?.entity?.some((entity) => entity.what?.identifier?.system === act.source && entity.what.identifier.value === act.actId), 'the act by its business identifier');
  const named = (ok?.entity ?? []).flatMap((entity) => (entity.what?.reference === undefined ? [] : [entity.what.reference]));
  t.same(named.map((reference) => reference.split('/')[0]).sort(), ['Encounter', 'Patient', 'Provenance'], `the patient, the act's Encounter and the write's Provenance, by reference: ${JSON.stringify(named)}`);
  const provenance = await store.read<Provenance>('Provenance', named.find((reference) => reference.startsWith('Provenance/'))?.split('/')[1] ?? '');
  const targets = (provenance?.target ?? []).map((target) => target.reference?.split('/')[0]);
  for (const type of ['Encounter', 'Patient', 'Consent', 'DocumentReference', 'PractitionerRole']) t.ok(targets.includes(type), `the Provenance names each resource written: ${type}`);
  t.ok(Date.parse(ok?.recorded ?? '') > 0);
  t.equal(byRequest('req-audit-2'), undefined, 'the refused write has no AuditEvent of its own…');
  const ko = events.find((e) => e.type?.code === '110114');
  t.match(ko, { outcome: '4', agent: [{ network: { address: '127.0.0.1' } }] }, '…it is counted in its address’s aggregate');
  const text = JSON.stringify(events);
  for (const secret of [act.patient.ins ?? '', act.patient.traits.birthFamilyName, act.patient.traits.birthDate, ...act.patient.traits.birthGivenNames]) {
    t.notOk(text.includes(secret), `no ${secret} in the audit trail`);
  }
  t.match(logs(), /"audit":\{"client":"dpi-batignolles","method":"POST","route":"\/v1\/acts","status":201\}.*"msg":"write audited"/);
});
