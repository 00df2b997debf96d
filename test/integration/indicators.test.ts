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
