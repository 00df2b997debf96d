// GET /v1/deliveries by source system, kind and time of acceptance, page after page; bad dates are 400s
// naming the parameter; DELETE discards a dead letter only.
import { readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore, FhirStoreError } from '../../../src/fhir/index.ts';
import type { CallContext } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;

class RefusingStore extends EmbeddedStore {
  override async transaction(bundle: Bundle, ctx?: CallContext): Promise<Bundle> {
    if (bundle.entry?.some((entry) => entry.resource?.resourceType === 'Encounter')) {
      throw new FhirStoreError('invalid', 'refused', { status: 422, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'no', expression: ['Encounter.subject'] }] } });
    }
    return super.transaction(bundle, ctx);
  }
}

const { app } = await testApp({}, new RefusingStore());
t.teardown(() => app.close());
const sources = ['https://dpi-a.example.fr', 'https://dpi-a.example.fr', 'https://dpi-a.example.fr', 'https://dpi-b.example.fr'];
for (const [n, source] of sources.entries()) {
  const answer = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, source, actId: `Q-${n}` } });
  if (answer.statusCode !== 422) throw new Error(`expected a refusal: ${answer.statusCode}`);
}
const list = async (query: string) => app.inject({ method: 'GET', url: `/v1/deliveries?status=dead&${query}` });

t.test('by source, with the server outcome kept; pages joined by next', async (t) => {
  const a = (await list(`source=${encodeURIComponent('https://dpi-a.example.fr')}`)).json();
  t.equal(a.total, 3);
  t.ok(a.deliveries.every((d: { source: string }) => d.source === 'https://dpi-a.example.fr'));
  t.same(a.deliveries[0].lastError.serverOutcome.issue[0].expression, ['Encounter.subject'], "the FHIR server's OperationOutcome, with its expressions");
  const first = (await list('limit=2')).json();
  t.equal(first.total, 4);
  t.type(first.next, 'number', 'a full page says where the next one starts');
  const second = (await list(`limit=2&after=${String(first.next)}`)).json();
  t.equal(second.deliveries.length, 2);
  t.type(second.next, 'number', 'the second page is full too');
  const third = (await list(`limit=2&after=${String(second.next)}`)).json();
  t.equal(third.deliveries.length, 0);
  t.notOk('next' in third, 'no next after the last page');
  t.equal((await list('kind=offer')).json().total, 0, 'by kind');
});

t.test('by time of acceptance; a bad date is a 400 naming it', async (t) => {
  t.equal((await list('from=2000-01-01')).json().total, 4);
  t.equal((await list('to=2000-01-01T00:00:00Z')).json().total, 0);
  const bad = await list('from=2026-13-45');
  t.equal(bad.statusCode, 400);
  t.same(bad.json().issue[0].expression, ['query.from']);
  t.equal((await list('to=demain')).statusCode, 400);
});

t.test('DELETE discards a dead letter; not a pending one; 404 after', async (t) => {
  const [dead] = (await list('limit=1')).json().deliveries as { id: string }[];
  if (dead === undefined) throw new Error('no dead letter');
  const discarded = await app.inject({ method: 'DELETE', url: `/v1/deliveries/${dead.id}` });
  t.equal(discarded.statusCode, 200);
  t.same(discarded.json(), { deliveryId: dead.id, status: 'discarded' });
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/deliveries/${dead.id}` })).statusCode, 404);
  const audits = (await app.inject({ method: 'GET', url: '/v1/deliveries?status=delivered&kind=audit&limit=1000' })).json();
  t.ok(audits.total >= 1, 'audit records were written');
});
