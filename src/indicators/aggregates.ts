// Pre-aggregated tables of the projection, kept by the same writes as the facts (projection.ts), in the
// same transaction: for a changed act, the old fact's share is subtracted and the new one's added (an
// unchanged redelivery nets to nothing). A year then reads a row per (structure or department, act type,
// professions) instead of every act. The facts stay the source of truth: the aggregates are a function of
// them (test/support/aggregates-history.ts checks random message sequences against a GROUP BY of the facts).
//
// Finished acts, counted by the month they fall in, one column per month of the year (a year is one row):
// - indicator_agg_structures: per (year, structure, type, professions) — groups by structure, FINESS filters;
// - indicator_agg_departments: per (year, department, type, professions) — everything else (region and
//   department are functions of the structure), a few thousand rows a year;
// - indicator_agg_spanning: the few acts whose period crosses a month's end (UTC), per (start month, end
//   month, structure, type, professions): such an act meets a period of whole months [M1, M2) exactly when
//   its end month >= M1 and its start month < M2, and counts once there, and in each month it meets.
// Distinct professionals: the performers of finished telemedicine acts, with a reference count per month
// of the year their acts meet, and the month's bit set while it is above zero, so that COUNT(DISTINCT)
// over the rows whose bits meet the period is exact, and so is a removal:
// - indicator_agg_professionals: per (year, professional, profession, structure) — without act filters;
// - indicator_agg_professionals_by_act: per (…, act type, one profession among the act's participants) —
//   for the act type and profession filters and the grouping by profession (equality tests, indexed).
// `professions` is the bit set of the professions among an act's participants (professionBit).
import { PROFESSIONS } from '../model/act.ts';
import type { Profession } from '../model/act.ts';
import type { ActFact } from './facts.ts';
import { isTelemedicine } from './facts.ts';

const MONTHS = Array.from({ length: 12 }, (_, i) => i + 1);
const columns = (prefix: string) => MONTHS.map((m) => `${prefix}${m} BIGINT NOT NULL DEFAULT 0`).join(', ');

export const AGGREGATE_TABLES = [
  `CREATE TABLE IF NOT EXISTS indicator_agg_structures (year TEXT NOT NULL, finess TEXT NOT NULL, department TEXT NOT NULL, region TEXT NOT NULL, type TEXT NOT NULL, professions INTEGER NOT NULL,
    ${columns('n')}, ${columns('wa')}, ${columns('nr')}, PRIMARY KEY (year, finess, type, professions))`,
  `CREATE TABLE IF NOT EXISTS indicator_agg_departments (year TEXT NOT NULL, department TEXT NOT NULL, region TEXT NOT NULL, type TEXT NOT NULL, professions INTEGER NOT NULL,
    ${columns('n')}, ${columns('wa')}, ${columns('nr')}, PRIMARY KEY (year, department, type, professions))`,
  `CREATE TABLE IF NOT EXISTS indicator_agg_spanning (sm TEXT NOT NULL, em TEXT NOT NULL, finess TEXT NOT NULL, department TEXT NOT NULL, region TEXT NOT NULL, type TEXT NOT NULL, professions INTEGER NOT NULL,
    n BIGINT NOT NULL, wa BIGINT NOT NULL, nr BIGINT NOT NULL, PRIMARY KEY (sm, em, finess, type, professions))`,
  `CREATE TABLE IF NOT EXISTS indicator_agg_professionals (year TEXT NOT NULL, rpps TEXT NOT NULL, profession TEXT NOT NULL, finess TEXT NOT NULL, department TEXT NOT NULL, region TEXT NOT NULL,
    ${columns('m')}, bits INTEGER NOT NULL, PRIMARY KEY (year, rpps, profession, finess))`,
  `CREATE TABLE IF NOT EXISTS indicator_agg_professionals_by_act (year TEXT NOT NULL, rpps TEXT NOT NULL, profession TEXT NOT NULL, finess TEXT NOT NULL, department TEXT NOT NULL, region TEXT NOT NULL,
    type TEXT NOT NULL, act_profession TEXT NOT NULL, ${columns('m')}, bits INTEGER NOT NULL, PRIMARY KEY (year, type, act_profession, rpps, profession, finess))`,
];

export const AGGREGATE_INDEXES = [
  'CREATE INDEX IF NOT EXISTS indicator_agg_professionals_read ON indicator_agg_professionals (year, bits, region, department, finess, rpps, profession)',
  'CREATE INDEX IF NOT EXISTS indicator_agg_professionals_by_profession ON indicator_agg_professionals_by_act (year, act_profession, type, bits, region, department, finess, rpps, profession)',
];

const BIT: Readonly<Record<Profession, number>> = Object.fromEntries(PROFESSIONS.map((p, i) => [p, 1 << i])) as Record<Profession, number>;

export function professionBit(profession: Profession): number {
  return BIT[profession];
}

/** The bit set of the professions among the act's participants. */
export function professionsOf(fact: Pick<ActFact, 'professionals'>): number {
  return fact.professionals.reduce((mask, p) => mask | BIT[p.profession], 0);
}

/** The months YYYY-MM from `first` to `last`, both included. */
export function monthsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  let year = Number(first.slice(0, 4));
  let month = Number(first.slice(5, 7));
  for (let m = first; m <= last; ) {
    out.push(m);
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
    m = `${year}-${String(month).padStart(2, '0')}`;
  }
  return out;
}

type Param = string | number;

export interface AggregateStatement {
  readonly text: string;
  readonly params: readonly Param[];
}

/** One aggregate table: its key columns, the other dimensions, and its value columns. */
interface TableSpec {
  readonly table: string;
  readonly key: readonly string[];
  readonly dims: readonly string[];
  /** Value columns: per month (`n` → n1…n12) when `monthly`, else plain counters. */
  readonly values: readonly string[];
  readonly monthly: boolean;
  /** A reference count per month (`m`), with the bit set of the months above zero. */
  readonly bits: boolean;
}

const SPECS = {
  structures: { table: 'indicator_agg_structures', key: ['year', 'finess', 'type', 'professions'], dims: ['department', 'region'], values: ['n', 'wa', 'nr'], monthly: true, bits: false },
  departments: { table: 'indicator_agg_departments', key: ['year', 'department', 'type', 'professions'], dims: ['region'], values: ['n', 'wa', 'nr'], monthly: true, bits: false },
  spanning: { table: 'indicator_agg_spanning', key: ['sm', 'em', 'finess', 'type', 'professions'], dims: ['department', 'region'], values: ['n', 'wa', 'nr'], monthly: false, bits: false },
  professionals: { table: 'indicator_agg_professionals', key: ['year', 'rpps', 'profession', 'finess'], dims: ['department', 'region'], values: ['m'], monthly: true, bits: true },
  byAct: { table: 'indicator_agg_professionals_by_act', key: ['year', 'type', 'act_profession', 'rpps', 'profession', 'finess'], dims: ['department', 'region'], values: ['m'], monthly: true, bits: true },
} as const satisfies Record<string, TableSpec>;

/** The upsert of one month (index 0–11; -1 for plain counters): adds the change, keeps the month's bit. */
function upsert(spec: TableSpec, month: number): string {
  const value = (v: string) => (month < 0 ? v : `${v}${month + 1}`);
  const cols = [...spec.key, ...spec.dims, ...spec.values.map(value)];
  const bit = 1 << month;
  const sets = spec.values.map((v) => `${value(v)} = t.${value(v)} + excluded.${value(v)}`);
  if (spec.bits) sets.push(`bits = CASE WHEN t.${value('m')} + excluded.${value('m')} > 0 THEN t.bits | ${bit} ELSE t.bits & ~${bit} END`);
  const values = cols.map(() => '?');
  if (spec.bits) values.push(`CASE WHEN ? > 0 THEN ${bit} ELSE 0 END`);
  return `INSERT INTO ${spec.table} AS t (${[...cols, ...(spec.bits ? ['bits'] : [])].join(', ')}) VALUES (${values.join(', ')})
    ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET ${sets.join(', ')}`;
}

/** Deletes the row of a key when nothing counts in it any more. */
function prune(spec: TableSpec): string {
  const empty = spec.bits ? 'bits = 0' : spec.monthly ? `${MONTHS.map((m) => `n${m}`).join(' + ')} = 0` : 'n = 0';
  return `DELETE FROM ${spec.table} WHERE ${spec.key.map((k) => `${k} = ?`).join(' AND ')} AND ${empty}`;
}

const STATEMENTS = new Map(
  Object.values(SPECS).map((spec: TableSpec) => [spec.table, { months: MONTHS.map((_, i) => upsert(spec, i)), plain: upsert(spec, -1), prune: prune(spec) }]),
);

interface Delta {
  readonly spec: TableSpec;
  readonly key: readonly Param[];
  readonly dims: readonly Param[];
  /** Per value column, the change per month (index 0–11), or at index 0 for plain counters. */
  readonly changes: number[][];
}

/**
 * The changes of the aggregate tables for facts replaced by others, summed: `remove` the old fact, `add`
 * the new one, then `statements()` once (a batch of many acts touches each aggregate row once).
 */
export class AggregateDeltas {
  readonly #deltas = new Map<string, Delta>();

  add(fact: ActFact | undefined): void {
    this.#apply(fact, 1);
  }

  remove(fact: ActFact | undefined): void {
    this.#apply(fact, -1);
  }

  #change(spec: TableSpec, key: readonly Param[], dims: readonly Param[], month: number, values: readonly number[]): void {
    const id = `${spec.table}|${key.join('|')}`;
    let delta = this.#deltas.get(id);
    if (delta === undefined) {
      delta = { spec, key, dims, changes: spec.values.map(() => new Array<number>(12).fill(0)) };
      this.#deltas.set(id, delta);
    }
    values.forEach((v, i) => {
      const column = delta.changes[i] as number[];
      column[month] = (column[month] ?? 0) + v;
    });
  }

  #apply(fact: ActFact | undefined, sign: 1 | -1): void {
    if (fact === undefined || fact.status !== 'finished' || fact.end === null) return;
    const sm = fact.start.slice(0, 7);
    const em = fact.end.slice(0, 7);
    const finess = fact.finess ?? '';
    const department = fact.department ?? '';
    const region = fact.region ?? '';
    const professions = professionsOf(fact);
    const counts = [sign, fact.withAssistant ? sign : 0, fact.report === 'none' ? sign : 0];
    if (sm === em) {
      const year = sm.slice(0, 4);
      const month = Number(sm.slice(5, 7)) - 1;
      this.#change(SPECS.structures, [year, finess, fact.type, professions], [department, region], month, counts);
      this.#change(SPECS.departments, [year, department, fact.type, professions], [region], month, counts);
    } else {
      this.#change(SPECS.spanning, [sm, em, finess, fact.type, professions], [department, region], 0, counts);
    }
    if (!isTelemedicine(fact.type)) return;
    const actProfessions = [...new Set(fact.professionals.map((p) => p.profession))];
    for (const p of fact.professionals) {
      if (!p.performer) continue;
      for (const m of monthsBetween(sm, em)) {
        const year = m.slice(0, 4);
        const month = Number(m.slice(5, 7)) - 1;
        this.#change(SPECS.professionals, [year, p.rpps, p.profession, finess], [department, region], month, [sign]);
        for (const actProfession of actProfessions) this.#change(SPECS.byAct, [year, fact.type, actProfession, p.rpps, p.profession, finess], [department, region], month, [sign]);
      }
    }
  }

  /** The upserts (and the deletes of rows that fell to zero) that apply the summed changes. */
  statements(): AggregateStatement[] {
    const out: AggregateStatement[] = [];
    // In key order: transactions of several instances (PostgreSQL) lock shared aggregate rows in one order.
    const deltas = [...this.#deltas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, delta]) => delta);
    for (const { spec, key, dims, changes } of deltas) {
      const sql = STATEMENTS.get(spec.table);
      if (sql === undefined) continue;
      let removed = false;
      for (let month = 0; month < (spec.monthly ? 12 : 1); month += 1) {
        const values = changes.map((c) => c[month] ?? 0);
        if (values.every((v) => v === 0)) continue;
        const text = spec.monthly ? sql.months[month] : sql.plain;
        out.push({ text: text ?? '', params: [...key, ...dims, ...values, ...(spec.bits ? [values[0] ?? 0] : [])] });
        if ((values[0] ?? 0) < 0) removed = true;
      }
      if (removed) out.push({ text: sql.prune, params: key });
    }
    this.#deltas.clear();
    return out;
  }
}
