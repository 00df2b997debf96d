// Read access follows care (issue 16, D1 and D8), run unchanged on the embedded store (test/unit) and on
// HAPI (test/integration): a client bound to structures reads and finds only the acts one of its
// structures takes part in (service provider, a performer's or the requester's structure); any other act
// is a 403 by id and absent from searches, whose totals and pages count only what it may see.
// `acts:read:all` reads everything. A delivery or an import job is read by the client that submitted it
// (or an administrator). Each run draws its own FINESS numbers and act ids: runs on one server never meet.
import { readFileSync } from 'node:fs';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Test } from 'tap';
import type { FhirStore } from '../../src/fhir/index.ts';
import { withLuhnKey } from '../../src/mapping/offer-check.ts';
import type { Act } from '../../src/model/act.ts';
import { testApp } from '../support/app.ts';
import { example } from '../unit/mapping/offer-examples.ts';

const exampleAct = (file: string): Act => JSON.parse(readFileSync(new URL(`../../examples/acts/${file}`, import.meta.url), 'utf8')) as Act;
const pathOf = (act: Act): string => `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
/** A FINESS of this run: 8 random digits and their key (département 99 does not exist: never a real one). */
const finessOfRun = (): string => withLuhnKey(`99${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`);

function outcomeOf(body: string): OperationOutcome {
  const parsed = JSON.parse(body) as OperationOutcome;
  if (parsed.resourceType !== 'OperationOutcome') throw new Error(`not an OperationOutcome: ${body.slice(0, 300)}`);
  return parsed;
}

export function readAccessContract(t: Test, store: FhirStore, env: Record<string, string> = {}): void {
  const [A, B, C, D] = [finessOfRun(), finessOfRun(), finessOfRun(), finessOfRun()] as [string, string, string, string];
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const at = (act: Act, finess: string, actId: string): Act => ({ ...act, actId: `${actId}-${run}`, performers: act.performers.map((p) => ({ ...p, finess })) });
  const a1 = at(exampleAct('01-teleconsultation-generaliste-infirmier-domicile.json'), A, 'A1');
  const a2 = at(exampleAct('04-teleconsultation-interrompue-perte-connexion.json'), A, 'A2');
  const a3 = at(a1, A, 'A3');
  const b0 = at(exampleAct('02-teleexpertise-dermatologie-photos.json'), B, 'B1');
  // B performs, C asked for the act.
  const b1: Act = { ...b0, requester: { ...(b0.requester as NonNullable<Act['requester']>), finess: C } };

  const keys = {
    writer: { id: `plateforme-${run}`, key: `k-writer-${run}`, scopes: ['acts:write', 'offers:write'] },
    readerA: { id: `dpi-a-${run}`, key: `k-reader-a-${run}`, scopes: ['acts:read'], finess: [A] },
    readerC: { id: `dpi-c-${run}`, key: `k-reader-c-${run}`, scopes: ['acts:read', 'acts:write'], finess: [C] },
    readerD: { id: `dpi-d-${run}`, key: `k-reader-d-${run}`, scopes: ['acts:read', 'offers:write'], finess: [D] },
    unbound: { id: `entrepot-${run}`, key: `k-unbound-${run}`, scopes: ['acts:read', 'offers:write'] },
    analyst: { id: `ars-${run}`, key: `k-analyst-${run}`, scopes: ['acts:read:all'] },
    admin: { id: `exploitation-${run}`, key: `k-admin-${run}`, scopes: ['deliveries:admin'] },
  };
  type Client = keyof typeof keys;
  const as = (client: Client) => ({ 'x-api-key': keys[client].key });
  let app: Awaited<ReturnType<typeof testApp>>['app'];
  const deliveryIds: string[] = [];

  t.before(async () => {
    ({ app } = await testApp(env, store, { auth: { apiKeys: Object.values(keys) } }));
    for (const act of [a1, a2, a3, b1]) {
      const written = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: as('writer') });
      if (written.statusCode !== 201) throw new Error(`${act.actId}: ${written.statusCode} ${written.body.slice(0, 500)}`);
      deliveryIds.push(String(written.headers['x-delivery-id']));
    }
  });
  t.teardown(async () => {
    await app?.close();
  });

  const read = async (act: Act, client: Client, accept?: string): Promise<number> =>
    (await app.inject({ method: 'GET', url: pathOf(act), headers: { ...as(client), ...(accept === undefined ? {} : { accept }) } })).statusCode;
  async function search(client: Client, query = ''): Promise<{ total: number; acts: { actId: string }[] }> {
    const response = await app.inject({ method: 'GET', url: `/v1/acts${query}`, headers: as(client) });
    if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
    return response.json() as { total: number; acts: { actId: string }[] };
  }

  t.test('by id: the acts of its structures, 403 for any other, in both formats', async (t) => {
    const refused = await app.inject({ method: 'GET', url: pathOf(b1), headers: as('readerA') });
    t.equal(refused.statusCode, 403, 'A reads nothing of B’s act');
    t.equal(outcomeOf(refused.body).issue[0]?.code, 'forbidden');
    t.notOk(refused.body.includes(b1.patient.ins ?? '-'), 'no INS in the refusal');
    t.equal(await read(b1, 'readerA', 'application/fhir+json'), 403, 'nor as FHIR');
    t.equal(await read(a1, 'readerA'), 200, 'its own act');
    t.equal(await read(b1, 'readerC'), 200, 'the requester’s structure reads the act');
    t.equal(await read(a1, 'readerC'), 403);
    t.equal(await read(a1, 'readerD'), 403, 'a structure that takes no part');
    const unbound = await app.inject({ method: 'GET', url: pathOf(a1), headers: as('unbound') });
    t.equal(unbound.statusCode, 403, 'bound to no structure, without acts:read:all: nothing');
    t.match(outcomeOf(unbound.body).issue[0]?.details?.text, /acts:read:all/);
    t.equal(await read(b1, 'analyst'), 200, 'acts:read:all reads every act');
    t.equal(await read(b1, 'analyst', 'application/fhir+json'), 200);
    t.equal((await app.inject({ method: 'GET', url: '/v1/indicators?from=2025-01-01&to=2026-01-01', headers: as('analyst') })).statusCode, 200, 'and the indicators');
  });

  t.test('searches keep only what the client may see, totals and pages included', async (t) => {
    const own = await search('readerA');
    t.equal(own.total, 3);
    t.same(own.acts.map((act) => act.actId).sort(), [a1.actId, a2.actId, a3.actId].sort());
    const page2 = await search('readerA', '?pageSize=2&page=2');
    t.equal(page2.total, 3, 'the total of a later page');
    t.equal(page2.acts.length, 1);
    t.same(await search('readerA', `?patientIns=${b1.patient.ins ?? ''}`), { total: 0, page: 1, pageSize: 20, acts: [] }, 'B’s patient, searched by INS from A');
    t.equal((await search('readerD', `?patientIns=${a1.patient.ins ?? ''}`)).total, 0, 'A’s patient from D');
    t.equal((await search('readerD', `?finess=${A}`)).total, 0, 'A’s FINESS from D');
    t.equal((await search('readerD')).total, 0);
    t.same((await search('readerC')).acts.map((act) => act.actId), [b1.actId], 'C finds the act it asked for');
    t.equal((await search('readerC', `?finess=${B}`)).total, 1, 'also by its performer’s FINESS');
    t.equal((await search('unbound')).total, 0);
    t.equal((await search('analyst', `?finess=${A}`)).total, 3, 'acts:read:all finds every act');
    t.equal((await search('analyst', `?finess=${B}`)).total, 1);
  });

  t.test('a delivery is read by the client that submitted it, or an administrator', async (t) => {
    const id = deliveryIds[3] as string;
    t.equal((await app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers: as('writer') })).statusCode, 200);
    const other = await app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers: as('readerC') });
    t.equal(other.statusCode, 403, 'another client, though it may write acts');
    t.notOk(other.body.includes(b1.actId), 'nothing of the delivery in the refusal');
    t.equal((await app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers: as('readerD') })).statusCode, 403, 'a client with offers:write only');
    t.equal((await app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers: as('admin') })).statusCode, 200);
  });

  t.test('an import job is followed by the client that submitted it, or an administrator', async (t) => {
    const imported = await app.inject({ method: 'POST', url: '/v1/offers/$import', headers: { ...as('writer'), 'content-type': 'application/x-ndjson' }, payload: JSON.stringify(example('gp-teleconsultation')) });
    t.equal(imported.statusCode, 202, imported.body.slice(0, 300));
    const job = `/v1/jobs/${(imported.json() as { id: string }).id}`;
    t.equal((await app.inject({ method: 'GET', url: job, headers: as('writer') })).statusCode, 200);
    t.equal((await app.inject({ method: 'GET', url: job, headers: as('unbound') })).statusCode, 403, 'another client with offers:write');
    t.equal((await app.inject({ method: 'GET', url: job, headers: as('admin') })).statusCode, 200);
  });
}
