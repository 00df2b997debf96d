// The audit trail on a real HAPI server: a write through the app leaves an AuditEvent HAPI accepts (and
// validates as FHIR R4), found by its agent, naming the act without any of its personal data.
import type { AuditEvent } from '@medplum/fhirtypes';
import t from 'tap';
import { FhirHttp } from '../../scripts/load-conformance.ts';
import { HapiStore } from '../../src/fhir/index.ts';
import type { Act } from '../../src/model/act.ts';
import { testApp } from '../support/app.ts';
import { testIssuer } from '../support/auth.ts';
import { HAPI_APP_ENV, hapiBaseUrl, runId } from '../support/hapi.ts';
import { example, exampleFiles } from '../unit/mapping/act-examples.ts';

const baseUrl = await hapiBaseUrl();

if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  t.test('a write leaves a valid AuditEvent on HAPI, by the client that made it', async (t) => {
    const run = runId();
    const source = example(exampleFiles[0] as string);
    const act: Act = { ...source, actId: `${source.actId}-${run}`, patient: { ...source.patient, ipp: { ...source.patient.ipp, value: `${source.patient.ipp.value}-${run}` } } };
    const issuer = await testIssuer();
    const store = new HapiStore({ baseUrl, timeoutMs: 30_000, retries: 1 });
    const { app } = await testApp({ ...HAPI_APP_ENV }, store, { auth: { issuer } });
    t.teardown(() => app.close());
    const client = `dpi-audit-${run}`;
    const token = await issuer.sign({ client_id: client, sub: `user-${run}`, scope: 'acts:write' });
    const posted = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: { authorization: `Bearer ${token}`, 'x-request-id': `audit-${run}` } });
    t.equal(posted.statusCode, 201, posted.body.slice(0, 300));
    let events: AuditEvent[] = [];
    for (let i = 0; i < 100 && events.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      // HAPI has no search by agent identifier: the recent ones, filtered by the client of this run.
      const recent = ((await store.search<AuditEvent>('AuditEvent', { _count: '100', _sort: '-_lastUpdated' })).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
      events = recent.filter((e) => e.agent?.some((agent) => agent.who?.identifier?.value === client));
    }
    t.equal(events.length, 1, 'one AuditEvent');
    const event = events[0] as AuditEvent;
    t.match(event, { action: 'C', outcome: '0', type: { code: 'rest' } });
    t.ok(event.entity?.some((entity) => entity.what?.identifier?.value === act.actId), 'names the act');
    const text = JSON.stringify(event);
    for (const secret of [act.patient.ins ?? '', act.patient.traits.birthFamilyName, act.patient.traits.birthDate]) t.notOk(text.includes(secret), 'no personal data');
    const { outcome } = await new FhirHttp(baseUrl).validate(event);
    const errors = outcome.issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
    t.same(errors, [], 'HAPI finds it valid FHIR R4');
  });
}
