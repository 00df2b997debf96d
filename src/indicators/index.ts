// The indicators room (issue 10): computation over a FhirStore, and its renderings (CSV, MeasureReports).
export { computeIndicators, departmentOfFiness, GROUP_BY, monthsOf } from './compute.ts';
export type { ComputeOptions, GroupBy, IndicatorGroup, IndicatorQuery, IndicatorReport, IndicatorSet, MonthCounts, OfferIndicators } from './compute.ts';
export { toCsv, CSV_HEADER } from './csv.ts';
export { toMeasureReport, toMeasureReportBundle, valueOf, isProportion, MEASURE_POPULATION, STRATIFIER_SYSTEM } from './measure-report.ts';
export { INDICATOR_IDS, INDICATOR_LABELS, measureUrl, MEASURE_BASE, ACT_TYPE_LABELS, INCIDENT_TYPE_LABELS, PROFESSION_LABELS } from './definitions.ts';
export type { IndicatorId } from './definitions.ts';
