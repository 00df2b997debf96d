// The indicators from the projection (projection.ts): the same IndicatorReport the FHIR reference
// (compute.ts) gives, figure by figure, from a handful of indexed GROUP BY queries over the fact tables.
// Periods are compared as UTC instants, as the reference's date searches do.
//
// Every act belongs to one structure, hence to one department and one region: the counts of acts and
// incidents of a group add up to the overall. Distinct professionals do not (one professional may act
// for several structures): they are counted by COUNT(DISTINCT) for each group and for the overall.
import { ACT_TYPES, INCIDENT_TYPES, PROFESSIONS } from '../model/act.ts';
import type { ActType, IncidentType, Profession } from '../model/act.ts';
import { monthsOf } from './report.ts';
import type { IndicatorGroup, IndicatorQuery, IndicatorReport, IndicatorSet, MonthCounts, OfferIndicators } from './report.ts';
import { PROFESSION_LABELS } from './definitions.ts';
import { departmentLabel, regionLabel } from './geo.ts';
import type { Projection } from './projection.ts';
import { professionBit } from './aggregates.ts';
import { actCounts, actsByMonth, filters, GROUP_COLUMN, instant, monitoredPatients, performers } from './projection-sql.ts';
import type { GeoGroup, Sql } from './projection-sql.ts';

interface Tally {
  acts: number;
  byType: Record<ActType, number>;
  withAssistant: number;
  withoutReport: number;
  professionals: number;
  consentRefusals: number;
  incidents: number;
  incidentsByType: Record<IncidentType, number>;
  actsWithIncident: number;
  actsInterrupted: number;
  reportsWithoutAuthor: number;
  monitoredPatients: number;
  offers: { total: number; withTelehealthReception: number; structuresWithTelehealthOffer: number };
}

function zeroBy<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function emptyTally(): Tally {
  return {
    acts: 0,
    byType: zeroBy(ACT_TYPES),
    withAssistant: 0,
    withoutReport: 0,
    professionals: 0,
    consentRefusals: 0,
    incidents: 0,
    incidentsByType: zeroBy(INCIDENT_TYPES),
    actsWithIncident: 0,
    actsInterrupted: 0,
    reportsWithoutAuthor: 0,
    monitoredPatients: 0,
    offers: { total: 0, withTelehealthReception: 0, structuresWithTelehealthOffer: 0 },
  };
}

function offersOf(tally: Tally): OfferIndicators {
  const { total, withTelehealthReception, structuresWithTelehealthOffer } = tally.offers;
  return { total, withTelehealthReception, fillRate: total === 0 ? null : withTelehealthReception / total, structuresWithTelehealthOffer };
}

function setOf(tally: Tally, months?: readonly MonthCounts[]): IndicatorSet {
  return {
    acts: tally.acts,
    actsByType: tally.byType,
    ...(months === undefined ? {} : { actsByMonth: months }),
    professionals: tally.professionals,
    teleconsultations: tally.byType.teleconsultation,
    teleconsultationsWithAssistant: tally.withAssistant,
    consentRefusals: tally.consentRefusals,
    incidents: tally.incidents,
    incidentsByType: tally.incidentsByType,
    actsWithIncident: tally.actsWithIncident,
    actsInterruptedOrConverted: tally.actsInterrupted,
    finishedWithoutReport: tally.withoutReport,
    reportsWithoutAuthor: tally.reportsWithoutAuthor,
    offers: offersOf(tally),
    patientsTelesurveillance6Months: tally.monitoredPatients,
  };
}

const num = (value: unknown): number => Number(value ?? 0);

function rows<T>(projection: Projection, sql: Sql): Promise<T[]> {
  return projection.all<T>(sql.sql, sql.params);
}

/** The rows of several statements, one after the other. */
async function allRows<T>(projection: Projection, sqls: readonly Sql[]): Promise<T[]> {
  return (await Promise.all(sqls.map((sql) => rows<T>(projection, sql)))).flat();
}

/** What one pass over the fact tables gives: each group's tally, and the overall (sums, distinct professionals apart). */
interface Tallies {
  readonly groups: Map<string, Tally>;
  readonly overall: Tally;
}

/** The tallies per group key of a geographic grouping ('' when not grouped), and the overall, in one pass per table. */
async function geoTallies(projection: Projection, query: IndicatorQuery, group: GeoGroup, maxSpanMs: number): Promise<Tallies> {
  const g = GROUP_COLUMN[group];
  const from = instant(query.from);
  const to = instant(query.to);
  const groups = new Map<string, Tally>();
  const overall = emptyTally();
  const tally = (key: unknown): Tally => {
    const k = String(key ?? '');
    let t = groups.get(k);
    if (t === undefined) {
      t = emptyTally();
      groups.set(k, t);
    }
    return t;
  };
  const acts = filters(query, 'type');
  const incidents = filters(query, 'act_type');
  const [actRows, professionalRows, consentRows, incidentRows, incidentActRows, noAuthorRows, offerRows, monitoredRows, professionalsOverall, patientsOverall] = await Promise.all([
    allRows<{ g: string; type: ActType; n: number; wa: number; nr: number }>(projection, actCounts(query, g, maxSpanMs)),
    // Distinct professionals and patients are counted by the database, per group and for the whole (one
    // professional may act in several groups): numbers come back, not every professional and patient.
    rows<{ g: string; n: number }>(projection, performers(query, `${g} AS g, COUNT(DISTINCT rpps) AS n`, maxSpanMs, ' GROUP BY 1')),
    projection.all<{ g: string; n: number }>(
      `SELECT ${g} AS g, COUNT(*) AS n FROM indicator_acts WHERE consent_refused_at >= ? AND consent_refused_at < ?${acts.sql} GROUP BY 1`,
      [from, to, ...acts.params],
    ),
    projection.all<{ g: string; type: IncidentType; n: number }>(
      `SELECT ${g} AS g, type, COUNT(*) AS n FROM indicator_act_incidents WHERE at >= ? AND at < ?${incidents.sql} GROUP BY 1, 2`,
      [from, to, ...incidents.params],
    ),
    projection.all<{ g: string; acts: number; stopped: number }>(
      `SELECT ${g} AS g, COUNT(DISTINCT act_key) AS acts,
              COUNT(DISTINCT CASE WHEN effect IN ('interrupted', 'converted-in-person') THEN act_key END) AS stopped
         FROM indicator_act_incidents WHERE at >= ? AND at < ?${incidents.sql} GROUP BY 1`,
      [from, to, ...incidents.params],
    ),
    projection.all<{ g: string; n: number }>(
      `SELECT ${g} AS g, COUNT(*) AS n FROM indicator_acts
        WHERE report = 'no-author' AND start_at < ? AND (end_at IS NULL OR end_at >= ?)${acts.sql} GROUP BY 1`,
      [to, from, ...acts.params],
    ),
    offerTallies(projection, query, g),
    rows<{ g: string; n: number }>(projection, monitoredPatients(query, `${g} AS g, COUNT(DISTINCT patient) AS n`, maxSpanMs, ' GROUP BY 1')),
    group === 'none' ? [] : rows<{ n: number }>(projection, performers(query, 'COUNT(DISTINCT rpps) AS n', maxSpanMs)),
    group === 'none' ? [] : rows<{ n: number }>(projection, monitoredPatients(query, 'COUNT(DISTINCT patient) AS n', maxSpanMs)),
  ]);
  // Every act belongs to one structure, hence to one group: the overall of these counts is their sum.
  for (const r of actRows) {
    for (const t of [tally(r.g), overall]) {
      t.acts += num(r.n);
      t.byType[r.type] += num(r.n);
      if (r.type === 'teleconsultation') t.withAssistant += num(r.wa);
      t.withoutReport += num(r.nr);
    }
  }
  for (const r of professionalRows) tally(r.g).professionals = num(r.n);
  for (const r of monitoredRows) tally(r.g).monitoredPatients = num(r.n);
  overall.professionals = num((group === 'none' ? professionalRows : professionalsOverall)[0]?.n);
  overall.monitoredPatients = num((group === 'none' ? monitoredRows : patientsOverall)[0]?.n);
  for (const r of consentRows) for (const t of [tally(r.g), overall]) t.consentRefusals += num(r.n);
  for (const r of incidentRows) {
    for (const t of [tally(r.g), overall]) {
      t.incidents += num(r.n);
      t.incidentsByType[r.type] += num(r.n);
    }
  }
  for (const r of incidentActRows) {
    for (const t of [tally(r.g), overall]) {
      t.actsWithIncident += num(r.acts);
      t.actsInterrupted += num(r.stopped);
    }
  }
  for (const r of noAuthorRows) for (const t of [tally(r.g), overall]) t.reportsWithoutAuthor += num(r.n);
  for (const r of offerRows) {
    for (const t of [tally(r.g), overall]) {
      t.offers.total += num(r.total);
      t.offers.withTelehealthReception += num(r.reception);
      t.offers.structuresWithTelehealthOffer += num(r.structures);
    }
  }
  return { groups, overall };
}

/** Active offers per group: the offers' own structure (an offer is not an act: act filters do not apply). */
function offerTallies(projection: Projection, query: IndicatorQuery, g: string) {
  const where = filters({ ...query, actType: undefined, profession: undefined }, 'type');
  return projection.all<{ g: string; total: number; reception: number; structures: number }>(
    `SELECT ${g} AS g, COUNT(*) AS total, SUM(reception) AS reception, COUNT(DISTINCT CASE WHEN telehealth = 1 THEN finess END) AS structures
       FROM indicator_offers WHERE active = 1${where.sql} GROUP BY 1`,
    where.params,
  );
}

/** Acts per month (overall only): an act counts in every month its period meets, as in the reference. */
async function monthCounts(projection: Projection, query: IndicatorQuery, maxSpanMs: number): Promise<MonthCounts[]> {
  const months = monthsOf(query);
  const counts = await allRows<{ sm: string; em: string; type: ActType; n: number }>(projection, actsByMonth(query, maxSpanMs));
  return months.map(({ month }) => {
    const byType = zeroBy(ACT_TYPES);
    for (const r of counts) if (r.sm <= month && month <= r.em) byType[r.type] += num(r.n);
    return { month, total: Object.values(byType).reduce((a, b) => a + b, 0), byType };
  });
}

function hasActivity(set: IndicatorSet): boolean {
  return set.acts > 0 || (set.offers?.total ?? 0) > 0 || (set.consentRefusals ?? 0) > 0;
}

/** Distinct patients in télésurveillance per profession among the participants: one count for each profession present. */
async function monitoredByProfession(projection: Projection, query: IndicatorQuery, maxSpanMs: number): Promise<Map<Profession, number>> {
  const sets = await rows<{ g: number }>(projection, monitoredPatients(query, 'DISTINCT professions AS g', maxSpanMs));
  const present = PROFESSIONS.filter((p) => sets.some((r) => (num(r.g) & professionBit(p)) !== 0));
  const counts = await Promise.all(
    present.map((p) => rows<{ n: number }>(projection, monitoredPatients(query, 'COUNT(DISTINCT patient) AS n', maxSpanMs, '', { sql: ' AND (professions & ?) <> 0', params: [professionBit(p)] }))),
  );
  return new Map(present.map((p, i) => [p, num(counts[i]?.[0]?.n)]));
}

/** By profession of the participants: what the reference computes there (the rest is not computable: null). */
async function professionGroups(projection: Projection, query: IndicatorQuery, maxSpanMs: number): Promise<IndicatorGroup[]> {
  // Acts and patients by the professions among their participants (a bit set): each profession sums the sets that hold it.
  const [acts, professionals, monitoredRows] = await Promise.all([
    allRows<{ g: number; type: ActType; n: number; wa: number }>(projection, actCounts(query, 'professions', maxSpanMs)),
    rows<{ profession: string; n: number }>(projection, performers(query, 'profession, COUNT(DISTINCT rpps) AS n', maxSpanMs, ' GROUP BY 1')),
    monitoredByProfession(projection, query, maxSpanMs),
  ]);
  const groups: IndicatorGroup[] = [];
  for (const profession of PROFESSIONS) {
    const byType = zeroBy(ACT_TYPES);
    let withAssistant = 0;
    for (const r of acts) {
      if ((num(r.g) & professionBit(profession)) === 0) continue;
      byType[r.type] += num(r.n);
      if (r.type === 'teleconsultation') withAssistant += num(r.wa);
    }
    const total = Object.values(byType).reduce((a, b) => a + b, 0);
    const set: IndicatorSet = {
      acts: total,
      actsByType: byType,
      professionals: num(professionals.find((r) => r.profession === profession)?.n),
      teleconsultations: byType.teleconsultation,
      teleconsultationsWithAssistant: withAssistant,
      consentRefusals: null,
      incidents: null,
      incidentsByType: null,
      actsWithIncident: null,
      actsInterruptedOrConverted: null,
      finishedWithoutReport: null,
      reportsWithoutAuthor: null,
      offers: null,
      patientsTelesurveillance6Months: monitoredRows.get(profession) ?? 0,
    };
    if (hasActivity(set)) groups.push({ key: profession, label: PROFESSION_LABELS[profession], indicators: set });
  }
  return groups;
}

async function structureNames(projection: Projection): Promise<Map<string, string>> {
  const rows = await projection.all<{ finess: string; name: string }>('SELECT finess, name FROM indicator_structures', []);
  return new Map(rows.map((r) => [r.finess, r.name]));
}

function labelOf(group: GeoGroup, key: string, names: ReadonlyMap<string, string>): string {
  if (group === 'structure') return names.get(key) ?? key;
  if (group === 'department') return departmentLabel(key);
  if (group === 'region') return regionLabel(key);
  return 'Ensemble';
}

/** Every indicator for the period from the projection: overall (with months) and by the groups asked for. */
export async function indicatorsFromProjection(projection: Projection, query: IndicatorQuery): Promise<IndicatorReport> {
  const started = performance.now();
  const groupBy = query.groupBy ?? 'none';
  const geo: GeoGroup | undefined = groupBy === 'specialty' ? undefined : groupBy;
  const maxSpanMs = await projection.maxSpanMs();
  const [tallies, months, names] = await Promise.all([
    geoTallies(projection, query, geo ?? 'none', maxSpanMs),
    monthCounts(projection, query, maxSpanMs),
    geo === 'structure' ? structureNames(projection) : new Map<string, string>(),
  ]);
  const overall = setOf(tallies.overall, months);
  let groups: IndicatorGroup[] = [];
  if (groupBy === 'specialty') groups = await professionGroups(projection, query, maxSpanMs);
  else if (geo !== undefined && geo !== 'none') {
    groups = [...tallies.groups.entries()]
      .filter(([key]) => key !== '')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, t]) => ({ key, label: labelOf(geo, key, names), indicators: setOf(t) }))
      .filter((g) => hasActivity(g.indicators));
  }
  return {
    from: query.from,
    to: query.to,
    groupBy,
    ...(query.department === undefined ? {} : { department: query.department }),
    ...(query.finess === undefined ? {} : { finess: query.finess }),
    overall,
    groups,
    cost: { searches: 0, ms: Math.round(performance.now() - started) },
  };
}
