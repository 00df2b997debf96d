// The projection's tests, run on each outbox database: SQLite (test/unit/indicators) and PostgreSQL
// (test/integration/indicators-postgres.test.ts). `outboxNamed(name)` opens the outbox of that name:
// the same name, the same database (another process on it); another name, a database of its own.
import type { Test } from 'tap';
import type { Outbox } from '../../src/delivery/index.ts';
import { EmbeddedStore } from '../../src/fhir/index.ts';
import { computeIndicators, indicatorsFromProjection, Projection, rebuildProjection } from '../../src/indicators/index.ts';
import type { IndicatorReport } from '../../src/indicators/index.ts';
import { toActBundle } from '../../src/mapping/act.ts';
import type { Act } from '../../src/model/act.ts';
import { DEPARTMENT_75, DEPARTMENT_93, OVERALL, withMonths } from '../unit/indicators/expected.ts';
import { testApp } from './app.ts';
import { knownDataset, loadKnownDataset } from './indicator-fixture.ts';

export type OutboxNamed = (name: string) => Promise<Outbox>;

const GROUPINGS = ['none', 'structure', 'department', 'region', 'specialty'] as const;

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The projection rebuilt from the hand-counted data set in the embedded store: its figures, the reference's, and a rebuild cut short then resumed. */
export async function rebuildSuite(t: Test, outboxNamed: OutboxNamed): Promise<void> {
  const store = new EmbeddedStore();
  const outbox = await outboxNamed('rebuilt');
  t.teardown(async () => {
    await outbox.close();
    await store.close();
  });
  const data = knownDataset('projection');
  await loadKnownDataset(store, data);
  const period = { from: data.from, to: data.to };
  const projection = new Projection(outbox.database);
  const progress: string[] = [];
  const done = await rebuildProjection(store, projection, { pageSize: 3, onProgress: (p) => progress.push(`${p.phase}:${p.offset}`) });

  t.test('the rebuild reads every act and offer, page by page', async (t) => {
    t.equal(done.phase, 'done');
    t.equal(done.written, data.acts.length + data.offers.length);
    t.equal(done.skipped, 0);
    t.ok(progress.includes('acts:3'), progress.join(' '));
  });

  t.test('overall and by department: the hand-counted figures', async (t) => {
    const overall = await indicatorsFromProjection(projection, period);
    t.same(overall.overall, withMonths(OVERALL, data.year));
    const byDepartment = await indicatorsFromProjection(projection, { ...period, groupBy: 'department' });
    t.same(byDepartment.groups.map((g) => [g.key, g.label]), [['75', '75 Paris'], ['93', '93 Seine-Saint-Denis']]);
    t.same(byDepartment.groups[0]?.indicators, DEPARTMENT_75);
    t.same(byDepartment.groups[1]?.indicators, DEPARTMENT_93);
  });

  t.test('every grouping agrees with the FHIR reference, for whole months (aggregates) and with a day boundary (facts)', async (t) => {
    for (const window of [period, { from: `${data.year}-01-10`, to: `${data.year}-02-20` }]) {
      for (const groupBy of GROUPINGS) {
        const fromProjection = await indicatorsFromProjection(projection, { ...window, groupBy });
        const reference = await computeIndicators(store, { ...window, groupBy });
        t.same(fromProjection.overall, reference.overall, `${window.from}–${window.to} ${groupBy}: overall`);
        t.same(fromProjection.groups, reference.groups, `${window.from}–${window.to} ${groupBy}: groups`);
      }
    }
    for (const filter of [{ department: '93' }, { region: '11' }, { finess: [data.finessA] }, { department: '2A' }]) {
      const fromProjection = await indicatorsFromProjection(projection, { ...period, ...filter, groupBy: 'structure' });
      const reference = await computeIndicators(store, { ...period, ...filter, groupBy: 'structure' });
      t.same({ overall: fromProjection.overall, groups: fromProjection.groups }, { overall: reference.overall, groups: reference.groups }, JSON.stringify(filter));
    }
  });

  t.test('a rebuild stopped half way resumes from its checkpoint and ends with the same figures', async (t) => {
    const other = await outboxNamed('resumed');
    t.teardown(() => other.close());
    const resumed = new Projection(other.database);
    const stop = new AbortController();
    let pages = 0;
    await t.rejects(
      rebuildProjection(store, resumed, { pageSize: 2, signal: stop.signal, onProgress: () => (++pages === 2 ? stop.abort() : undefined) }),
      'stopped after its second page',
    );
    t.not((await indicatorsFromProjection(resumed, period)).overall.acts, OVERALL.acts, 'half way: not every act yet');
    const offsets: string[] = [];
    const end = await rebuildProjection(store, resumed, { pageSize: 2, resume: true, onProgress: (p) => offsets.push(`${p.phase}:${p.offset}`) });
    t.equal(offsets[0], 'acts:6', 'the resumed rebuild starts after the two pages saved (acts 5 and 6 next)');
    t.equal(end.written, done.written, 'written over both runs: every act and offer once');
    for (const groupBy of GROUPINGS) {
      const [a, b] = await Promise.all([indicatorsFromProjection(resumed, { ...period, groupBy }), indicatorsFromProjection(projection, { ...period, groupBy })]);
      t.same({ overall: a.overall, groups: a.groups }, { overall: b.overall, groups: b.groups }, `${groupBy}: the same figures as the rebuild that ran through`);
    }
  });
}

type App = Awaited<ReturnType<typeof testApp>>['app'];

async function report(app: App, query: string): Promise<IndicatorReport> {
  const answer = await app.inject({ method: 'GET', url: `/v1/indicators?${query}` });
  if (answer.statusCode !== 200) throw new Error(answer.body);
  return answer.json() as IndicatorReport;
}

/** Acts delivered through the service: the projection kept in the "delivered" transaction agrees with the reference after writes, amendments, cancellations, a crash and a failure of that transaction. */
export function deliveredSuite(t: Test, outboxNamed: OutboxNamed): void {
  const data = knownDataset('delivered');
  const period = `from=${data.from}&to=${data.to}`;
  const pathOf = (act: Act) => `/v1/acts/${encodeURIComponent(act.source)}/${act.actId}`;
  const agree = async (t: Test, app: App, what: string) => {
    for (const groupBy of GROUPINGS) {
      const [projection, reference] = await Promise.all([report(app, `${period}&groupBy=${groupBy}`), report(app, `${period}&groupBy=${groupBy}&source=fhir`)]);
      t.same({ overall: projection.overall, groups: projection.groups }, { overall: reference.overall, groups: reference.groups }, `${what}, ${groupBy}`);
    }
  };

  t.test('acts and offers through the API: projection = reference, after amendments and cancellations', async (t) => {
    const store = new EmbeddedStore();
    const { app } = await testApp({ DELIVERY_WAIT_MS: '30000' }, store, { outbox: await outboxNamed('delivered') });
    t.teardown(async () => {
      await app.close();
      await store.close();
    });
    for (const offer of data.offers) {
      const answer = await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
      t.equal(answer.statusCode, 201, answer.body.slice(0, 300));
    }
    for (const act of data.acts) {
      const answer = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
      t.equal(answer.statusCode, 201, answer.body.slice(0, 300));
    }
    const first = await report(app, `${period}&groupBy=department`);
    t.equal(first.overall.acts, 7);
    t.equal(first.overall.finishedWithoutReport, 1, 'act 2 has no report yet');
    await agree(t, app, 'as written');

    const [, act2, , , act5, act6] = data.acts as Act[];
    const put = await app.inject({ method: 'PUT', url: `${pathOf(act2 as Act)}/report`, payload: { authorRpps: act2?.performers[0]?.rpps, date: act2?.end, text: 'Compte rendu tardif.' } });
    t.equal(put.statusCode, 200, put.body.slice(0, 300));
    const erroneous = await app.inject({ method: 'DELETE', url: pathOf(act5 as Act), payload: { reason: 'Saisi sur le mauvais patient', status: 'entered-in-error' } });
    t.equal(erroneous.statusCode, 200, erroneous.body.slice(0, 300));
    const cancelled = await app.inject({ method: 'DELETE', url: pathOf(act6 as Act), payload: { reason: "L'acte n'a pas eu lieu" } });
    t.equal(cancelled.statusCode, 200, cancelled.body.slice(0, 300));
    const withdrawn = await app.inject({ method: 'DELETE', url: `/v1/offers/${data.offers[0]?.identifiantOffre ?? ''}` });
    t.equal(withdrawn.statusCode, 200, withdrawn.body.slice(0, 300));
    const after = await report(app, period);
    t.equal(after.overall.acts, 5, 'acts 5 and 6 no longer count');
    t.equal(after.overall.finishedWithoutReport, 0);
    t.equal(after.overall.incidents, 3, 'the incident of act 5 is entered in error; those of acts 2 and 6 (cancelled) stay');
    await agree(t, app, 'after amendments');

    // The same act sent again: delivered again, counted once.
    const again = await app.inject({ method: 'POST', url: '/v1/acts', payload: data.acts[0] });
    t.equal(again.statusCode, 201);
    t.equal((await report(app, period)).overall.acts, 5);
  });

  t.test('a crash after the FHIR write, before the delivery is recorded: counted once, at redelivery', async (t) => {
    const store = new EmbeddedStore();
    const act = data.acts[0] as Act;
    // The process that died: the message was accepted, the worker wrote the act, then nothing was recorded.
    const dead = await outboxNamed('crash');
    await dead.enqueue({ kind: 'act', key: `act|${act.source}|${act.actId}`, payload: act, receivedAt: '2024-03-01T00:00:00+01:00' });
    await store.transaction(toActBundle(act, { receivedAt: '2024-03-01T00:00:00+01:00' }).bundle);
    await dead.close();

    const { app } = await testApp({}, store, { outbox: await outboxNamed('crash') });
    t.teardown(async () => {
      await app.close();
      await store.close();
    });
    const reference = await report(app, `${period}&source=fhir`);
    t.equal(reference.overall.acts, 1, 'the act is in the store');
    // The worker of the new process delivers the pending message; wait for it.
    await until(async () => (await report(app, period)).overall.acts > 0, 'the redelivery');
    const now = await report(app, period);
    t.equal(now.overall.acts, 1, 'counted once the delivery is recorded, not twice');
    t.same(now.overall, (await report(app, `${period}&source=fhir`)).overall);
  });

  t.test('the "delivered" transaction fails after the projection wrote: nothing of it stays, the message is retried, the act written once', async (t) => {
    const store = new EmbeddedStore();
    const outbox = await outboxNamed('hook-failure');
    const { app } = await testApp({ DELIVERY_WAIT_MS: '200', DELIVERY_BACKOFF_MS: '20', DELIVERY_MAX_BACKOFF_MS: '100' }, store, { outbox });
    t.teardown(async () => {
      await app.close();
      await store.close();
    });
    // After the projection's hook (the app registered it), in the same transaction: a disk full, say.
    let failing = true;
    let failures = 0;
    const fail = () => {
      if (!failing) return;
      failures += 1;
      throw new Error('disk full (test)');
    };
    outbox.addDeliveredHook({ kinds: new Set(['act', 'act-cancel', 'offer']), sqlite: fail, postgres: async () => fail() });
    const act = data.acts[0] as Act;
    const posted = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
    t.equal(posted.statusCode, 202, 'not delivered in time: accepted, pending');
    await until(async () => failures >= 3, 'three failed attempts');
    t.equal((await report(app, `${period}&source=fhir`)).overall.acts, 1, 'the act is in the store');
    t.equal((await report(app, period)).overall.acts, 0, 'the projection wrote nothing that stayed');
    t.equal((await outbox.list('pending', 10, { kinds: ['act'] })).total, 1, 'the message is still pending');
    t.equal((await outbox.list('delivered', 10, { kinds: ['act'] })).total, 0, 'and not recorded as delivered');

    failing = false;
    await until(async () => (await outbox.list('delivered', 10, { kinds: ['act'] })).total === 1, 'the delivery once the failure is gone');
    const now = await report(app, period);
    t.equal(now.overall.acts, 1, 'counted once');
    t.same(now.overall, (await report(app, `${period}&source=fhir`)).overall, 'projection = reference');
    t.equal(await store.count('Encounter', {}), 1, 'one Encounter in the store after every attempt (conditional writes)');

    // A cancellation (through the act changes' batch handler), while the transaction fails again.
    failing = true;
    failures = 0;
    const cancelled = await app.inject({ method: 'DELETE', url: pathOf(act), payload: { reason: "L'acte n'a pas eu lieu" } });
    t.equal(cancelled.statusCode, 202, 'accepted, pending');
    await until(async () => failures >= 3, 'three failed attempts of the cancellation');
    t.equal((await report(app, `${period}&source=fhir`)).overall.acts, 0, 'cancelled in the store');
    t.equal((await report(app, period)).overall.acts, 1, 'the projection still counts the act: the cancellation did not stay');
    t.equal((await outbox.list('pending', 10, { kinds: ['act-cancel'] })).total, 1, 'the cancellation is still pending, not a dead letter');
    failing = false;
    await until(async () => (await outbox.list('delivered', 10, { kinds: ['act-cancel'] })).total === 1, 'the cancellation once the failure is gone');
    t.same((await report(app, period)).overall, (await report(app, `${period}&source=fhir`)).overall, 'projection = reference after the cancellation');

    // An offer: delivered alone (no batch handler), where a failed record used to make a dead letter.
    failing = true;
    failures = 0;
    const offered = await app.inject({ method: 'POST', url: '/v1/offers', payload: data.offers[0] });
    t.equal(offered.statusCode, 202, 'accepted, pending');
    await until(async () => failures >= 3, 'three failed attempts of the offer');
    t.equal((await report(app, period)).overall.offers?.total, 0, 'the projection counts no offer');
    t.equal((await outbox.list('pending', 10, { kinds: ['offer'] })).total, 1, 'the offer is still pending, not a dead letter');
    failing = false;
    await until(async () => (await outbox.list('delivered', 10, { kinds: ['offer'] })).total === 1, 'the offer once the failure is gone');
    t.same((await report(app, period)).overall, (await report(app, `${period}&source=fhir`)).overall, 'projection = reference with the offer');
  });
}
