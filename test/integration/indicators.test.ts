// The indicators on HAPI: the same known data set and hand-computed values as the unit test on the
// embedded store (test/unit/indicators/expected.ts). HAPI holds other runs' data: the data set's FINESS
// numbers derive from this run's id, and every query is restricted to them.
import t from 'tap';
import { HapiStore } from '../../src/fhir/index.ts';
import { computeIndicators } from '../../src/indicators/index.ts';
import { hapiBaseUrl, runId } from '../support/hapi.ts';
import { knownDataset, loadKnownDataset } from '../support/indicator-fixture.ts';
import { BY_PROFESSION, DEPARTMENT_75, DEPARTMENT_93, OVERALL, withMonths } from '../unit/indicators/expected.ts';

const baseUrl = await hapiBaseUrl();

if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  const store = new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 });
  const data = knownDataset(`ind-${runId()}`);
  await loadKnownDataset(store, data);
  const scope = { from: data.from, to: data.to, finess: [data.finessA, data.finessB] };

  t.test('overall and by department, as on the embedded store', async (t) => {
    const report = await computeIndicators(store, { ...scope, groupBy: 'department' });
    t.same(report.overall, withMonths(OVERALL, data.year));
    t.same(report.groups.map((g) => g.key), ['75', '93']);
    t.same(report.groups[0]?.indicators, DEPARTMENT_75);
    t.same(report.groups[1]?.indicators, DEPARTMENT_93);
  });

  t.test('by structure and by profession, with small pages', async (t) => {
    const byStructure = await computeIndicators(store, { ...scope, groupBy: 'structure' }, { pageSize: 2 });
    t.same(byStructure.groups.map((g) => g.indicators), [DEPARTMENT_75, DEPARTMENT_93]);
    const byProfession = await computeIndicators(store, { ...scope, groupBy: 'specialty' });
    t.same(
      byProfession.groups.map((g) => [g.key, { acts: g.indicators.acts, professionals: g.indicators.professionals, teleconsultationsWithAssistant: g.indicators.teleconsultationsWithAssistant }]),
      Object.entries(BY_PROFESSION),
    );
  });
}

// The projection on HAPI: `telesante indicators rebuild` (a separate process, as an operator runs it)
// reads this run's structures from HAPI into a SQLite projection; its figures are the hand-counted ones,
// and the FHIR reference's, figure by figure, for every grouping.
if (baseUrl !== undefined) {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { SqliteOutbox } = await import('../../src/delivery/index.ts');
  const { Projection, indicatorsFromProjection } = await import('../../src/indicators/index.ts');
  const store = new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 });
  const data = knownDataset(`indp-${runId()}`);
  await loadKnownDataset(store, data);
  const scope = { from: data.from, to: data.to, finess: [data.finessA, data.finessB] };
  const dir = mkdtempSync(join(tmpdir(), 'indicators-rebuild-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'outbox.sqlite');

  t.test('telesante indicators rebuild, then the projection agrees with the hand count and the reference', async (t) => {
    const run = spawnSync('sh', ['bin/telesante', 'indicators', 'rebuild', '--page-size', '3', '--finess', scope.finess.join(',')], {
      env: { ...process.env, FHIR_BASE_URL: baseUrl, DELIVERY_SQLITE_PATH: path },
      encoding: 'utf8',
      timeout: 300_000,
    });
    t.equal(run.status, 0, run.stderr);
    t.same(JSON.parse(run.stdout), { written: data.acts.length + data.offers.length, skipped: 0, seconds: JSON.parse(run.stdout).seconds });
    t.match(run.stderr, /reconstruction : acts 3\/10, 3 faits écrits, 0 ignorés \[indicators-progress\]/, 'progress is printed page by page, with the total');
    const outbox = new SqliteOutbox(path);
    t.teardown(() => outbox.close());
    const projection = new Projection(outbox.database);
    const byDepartment = await indicatorsFromProjection(projection, { ...scope, groupBy: 'department' });
    t.same(byDepartment.overall, withMonths(OVERALL, data.year));
    t.same(byDepartment.groups.map((g) => g.indicators), [DEPARTMENT_75, DEPARTMENT_93]);
    for (const groupBy of ['none', 'structure', 'department', 'region', 'specialty'] as const) {
      const [fromProjection, reference] = await Promise.all([indicatorsFromProjection(projection, { ...scope, groupBy }), computeIndicators(store, { ...scope, groupBy })]);
      t.same({ overall: fromProjection.overall, groups: fromProjection.groups }, { overall: reference.overall, groups: reference.groups }, groupBy);
    }
  });
}
