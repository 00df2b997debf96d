// The SQL the indicators read the projection with (projection-query.ts puts the answers together): the
// query's filters, the period over the fact rows, and over the aggregates (aggregates.ts) for a period of
// whole months — the default (the last 12 complete months), the dashboard's, and their previous periods.
// A period with a day boundary reads the facts: the aggregates count by month.
import type { IndicatorQuery } from './report.ts';
import { sixMonthsBefore } from './report.ts';
import { monthsBetween, professionBit } from './aggregates.ts';

export type Param = string | number | null;

/** A condition (` AND …` for filters) and its `?` parameters. */
export interface Sql {
  readonly sql: string;
  readonly params: readonly Param[];
}

/** The filters of the query on a table holding the act's dimensions; `type` names its act type column. */
export function filters(query: IndicatorQuery, typeColumn = 'type', profession: 'bits' | 'act_profession' = 'bits'): Sql {
  const parts: string[] = [];
  const params: Param[] = [];
  if (query.finess !== undefined) {
    parts.push(`finess IN (${query.finess.map(() => '?').join(', ')})`);
    params.push(...query.finess);
  }
  if (query.department !== undefined) {
    parts.push('department = ?');
    params.push(query.department);
  }
  if (query.region !== undefined) {
    parts.push('region = ?');
    params.push(query.region);
  }
  if (query.actType !== undefined) {
    parts.push(`${typeColumn} = ?`);
    params.push(query.actType);
  }
  if (query.profession !== undefined) {
    parts.push(profession === 'bits' ? '(professions & ?) <> 0' : 'act_profession = ?');
    params.push(profession === 'bits' ? professionBit(query.profession) : query.profession);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

export const GROUP_COLUMN = { none: "''", structure: "COALESCE(finess, '')", department: "COALESCE(department, '')", region: "COALESCE(region, '')" } as const;
export type GeoGroup = keyof typeof GROUP_COLUMN;

export function instant(day: string): string {
  return `${day}T00:00:00.000Z`;
}

/**
 * The finished acts whose period meets [from, to): they end at or after `from`, start before `to`, and so
 * end before `to` plus the longest span of any act: a range of the (status, end_at…) index, both sides bounded.
 */
export function finishedIn(query: IndicatorQuery, maxSpanMs: number): Sql {
  const endBound = new Date(Date.parse(instant(query.to)) + maxSpanMs + 1).toISOString();
  return { sql: "status = 'finished' AND end_at >= ? AND end_at < ? AND start_at < ?", params: [instant(query.from), endBound, instant(query.to)] };
}

/** The finished télésurveillance acts of the 6 months before the period's end (the index indicator_acts_by_type). */
export function monitoredIn(query: IndicatorQuery, maxSpanMs: number): Sql {
  const window = finishedIn({ ...query, ...sixMonthsBefore(query.to) }, maxSpanMs);
  return { sql: `type = 'telesurveillance' AND ${window.sql}`, params: window.params };
}

/** A period of whole months (from and to on the 1st) is read from the aggregates. */
export function wholeMonths(query: IndicatorQuery): boolean {
  return query.from.endsWith('-01') && query.to.endsWith('-01');
}

/** The months of a period of whole months, by year: year → month numbers (1–12). */
function monthsByYear(query: IndicatorQuery): Map<string, number[]> {
  const last = new Date(`${query.to}T00:00:00Z`);
  last.setUTCMonth(last.getUTCMonth() - 1);
  const years = new Map<string, number[]>();
  for (const month of monthsBetween(query.from.slice(0, 7), last.toISOString().slice(0, 7))) {
    const year = month.slice(0, 4);
    years.set(year, [...(years.get(year) ?? []), Number(month.slice(5, 7))]);
  }
  return years;
}

/** Years are digits (the route's date pattern): written in the SQL, as the month columns are. */
function yearsIn(years: Map<string, number[]>): string {
  return `year IN (${[...years.keys()].map((y) => `'${String(Number(y))}'`).join(', ')})`;
}

/** The sum of a value's month columns over the period, for a row of year `year`. */
function periodSum(years: Map<string, number[]>, value: string): string {
  return `CASE year ${[...years.entries()].map(([year, months]) => `WHEN '${String(Number(year))}' THEN ${months.map((m) => `${value}${m}`).join(' + ')}`).join(' ')} ELSE 0 END`;
}

/** The monthly aggregate of the acts a grouping and the filters can read: by structure only when they name structures. */
function actsTable(query: IndicatorQuery, group: string): string {
  return group.includes('finess') || query.finess !== undefined ? 'indicator_agg_structures' : 'indicator_agg_departments';
}

/**
 * Finished acts per (group `g`, type): n, with an assistant on site (wa), without a report (nr), as rows
 * to add up (a group's may come in several). `group` is an SQL expression of the act's dimensions
 * (GROUP_COLUMN, or `professions`).
 */
export function actCounts(query: IndicatorQuery, group: string, maxSpanMs: number): Sql[] {
  const where = filters(query);
  if (wholeMonths(query)) {
    // The aggregates hold no NULL (an act without a structure has ''): the plain column keeps the key's order.
    const g = group.replace(/^COALESCE\((\w+), ''\)$/, '$1');
    const years = monthsByYear(query);
    return [
      {
        sql: `SELECT ${g} AS g, type, SUM(${periodSum(years, 'n')}) AS n, SUM(${periodSum(years, 'wa')}) AS wa, SUM(${periodSum(years, 'nr')}) AS nr
                FROM ${actsTable(query, group)} WHERE ${yearsIn(years)}${where.sql} GROUP BY 1, 2`,
        params: where.params,
      },
      { sql: `SELECT ${g} AS g, type, SUM(n) AS n, SUM(wa) AS wa, SUM(nr) AS nr FROM indicator_agg_spanning WHERE em >= ? AND sm < ?${where.sql} GROUP BY 1, 2`, params: [query.from.slice(0, 7), query.to.slice(0, 7), ...where.params] },
    ];
  }
  const window = finishedIn(query, maxSpanMs);
  return [
    {
      sql: `SELECT ${group} AS g, type, COUNT(*) AS n, SUM(with_assistant) AS wa, SUM(CASE WHEN report = 'none' THEN 1 ELSE 0 END) AS nr FROM indicator_acts WHERE ${window.sql}${where.sql} GROUP BY 1, 2`,
      params: [...window.params, ...where.params],
    },
  ];
}

/** Finished acts per (start month, end month, type): rows { sm, em, type, n }, as SQL statements to run. */
export function actsByMonth(query: IndicatorQuery, maxSpanMs: number): Sql[] {
  const where = filters(query);
  if (!wholeMonths(query)) {
    const window = finishedIn(query, maxSpanMs);
    return [{ sql: `SELECT start_month AS sm, end_month AS em, type, COUNT(*) AS n FROM indicator_acts WHERE ${window.sql}${where.sql} GROUP BY 1, 2, 3`, params: [...window.params, ...where.params] }];
  }
  const years = monthsByYear(query);
  const table = actsTable(query, '');
  return [
    ...[...years.entries()].flatMap(([year, months]) =>
      months.map((m) => {
        const month = `${String(Number(year))}-${String(m).padStart(2, '0')}`;
        return { sql: `SELECT '${month}' AS sm, '${month}' AS em, type, SUM(n${m}) AS n FROM ${table} WHERE year = '${String(Number(year))}'${where.sql} GROUP BY type`, params: where.params };
      }),
    ),
    { sql: `SELECT sm, em, type, SUM(n) AS n FROM indicator_agg_spanning WHERE em >= ? AND sm < ?${where.sql} GROUP BY 1, 2, 3`, params: [query.from.slice(0, 7), query.to.slice(0, 7), ...where.params] },
  ];
}

/**
 * `SELECT columns` over the performers of the period's finished telemedicine acts (rpps, profession and the
 * act's place), then `tail` (a GROUP BY): from the reference counts by month for whole months.
 */
export function performers(query: IndicatorQuery, columns: string, maxSpanMs: number, tail = ''): Sql {
  if (!wholeMonths(query)) {
    const where = filters(query);
    const window = finishedIn(query, maxSpanMs);
    return { sql: `SELECT ${columns} FROM indicator_act_professionals WHERE ${window.sql} AND performer = 1 AND telemedicine = 1${where.sql}${tail}`, params: [...window.params, ...where.params] };
  }
  // The act filters need the rows kept per act type and profession among the participants.
  const byAct = query.actType !== undefined || query.profession !== undefined;
  const where = filters(query, 'type', 'act_profession');
  const years = [...monthsByYear(query).entries()];
  const bits = years.map(([year, months]) => `(year = '${String(Number(year))}' AND (bits & ${months.reduce((b, m) => b | (1 << (m - 1)), 0)}) <> 0)`).join(' OR ');
  return { sql: `SELECT ${columns} FROM ${byAct ? 'indicator_agg_professionals_by_act' : 'indicator_agg_professionals'} WHERE (${bits})${where.sql}${tail}`, params: where.params };
}

/**
 * `SELECT columns` over the patients of the finished télésurveillance acts of the 6 months before the
 * period's end, then `tail` (a GROUP BY); `also` narrows them further.
 */
export function monitoredPatients(query: IndicatorQuery, columns: string, maxSpanMs: number, tail = '', also: Sql = { sql: '', params: [] }): Sql {
  const where = filters(query);
  const window = monitoredIn(query, maxSpanMs);
  return { sql: `SELECT ${columns} FROM indicator_acts WHERE ${window.sql}${where.sql}${also.sql}${tail}`, params: [...window.params, ...where.params, ...also.params] };
}
