// Reading personal health data is traced as writing it is: a read of an act and a search of acts each
// leave an AuditEvent naming the client, what was disclosed (by reference and business identifier) and,
// for a search, which criteria were used, never their values: no INS reaches the audit trail.
import { readFileSync } from 'node:fs';
import type { AuditEvent } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const path = `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;

async function auditEvents(store: EmbeddedStore, count: number): Promise<AuditEvent[]> {
  for (let i = 0; i < 100; i++) {
    const found = ((await store.search<AuditEvent>('AuditEvent', { _count: '100' })).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${count} AuditEvents`);
}

t.test('a read of an act and a search of acts are audited, without personal data', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: act })).statusCode, 201);
  const read = await app.inject({ method: 'GET', url: path });
  t.equal(read.statusCode, 200);
  const asFhir = await app.inject({ method: 'GET', url: path, headers: { accept: 'application/fhir+json' } });
  t.equal(asFhir.statusCode, 200);
  const search = await app.inject({ method: 'GET', url: `/v1/acts?patientIns=${act.patient.ins ?? ''}` });
  t.equal(search.statusCode, 200);
  t.equal(search.json().total, 1);
  const missing = await app.inject({ method: 'GET', url: `${path}-inconnu` });
  t.equal(missing.statusCode, 404);

  // The indicators are counts, not personal data: reading them is not audited.
  const indicators = await app.inject({ method: 'GET', url: '/v1/indicators?from=2025-01-01&to=2026-01-01' });
  t.equal(indicators.statusCode, 200);

  await auditEvents(store, 5);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const events = await auditEvents(store, 5);
  t.equal(events.length, 5, 'the write, three reads and a search; nothing for the indicators');
  t.notOk(JSON.stringify(events).includes('/v1/indicators'));
  const reads = events.filter((e) => e.action === 'R');
  const searches = events.filter((e) => e.action === 'E' && e.subtype?.[0]?.code === 'search-type');
  t.equal(events.filter((e) => e.action === 'C').length, 1, 'the write');
  t.equal(reads.length, 3, 'two reads of the act and the read of an unknown one');
  t.equal(searches.length, 1, 'the search');
  const encounter = `Encounter/${(search.json().acts[0] as { reference: string }).reference.split('/')[1]}`;
  const succeeded = reads.filter((e) => e.outcome === '0');
  t.equal(succeeded.length, 2);
  for (const [index, event] of succeeded.entries()) t.ok(event.entity?.some((entity) => entity.what?.identifier?.value === act.actId), `read ${index}: names the act`);
  t.ok(succeeded.some((event) => event.entity?.some((entity) => entity.what?.reference === encounter)), 'the FHIR read names the resources it disclosed');
  t.equal(reads.filter((e) => e.outcome === '4').length, 1, 'the unknown act: a failed read, audited too');
  const searched = searches[0] as AuditEvent;
  t.ok(searched.entity?.some((entity) => entity.what?.reference === encounter), 'the search names the act it disclosed');
  t.ok(searched.entity?.some((entity) => entity.detail?.some((d) => d.type === 'search-criteria' && (d.valueString ?? '').split(',').includes('patientIns'))), 'and its criteria, by name');
  const text = JSON.stringify(events);
  for (const secret of [act.patient.ins ?? '', act.patient.traits.birthFamilyName, act.patient.traits.birthDate]) t.notOk(text.includes(secret), 'no personal data in the audit trail');
});
