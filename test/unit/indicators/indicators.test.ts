// The indicators on a small known data set, on the embedded store: every value is computed by hand in
// expected.ts. The same data set and expectations run on HAPI in test/integration/indicators.test.ts.
import type { MeasureReport } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import { computeIndicators, departmentOfFiness, INDICATOR_IDS, measureUrl, monthsOf, toCsv, toMeasureReportBundle } from '../../../src/indicators/index.ts';
import { knownDataset, loadKnownDataset } from '../../support/indicator-fixture.ts';
import { testApp, testValidator } from '../../support/app.ts';
import { BY_PROFESSION, DEPARTMENT_75, DEPARTMENT_93, OVERALL, withMonths } from './expected.ts';

const store = new EmbeddedStore();
t.teardown(() => store.close());
const data = knownDataset('unit');
await loadKnownDataset(store, data);
const period = { from: data.from, to: data.to };

t.test('overall, with months, on the embedded store', async (t) => {
  const report = await computeIndicators(store, period);
  t.same(report.overall, withMonths(OVERALL, data.year));
  t.same(report.groups, []);
  t.ok(report.cost.searches > 0);
});

t.test('by department: each structure in its department, professionals counted per department', async (t) => {
  const report = await computeIndicators(store, { ...period, groupBy: 'department' });
  t.same(report.groups.map((g) => g.key), ['75', '93']);
  t.same(report.groups[0]?.indicators, DEPARTMENT_75);
  t.same(report.groups[1]?.indicators, DEPARTMENT_93);
  // dA1 works for both structures: one professional overall, one in each department.
  t.equal(DEPARTMENT_75.professionals + DEPARTMENT_93.professionals, OVERALL.professionals + 1);
});

t.test('by structure (FINESS) gives the same figures as by department here', async (t) => {
  const report = await computeIndicators(store, { ...period, groupBy: 'structure', finess: [data.finessA, data.finessB] });
  t.same(report.groups.map((g) => g.key), [data.finessA, data.finessB]);
  t.same(report.groups[0]?.indicators, DEPARTMENT_75);
  t.same(report.groups[1]?.indicators, DEPARTMENT_93);
});

t.test('a department filter restricts everything, months included', async (t) => {
  const report = await computeIndicators(store, { ...period, department: '93' });
  t.equal(report.overall.acts, 3);
  t.same(report.overall.actsByMonth?.map((m) => m.total), [1, 2]);
  t.same({ ...report.overall, actsByMonth: undefined }, { ...DEPARTMENT_93, actsByMonth: undefined });
  const nowhere = await computeIndicators(store, { ...period, department: '2A' });
  t.equal(nowhere.overall.acts, 0, 'a filter that matches no structure gives zeros, not everything');
  t.equal(nowhere.overall.offers?.total, 0);
});

t.test('by profession: the counts on the Encounter, the others not computable (null)', async (t) => {
  const report = await computeIndicators(store, { ...period, groupBy: 'specialty' });
  t.same(report.groups.map((g) => g.key), Object.keys(BY_PROFESSION));
  for (const group of report.groups) {
    const expected = BY_PROFESSION[group.key as keyof typeof BY_PROFESSION];
    t.same({ acts: group.indicators.acts, professionals: group.indicators.professionals, teleconsultationsWithAssistant: group.indicators.teleconsultationsWithAssistant }, expected, group.key);
    t.equal(group.indicators.consentRefusals, null);
    t.equal(group.indicators.offers, null);
  }
});

t.test('paging: a page size of 1 gives the same figures', async (t) => {
  const report = await computeIndicators(store, period, { pageSize: 1 });
  t.same(report.overall, withMonths(OVERALL, data.year));
});

t.test('months and departments', async (t) => {
  t.same(monthsOf({ from: '2024-01-15', to: '2024-03-01' }), [
    { month: '2024-01', window: { from: '2024-01-15', to: '2024-02-01' } },
    { month: '2024-02', window: { from: '2024-02-01', to: '2024-03-01' } },
  ]);
  t.equal(monthsOf({ from: '2024-12-01', to: '2025-02-01' }).length, 2);
  t.equal(departmentOfFiness('750990012'), '75');
  t.equal(departmentOfFiness('2A0000014'), '2A');
  t.equal(departmentOfFiness('974000001'), '974');
});

t.test('MeasureReports: one per shipped Measure, valid FHIR R4, values as computed', async (t) => {
  const report = await computeIndicators(store, { ...period, groupBy: 'department' });
  const bundle = toMeasureReportBundle(report, '2024-03-02T10:00:00+01:00');
  const dir = new URL('../../../profiles/measures/', import.meta.url);
  const measures = readdirSync(dir).map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { url: string; scoring: { coding: { code: string }[] } });
  t.same(measures.map((m) => m.url).sort(), INDICATOR_IDS.map(measureUrl).sort(), 'profiles/measures holds one Measure per indicator');
  const reports = (bundle.entry ?? []).map((e) => e.resource as MeasureReport);
  t.equal(reports.length, INDICATOR_IDS.length);
  const validator = await testValidator();
  for (const r of reports) {
    const measure = measures.find((m) => m.url === r.measure);
    t.ok(measure, `${r.measure} is shipped`);
    const proportion = measure?.scoring.coding[0]?.code === 'proportion';
    t.equal(r.group?.[0]?.population?.length, proportion ? 2 : 1, `${r.measure} populations fit its scoring`);
    t.same(validator.validate(r).filter((i) => i.severity === 'error'), [], `${r.measure} is valid R4`);
  }
  const acts = reports.find((r) => r.measure === measureUrl('actes-realises'));
  t.equal(acts?.group?.[0]?.population?.[0]?.count, 7);
  t.same(acts?.period, { start: data.from, end: `${data.year}-02-29` });
  const byDepartment = acts?.group?.[0]?.stratifier?.find((s) => s.code?.[0]?.coding?.[0]?.code === 'departement');
  t.same(byDepartment?.stratum?.map((s) => [s.value?.coding?.[0]?.code, s.population?.[0]?.count]), [['75', 4], ['93', 3]]);
  const fill = reports.find((r) => r.measure === measureUrl('taux-remplissage-telesante-ror'));
  t.equal(fill?.group?.[0]?.measureScore?.value, 0.3333);
  for (const file of readdirSync(dir)) {
    t.same(validator.validate(JSON.parse(readFileSync(new URL(file, dir), 'utf8'))).filter((i) => i.severity === 'error'), [], `${file} is a valid R4 Measure`);
  }
});

t.test('CSV: a header row, one value per row', async (t) => {
  const csv = toCsv(await computeIndicators(store, { ...period, groupBy: 'department' }));
  const lines = csv.trimEnd().split('\r\n');
  t.equal(lines[0], 'debut,fin_exclue,regroupement,groupe,libelle_groupe,indicateur,detail,valeur');
  t.ok(lines.includes(`${data.from},${data.to},ensemble,,Ensemble,actes_realises,,7`));
  t.ok(lines.includes(`${data.from},${data.to},ensemble,,Ensemble,actes_realises,${data.year}-02,4`));
  t.ok(lines.includes(`${data.from},${data.to},department,93,93 Seine-Saint-Denis,comptes_rendus_sans_auteur,,1`));
  t.ok(lines.includes(`${data.from},${data.to},ensemble,,Ensemble,taux_remplissage_telesante_ror,,0.3333`));
});

t.test('GET /v1/indicators: JSON, CSV, MeasureReports, and errors as OperationOutcome', async (t) => {
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  const url = `/v1/indicators?from=${data.from}&to=${data.to}&groupBy=department&source=fhir`;
  const json = await app.inject({ method: 'GET', url });
  t.equal(json.statusCode, 200, json.body.slice(0, 300));
  t.match(json.headers['content-type'], /^application\/json/);
  t.same(json.json().overall.acts, 7);
  const csv = await app.inject({ method: 'GET', url, headers: { accept: 'text/csv' } });
  t.match(csv.headers['content-type'], /^text\/csv/);
  t.match(csv.body, /^debut,fin_exclue,/);
  const fhir = await app.inject({ method: 'GET', url, headers: { accept: 'application/fhir+json' } });
  t.match(fhir.headers['content-type'], /^application\/fhir\+json/);
  t.equal(fhir.json().resourceType, 'Bundle');
  t.equal(fhir.json().entry[0].resource.resourceType, 'MeasureReport');
  const filtered = await app.inject({ method: 'GET', url: `/v1/indicators?from=${data.from}&to=${data.to}&department=75&source=fhir` });
  t.equal(filtered.json().overall.acts, 4);
  const backwards = await app.inject({ method: 'GET', url: `/v1/indicators?from=${data.to}&to=${data.from}` });
  t.equal(backwards.statusCode, 422);
  t.equal(backwards.json().resourceType, 'OperationOutcome');
  const badGroup = await app.inject({ method: 'GET', url: '/v1/indicators?groupBy=ville' });
  t.equal(badGroup.statusCode, 400);
  t.equal(badGroup.json().resourceType, 'OperationOutcome');
  const page = await app.inject({ method: 'GET', url: '/dashboard' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, /Indicateurs de télésanté/);
});
