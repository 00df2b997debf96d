// Acts merged by the worker, run unchanged on the embedded store (test/unit) and on HAPI
// (test/integration): acts posted at once by several clients are written in fewer transactions than acts,
// each answered with its own resources, the professionals and the structure they share written once,
// and an act already stored is mapped again over what is stored (a repost changes nothing).
import type { Test } from 'tap';
import type { Bundle } from '@medplum/fhirtypes';
import type { FhirStore } from '../../src/fhir/index.ts';
import type { Act } from '../../src/model/act.ts';
import { readStoredAct, readStoredActs } from '../../src/writes/index.ts';
import { testApp } from '../support/app.ts';
import { example } from '../unit/mapping/act-examples.ts';

/** The store, counting its transactions. */
function counting(store: FhirStore): { store: FhirStore; transactions: () => number } {
  let transactions = 0;
  const transaction: FhirStore['transaction'] = async (bundle: Bundle, ctx) => {
    transactions += 1;
    return store.transaction(bundle, ctx);
  };
  // A proxy, not a subclass: the stores keep private fields, which their own methods must see.
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === 'transaction') return transaction;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: counted, transactions: () => transactions };
}

export function actGroupCommitContract(t: Test, makeStore: () => FhirStore, env: Record<string, string> = {}): void {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const template = example('01');
  const actOf = (n: number): Act => ({
    ...template,
    source: `https://group-commit-${run}.example.fr`,
    actId: `GC-${n}`,
    patient: { ...template.patient, ipp: { system: template.patient.ipp.system, value: `IPP-GC-${run}-${n}` } },
  });

  t.test('twelve acts posted at once: fewer transactions than acts, each act answered with its own resources, shared ones written once', async (t) => {
    const { store, transactions } = counting(makeStore());
    // One delivery at a time: the acts that arrive meanwhile wait together for the next transaction.
    const { app } = await testApp({ DELIVERY_CONCURRENCY: '1', DELIVERY_BATCH_SIZE: '16', DELIVERY_WAIT_MS: '120000', ALLOW_TEST_IDENTITIES: 'true', ...env }, store);
    t.teardown(() => app.close());
    const acts = Array.from({ length: 12 }, (_, n) => actOf(n));
    const answers = await Promise.all(acts.map((act) => app.inject({ method: 'POST', url: '/v1/acts', payload: act })));
    t.same([...new Set(answers.map((answer) => answer.statusCode))], [201], answers.map((a) => a.body.slice(0, 300)).join('\n'));
    t.ok(transactions() < acts.length, `${transactions()} transactions for ${acts.length} acts`);
    const encounters = answers.map((answer) => (answer.json().references as string[]).filter((r) => r.startsWith('Encounter/')));
    t.ok(encounters.every((refs) => refs.length === 1), 'each answer names one Encounter: its own');
    t.equal(new Set(encounters.flat()).size, acts.length, 'twelve different Encounters');
    for (const [n, act] of acts.entries()) {
      t.equal(answers[n]?.json().actId, act.actId, 'the answer is the act’s own');
      t.equal(await store.count('Encounter', { identifier: `${act.source}|${act.actId}` }), 1);
    }
    const rpps = template.performers[0]?.rpps ?? '';
    t.equal(await store.count('Practitioner', { identifier: `https://rpps.esante.gouv.fr|${rpps}` }), 1, 'the shared Practitioner exists once');

    const again = await app.inject({ method: 'POST', url: '/v1/acts', payload: acts[3] });
    t.equal(again.statusCode, 201, 'a repost goes through the stored path');
    t.same(again.json().references.filter((r: string) => r.startsWith('Encounter/')), encounters[3], 'the same Encounter');
    t.equal(await store.count('Encounter', { identifier: `${acts[3]?.source}|${acts[3]?.actId}` }), 1, 'not doubled');
  });

  t.test('reports amended and acts cancelled at once: one read and one transaction for several, each answered its own', async (t) => {
    const { store, transactions } = counting(makeStore());
    const { app } = await testApp({ DELIVERY_CONCURRENCY: '1', DELIVERY_BATCH_SIZE: '16', DELIVERY_WAIT_MS: '120000', ALLOW_TEST_IDENTITIES: 'true', AUDIT_FLUSH_MS: '60000', ...env }, store);
    t.teardown(() => app.close());
    const acts = Array.from({ length: 6 }, (_, n) => actOf(100 + n));
    const posted = await Promise.all(acts.map((act) => app.inject({ method: 'POST', url: '/v1/acts', payload: act })));
    t.same([...new Set(posted.map((answer) => answer.statusCode))], [201]);

    // The read of several acts gives each what a read of it alone gives.
    const together = await readStoredActs(store, acts, { signal: new AbortController().signal });
    for (const act of acts) {
      const alone = await readStoredAct(store, act.source, act.actId, { signal: new AbortController().signal });
      const ids = (resources: readonly { resourceType: string; id?: string }[]) => resources.map((r) => `${r.resourceType}/${r.id ?? ''}`).sort();
      t.same(ids(together.get(`${act.source}|${act.actId}`) ?? []), ids(alone), `${act.actId}: the same resources read together as alone`);
    }

    const path = (act: Act) => `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
    const before = transactions();
    const changes = await Promise.all([
      ...acts.slice(0, 3).map((act) => app.inject({ method: 'PUT', url: `${path(act)}/report`, payload: { ...act.report, id: `CR-${act.actId}-v2`, text: 'Compte rendu amendé.' } })),
      ...acts.slice(3).map((act) => app.inject({ method: 'DELETE', url: path(act), payload: { reason: 'Acte saisi sur le mauvais patient', status: 'entered-in-error' } })),
    ]);
    t.same(changes.map((answer) => answer.statusCode), [200, 200, 200, 200, 200, 200], changes.map((a) => a.body.slice(0, 200)).join('\n'));
    t.same(changes.map((answer) => answer.json().actId), acts.map((act) => act.actId), 'each answer is its own act’s');
    t.ok(transactions() - before < changes.length, `${transactions() - before} transactions for ${changes.length} changes`);
    for (const act of acts.slice(0, 3)) {
      const reports = (await store.search('DocumentReference', { encounter: `Encounter/${together.get(`${act.source}|${act.actId}`)?.[0]?.id ?? ''}` })).entry ?? [];
      t.equal(reports.length, 2, `${act.actId}: two reports`);
      t.equal(reports.filter((entry) => (entry.resource as { status?: string }).status === 'superseded').length, 1, `${act.actId}: the old one superseded`);
    }
    for (const act of acts.slice(3)) {
      const encounter = (await store.search('Encounter', { identifier: `${act.source}|${act.actId}` })).entry?.[0]?.resource as { status?: string } | undefined;
      t.equal(encounter?.status, 'entered-in-error', `${act.actId}: cancelled`);
    }
    const unknown = await app.inject({ method: 'PUT', url: `/v1/acts/${encodeURIComponent(acts[0]?.source ?? '')}/NOPE/report`, payload: acts[0]?.report });
    t.equal(unknown.statusCode, 404, 'an unknown act alone is refused');
  });
}
