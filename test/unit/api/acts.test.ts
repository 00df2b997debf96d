import { readdirSync, readFileSync } from 'node:fs';
import type { DocumentReference, Encounter } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';

const DIR = new URL('../../../examples/acts/', import.meta.url);
const examples = readdirSync(DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ file, act: JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Act }));
const expected = JSON.parse(readFileSync(new URL('invalid/expected.json', DIR), 'utf8')) as Record<string, { status: number; codes: string[] }>;

function pathOf(act: Act): string {
  return `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
}

t.test('every example act is recorded, a repeat changes nothing, and it reads back as sent', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  for (const { file, act } of examples) {
    const first = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
    t.equal(first.statusCode, 201, `${file}: ${first.body.slice(0, 400)}`);
    const again = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
    t.equal(again.statusCode, 201, `${file}: repeat`);
    const key = `${act.source}|${act.actId}`;
    t.equal(await store.count('Encounter', { identifier: key }), 1, `${file}: one Encounter`);
    const encounter = (await store.search<Encounter>('Encounter', { identifier: key })).entry?.[0]?.resource;
    t.equal(await store.count('Provenance', { target: `Encounter/${encounter?.id}` }), 1, `${file}: one Provenance`);
    t.equal((await store.history('Encounter', encounter?.id ?? '')).entry?.length, 1, `${file}: one version`);
    const read = await app.inject({ method: 'GET', url: pathOf(act) });
    t.equal(read.statusCode, 200);
    t.same(read.json(), act, `${file}: round trip`);
  }
  t.equal(await store.count('Patient', {}), examples.length, 'one Patient per act, none doubled');
});

t.test('every invalid act is refused with its named rule, and nothing is written', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  for (const [file, expectation] of Object.entries(expected)) {
    const act = JSON.parse(readFileSync(new URL(`invalid/${file}`, DIR), 'utf8')) as Act;
    const response = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
    t.equal(response.statusCode, expectation.status === 200 || expectation.status === 201 ? 201 : expectation.status, file);
    if (response.statusCode >= 400) {
      const codes = response.json().issue.map((issue: { diagnostics: string }) => issue.diagnostics);
      for (const code of expectation.codes) t.ok(codes.some((found: string) => found.includes(code)), `${file}: ${code} in ${codes.join(', ')}`);
    }
  }
  const accepted = Object.values(expected).filter((e) => e.status < 300).length;
  t.equal(await store.count('Encounter', {}), accepted, 'only the acceptable acts were written');
});

t.test('the same act posted ten times at once: one Encounter, one Patient', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  const act = examples[0]?.act as Act;
  const answers = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'POST', url: '/v1/acts', payload: act })));
  t.same([...new Set(answers.map((answer) => answer.statusCode))], [201]);
  t.equal(await store.count('Encounter', {}), 1);
  t.equal(await store.count('Patient', {}), 1);
});

t.test('an amended report supersedes the old one; a cancellation marks the act, with its Provenance', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  const act = examples[0]?.act as Act;
  await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
  const amended = { ...act.report, id: 'CR-amende-1', text: `${act.report?.text ?? ''}\nAddendum : traitement confirmé.` };
  const put = await app.inject({ method: 'PUT', url: `${pathOf(act)}/report`, payload: amended });
  t.equal(put.statusCode, 200, put.body.slice(0, 400));
  const reports = (await store.search<DocumentReference>('DocumentReference', { _count: '50' })).entry?.map((entry) => entry.resource) ?? [];
  t.equal(reports.length, 2, 'two reports');
  t.equal(reports.filter((report) => report?.status === 'superseded').length, 1, 'one superseded');
  t.ok(reports.some((report) => report?.relatesTo?.[0]?.code === 'replaces'), 'the new one replaces it');
  const encounter = (await store.search<Encounter>('Encounter', { identifier: `${act.source}|${act.actId}` })).entry?.[0]?.resource;
  t.equal(await store.count('Provenance', { target: `Encounter/${encounter?.id}` }), 2, 'two Provenances');

  const cancel = await app.inject({ method: 'DELETE', url: pathOf(act), payload: { reason: 'Acte saisi sur le mauvais patient', status: 'entered-in-error' } });
  t.equal(cancel.statusCode, 200, cancel.body.slice(0, 400));
  const after = await store.read<Encounter>('Encounter', encounter?.id ?? '');
  t.equal(after?.status, 'entered-in-error');
  t.equal(await store.count('Provenance', { target: `Encounter/${encounter?.id}` }), 3, 'the cancellation has its Provenance');
  const unknown = await app.inject({ method: 'DELETE', url: `/v1/acts/${encodeURIComponent(act.source)}/NOPE`, payload: { reason: 'x' } });
  t.equal(unknown.statusCode, 404);
});

t.test('GET /v1/acts finds acts by patient INS, period, type and FINESS, paged; a bad query is a 400 naming the parameter', async (t) => {
  const store = new EmbeddedStore();
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  for (const { file, act } of examples) {
    const posted = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
    t.equal(posted.statusCode, 201, file);
  }
  interface Listing {
    total: number;
    page: number;
    pageSize: number;
    acts: { source: string; actId: string; type: string; status: string; start: string; reference: string }[];
  }
  const list = async (query: string): Promise<Listing> => {
    const response = await app.inject({ method: 'GET', url: `/v1/acts?${query}` });
    t.equal(response.statusCode, 200, `${query}: ${response.body.slice(0, 300)}`);
    return response.json() as Listing;
  };
  const ids = (listing: Listing): string[] => listing.acts.map((act) => act.actId);

  const all = await list('');
  t.equal(all.total, examples.length, 'no criterion: every act');
  t.same(
    ids(all),
    [...examples].sort((a, b) => Date.parse(b.act.start) - Date.parse(a.act.start)).map((e) => e.act.actId),
    'most recent first',
  );
  const first = all.acts[0];
  t.match(first, { source: 'urn:oid:1.2.250.1.999.1.3', actId: 'URG-TLC-2025-1209', type: 'teleconsultation', status: 'finished', start: '2025-06-14T21:05:00+02:00', reference: /^Encounter\/.+/ });
  const encounter = await store.read<Encounter>('Encounter', first?.reference.split('/')[1] ?? '');
  t.same(encounter?.identifier?.[0]?.value, 'URG-TLC-2025-1209', 'the reference is the act’s Encounter');

  const page2 = await list('page=2&pageSize=4');
  t.same({ total: page2.total, page: page2.page, pageSize: page2.pageSize }, { total: examples.length, page: 2, pageSize: 4 });
  t.same(ids(page2), ids(all).slice(4), 'the second page holds the rest');

  t.same(ids(await list('patientIns=156037505612322')), ['TC-2025-000142'], 'by INS (NIR)');
  t.same((await list('patientIns=187057512345616')).total, 0, 'an INS nobody carries: nothing');
  t.same(ids(await list('from=2025-03-01&to=2025-03-31')).sort(), ['TC-2025-000142', 'TC-2025-000177'], 'by period (dates)');
  t.same(ids(await list(`from=${encodeURIComponent('2025-03-11T14:40:00+01:00')}&to=${encodeURIComponent('2025-03-11T15:00:00+01:00')}`)), ['TC-2025-000142'], 'an act overlapping a time window');
  t.same(ids(await list('from=2025-05-15&to=2025-05-16')), ['TS-IC-2025-0311'], 'a télésurveillance month covers any day inside it');
  t.same(ids(await list('type=teleconsultation')).sort(), ['TC-2025-000142', 'TC-2025-000177', 'URG-TLC-2025-1209'], 'by type');
  t.same(ids(await list('type=teleexpertise')), ['TE-DERM-2025-0087'], 'téléexpertise by any of its delay codes');
  t.same(ids(await list('type=telesurveillance')), ['TS-IC-2025-0311'], 'télésurveillance by any of its programme codes');
  t.same((await list('type=regulation')).total, 0);
  t.same(ids(await list('finess=750990012')).sort(), ['TC-2025-000142', 'TC-2025-000177'], 'by FINESS of the structure');
  t.same((await list('finess=999999999')).total, 0, 'an unknown FINESS: nothing');
  t.same(ids(await list('finess=750990012&type=teleconsultation&from=2025-03-15&patientIns=287054410921070')), ['TC-2025-000177'], 'criteria combine');
  t.same((await list('finess=750990012&type=telesoin')).total, 0);

  const refused: [string, string][] = [
    ['patientIns=12345', 'query.patientIns'],
    ['from=11%2F03%2F2025', 'query.from'],
    ['to=2025-03-11T14:00:00', 'query.to'],
    ['type=visite', 'query.type'],
    ['finess=75099001', 'query.finess'],
    ['page=0', 'query.page'],
    ['pageSize=500', 'query.pageSize'],
    ['ins=156037505612322', 'query.ins'],
    ['from=2025-04-01&to=2025-03-01', 'query.to'],
  ];
  for (const [query, expression] of refused) {
    const response = await app.inject({ method: 'GET', url: `/v1/acts?${query}` });
    t.equal(response.statusCode, 400, query);
    t.equal(response.headers['content-type'], 'application/fhir+json; charset=utf-8', `${query}: an OperationOutcome`);
    t.ok(response.json().issue.some((issue: { expression?: string[] }) => issue.expression?.includes(expression)), `${query}: names ${expression} in ${response.body.slice(0, 300)}`);
  }
});
