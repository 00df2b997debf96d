// A client bound to structures: the route reads the stored act (is it one of theirs?) and the worker
// writes it from that read, not from a second search of the store, unless an act write ended meanwhile
// (src/writes/acts.ts, StoredActReads). A client bound to nothing: the worker probes which of its new acts
// are stored, and reads in full only those.
import { readFileSync } from 'node:fs';
import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { CallContext, SearchParams } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { authEnv } from '../../support/auth.ts';

const example = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const finess = example.performers.find((performer) => performer.finess !== undefined)?.finess ?? '';
const KEY = 'cle-dpi-de-test';

/** The embedded store, counting the reads of stored acts (an Encounter search with what hangs on it) and the probes. */
class CountingStore extends EmbeddedStore {
  encounterSearches = 0;
  probes = 0;
  override async search<T extends Resource>(type: ResourceType, params: SearchParams, ctx?: CallContext): Promise<Bundle<T>> {
    if (type === 'Encounter' && params._revinclude !== undefined) this.encounterSearches++;
    return super.search<T>(type, params, ctx);
  }
  override async probe<T extends Resource>(type: ResourceType, params: SearchParams, ctx?: CallContext): Promise<Bundle<T>> {
    this.probes++;
    return super.probe<T>(type, params, ctx);
  }
}

async function bound(store: CountingStore) {
  const env = { ...authEnv({ apiKeys: [{ id: 'dpi', key: KEY, scopes: ['acts:write', 'acts:read'], finess: [finess] }] }), DELIVERY_WAIT_MS: '10000' };
  const { app } = await testApp(env, store);
  return app;
}

const post = (app: Awaited<ReturnType<typeof bound>>, act: Act) =>
  app.inject({ method: 'POST', url: '/v1/acts', headers: { 'x-api-key': KEY }, payload: act });

t.test('one search of the store per act posted by a bound client, not two', async (t) => {
  const store = new CountingStore();
  const app = await bound(store);
  t.teardown(() => app.close());
  for (let n = 0; n < 5; n++) {
    const response = await post(app, { ...example, actId: `READS-${n}` });
    t.equal(response.statusCode, 201, `READS-${n}`);
  }
  t.equal(store.encounterSearches, 5, 'the route read each act; the worker used that read');

  // A repost of a stored act: read at acceptance (found), written from that read, still nothing new.
  const again = await post(app, { ...example, actId: 'READS-0' });
  t.equal(again.statusCode, 201);
  t.equal(store.encounterSearches, 6);
  const encounters = await store.search('Encounter', { identifier: `${example.source}|READS-0` });
  t.equal(encounters.entry?.length, 1, 'one Encounter for the act');

  // A report amendment and a cancellation: each read once, by the route, for the worker too.
  const path = (actId: string) => `/v1/acts/${encodeURIComponent(example.source)}/${actId}`;
  const amended = { ...example.report, id: 'CR-READS-1', text: `${example.report?.text ?? ''}\nAddendum.` };
  const put = await app.inject({ method: 'PUT', url: `${path('READS-1')}/report`, headers: { 'x-api-key': KEY }, payload: amended });
  t.equal(put.statusCode, 200, put.body.slice(0, 300));
  t.equal(store.encounterSearches, 7, 'the amendment: one search');
  const cancel = await app.inject({ method: 'DELETE', url: path('READS-2'), headers: { 'x-api-key': KEY }, payload: { reason: 'Acte saisi sur le mauvais patient', status: 'entered-in-error' } });
  t.equal(cancel.statusCode, 200, cancel.body.slice(0, 300));
  t.equal(store.encounterSearches, 8, 'the cancellation: one search');
  const reports = await store.search('DocumentReference', { _count: '50' });
  t.equal(reports.entry?.filter((entry) => (entry.resource as { status?: string }).status === 'superseded').length, 1, 'the amendment superseded the report it read');
});

t.test('a read begun before an act write ended is not used: the worker searches again', async (t) => {
  const store = new CountingStore();
  const app = await bound(store);
  t.teardown(() => app.close());
  // Two posts of the same act at once: the second's read may have begun before the first was written,
  // so its write searches again, and it is written over what the first stored, as a repost.
  const [first, second] = await Promise.all([post(app, { ...example, actId: 'RACE-1' }), post(app, { ...example, actId: 'RACE-1' })]);
  t.equal(first.statusCode, 201);
  t.equal(second.statusCode, 201);
  t.equal(store.encounterSearches, 3, 'two reads at acceptance, one search by the worker for the second');
  const encounters = await store.search('Encounter', { identifier: `${example.source}|RACE-1` });
  t.equal(encounters.entry?.length, 1, 'one Encounter');
});

t.test('new acts of a client bound to no structure: one light probe per batch, a full read only of what it finds', async (t) => {
  const store = new CountingStore();
  const { app } = await testApp({ DELIVERY_WAIT_MS: '10000' }, store);
  t.teardown(() => app.close());
  const postOpen = (act: Act) => app.inject({ method: 'POST', url: '/v1/acts', payload: act });
  for (let n = 0; n < 3; n++) t.equal((await postOpen({ ...example, actId: `PROBE-${n}` })).statusCode, 201, `PROBE-${n}`);
  t.equal(store.probes, 3, 'one probe for each act (one at a time)');
  t.equal(store.encounterSearches, 0, 'no full read of an act the probe did not find');

  // The act sent again, changed: the probe finds it, and only then is it read in full, to be written over what is stored.
  const changed = { ...example, actId: 'PROBE-0', report: { ...example.report, text: `${example.report?.text ?? ''}\nComplément.` } } as Act;
  t.equal((await postOpen(changed)).statusCode, 201);
  t.equal(store.probes, 4);
  t.equal(store.encounterSearches, 1, 'the stored act read in full');
  const encounters = await store.search('Encounter', { identifier: `${example.source}|PROBE-0` });
  t.equal(encounters.entry?.length, 1, 'one Encounter for the act');
  const provenances = await store.search('Provenance', { _count: '50' });
  const activities = (provenances.entry ?? []).map((entry) => (entry.resource as { activity?: { coding?: { code?: string }[] } }).activity?.coding?.[0]?.code);
  t.ok(activities.includes('UPDATE'), `the change is recorded as an update of the stored act: ${JSON.stringify(activities)}`);
});
