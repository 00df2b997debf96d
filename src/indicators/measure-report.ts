// The indicators as FHIR MeasureReports (summary), one per Measure shipped in profiles/measures/. Pure: the
// caller gives the report date. Counts are cohort measures (initial-population); shares are proportion
// measures (numerator, denominator, measureScore). Breakdowns are stratifiers: act type, month, incident
// type, and the grouping asked for (structure by FINESS, department, profession).
import type { Bundle, MeasureReport, MeasureReportGroup, MeasureReportGroupStratifier } from '@medplum/fhirtypes';
import type { IndicatorReport, IndicatorSet } from './report.ts';
import { INDICATOR_IDS, INDICATOR_LABELS, measureUrl } from './definitions.ts';
import type { IndicatorId } from './definitions.ts';

export const MEASURE_POPULATION = 'http://terminology.hl7.org/CodeSystem/measure-population';
export const STRATIFIER_SYSTEM = 'https://telesante-fhir.fr/fhir/CodeSystem/telesante-indicator-stratifier';

/** INSEE's code of the regions (code officiel géographique). */
export const REGION_SYSTEM = 'https://www.insee.fr/fr/information/2560452/region';

type Value = { readonly count: number } | { readonly numerator: number; readonly denominator: number };

/** The value of an indicator in a set of indicators, or undefined when it is not computable there. */
export function valueOf(id: IndicatorId, set: IndicatorSet): Value | undefined {
  const count = (n: number | null | undefined) => (n === null || n === undefined ? undefined : { count: n });
  switch (id) {
    case 'actes-realises':
      return { count: set.acts };
    case 'professionnels-distincts':
      return { count: set.professionals };
    case 'teleconsultations-assistees':
      return { numerator: set.teleconsultationsWithAssistant, denominator: set.teleconsultations };
    case 'refus-consentement':
      return count(set.consentRefusals);
    case 'incidents-techniques':
      return count(set.incidents);
    case 'actes-avec-incident':
      return count(set.actsWithIncident);
    case 'actes-interrompus-ou-convertis':
      return count(set.actsInterruptedOrConverted);
    case 'actes-sans-compte-rendu':
      return set.finishedWithoutReport === null ? undefined : { numerator: set.finishedWithoutReport, denominator: set.acts };
    case 'comptes-rendus-sans-auteur':
      return count(set.reportsWithoutAuthor);
    case 'structures-offre-telesante':
      return count(set.offers?.structuresWithTelehealthOffer);
    case 'taux-remplissage-telesante-ror':
      return set.offers === null ? undefined : { numerator: set.offers.withTelehealthReception, denominator: set.offers.total };
  }
}

/** Proportion measures: their score is numerator / denominator. */
export function isProportion(id: IndicatorId): boolean {
  return id === 'teleconsultations-assistees' || id === 'actes-sans-compte-rendu' || id === 'taux-remplissage-telesante-ror';
}

function populationsOf(value: Value) {
  const population = (code: string, count: number) => ({ code: { coding: [{ system: MEASURE_POPULATION, code }] }, count });
  return 'count' in value
    ? { population: [population('initial-population', value.count)] }
    : {
        population: [population('numerator', value.numerator), population('denominator', value.denominator)],
        ...(value.denominator === 0 ? {} : { measureScore: { value: Math.round((value.numerator / value.denominator) * 10_000) / 10_000 } }),
      };
}

function stratifier(code: string, display: string, strata: readonly { key: string; label?: string; value: Value | undefined }[]): MeasureReportGroupStratifier {
  return {
    code: [{ coding: [{ system: STRATIFIER_SYSTEM, code, display }] }],
    stratum: strata.flatMap((s) => (s.value === undefined ? [] : [{ value: { text: s.label ?? s.key, coding: [{ code: s.key }] }, ...populationsOf(s.value) }])),
  };
}

const GROUP_STRATIFIER = {
  structure: ['structure', 'Structure (FINESS)'],
  department: ['departement', 'Département'],
  region: ['region', 'Région'],
  specialty: ['profession', 'Profession des participants'],
} as const;

function periodEnd(to: string): string {
  const date = new Date(`${to}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}

/** The MeasureReport of one indicator. */
export function toMeasureReport(id: IndicatorId, report: IndicatorReport, date: string): MeasureReport | undefined {
  const value = valueOf(id, report.overall);
  if (value === undefined) return undefined;
  const stratifiers: MeasureReportGroupStratifier[] = [];
  const overall = report.overall;
  if (id === 'actes-realises') {
    stratifiers.push(stratifier('type', "Type d'acte", Object.entries(overall.actsByType).map(([key, count]) => ({ key, value: { count } }))));
    if (overall.actsByMonth !== undefined) stratifiers.push(stratifier('mois', 'Mois', overall.actsByMonth.map((m) => ({ key: m.month, value: { count: m.total } }))));
  }
  if (id === 'incidents-techniques' && overall.incidentsByType !== null) {
    stratifiers.push(stratifier('type-incident', "Type d'incident", Object.entries(overall.incidentsByType).map(([key, count]) => ({ key, value: { count } }))));
  }
  if (report.groupBy !== 'none' && report.groupBy !== 'region') {
    const [code, display] = GROUP_STRATIFIER[report.groupBy];
    stratifiers.push(stratifier(code, display, report.groups.map((g) => ({ key: g.key, label: g.label, value: valueOf(id, g.indicators) }))));
  }
  const indicator = { system: 'https://telesante-fhir.fr/fhir/CodeSystem/telesante-indicator', code: id, display: INDICATOR_LABELS[id] };
  const group: MeasureReportGroup = {
    code: { coding: [indicator], text: INDICATOR_LABELS[id] },
    ...populationsOf(value),
    ...(stratifiers.length > 0 ? { stratifier: stratifiers } : {}),
  };
  // By region, the agency's own scope: one group per region after the whole (a region reads its group).
  const regions: MeasureReportGroup[] =
    report.groupBy !== 'region'
      ? []
      : report.groups.flatMap((g) => {
          const v = valueOf(id, g.indicators);
          return v === undefined ? [] : [{ code: { coding: [indicator, { system: REGION_SYSTEM, code: g.key, display: g.label }], text: `${INDICATOR_LABELS[id]} — ${g.label}` }, ...populationsOf(v) }];
        });
  return {
    resourceType: 'MeasureReport',
    status: 'complete',
    type: 'summary',
    measure: measureUrl(id),
    date,
    period: { start: report.from, end: periodEnd(report.to) },
    group: [group, ...regions],
  };
}

/** Every indicator's MeasureReport, in a collection Bundle. */
export function toMeasureReportBundle(report: IndicatorReport, date: string): Bundle<MeasureReport> {
  const reports = INDICATOR_IDS.flatMap((id) => {
    const r = toMeasureReport(id, report, date);
    return r === undefined ? [] : [r];
  });
  return { resourceType: 'Bundle', type: 'collection', timestamp: date, entry: reports.map((resource) => ({ resource })) };
}
