// The indicators room: the projection kept at delivery and its rebuild, the FHIR reference computation,
// and their renderings (CSV, MeasureReports).
export { computeIndicators } from './compute.ts';
export { GROUP_BY, monthsOf } from './report.ts';
export { departmentOfFiness, departmentLabel, regionLabel, regionOf, DEPARTMENTS, REGIONS } from './geo.ts';
export type { ComputeOptions } from './compute.ts';
export type { GroupBy, IndicatorGroup, IndicatorQuery, IndicatorReport, IndicatorSet, MonthCounts, OfferIndicators } from './report.ts';
export { toCsv, CSV_HEADER } from './csv.ts';
export { toMeasureReport, toMeasureReportBundle, valueOf, isProportion, MEASURE_POPULATION, STRATIFIER_SYSTEM } from './measure-report.ts';
export { INDICATOR_IDS, INDICATOR_LABELS, measureUrl, MEASURE_BASE, ACT_TYPE_LABELS, INCIDENT_TYPE_LABELS, PROFESSION_LABELS } from './definitions.ts';
export type { IndicatorId } from './definitions.ts';
export { compared, change, lastCompleteMonths, previousPeriod } from './comparison.ts';
export type { ComparedReport, Period } from './comparison.ts';
export { Projection, PROJECTED_KINDS } from './projection.ts';
export type { ProjectionDatabase } from './projection.ts';
export { indicatorsFromProjection } from './projection-query.ts';
export { rebuildProjection } from './rebuild.ts';
export type { RebuildOptions, RebuildPhase, RebuildProgress } from './rebuild.ts';
export { factOfAct, factOfStored } from './facts.ts';
export type { ActFact, OfferFact } from './facts.ts';
