// The projection's tables (projection.ts), and the upgrade of a database written by an earlier version:
// version 2 added the professions of each act (a bit set, aggregates.ts) and the pre-aggregated tables,
// which the projection then fills from the facts already there (Projection.#upgrade).
import { AGGREGATE_INDEXES, AGGREGATE_TABLES } from './aggregates.ts';

export const SCHEMA_VERSION = 2;

export const TABLES = [
  `CREATE TABLE IF NOT EXISTS indicator_acts (
    act_key TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    tick BIGINT NOT NULL,
    finess TEXT,
    department TEXT,
    region TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    telemedicine SMALLINT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT,
    start_month TEXT NOT NULL,
    end_month TEXT,
    with_assistant SMALLINT NOT NULL,
    patient TEXT NOT NULL,
    consent_refused_at TEXT,
    report TEXT NOT NULL,
    professions INTEGER NOT NULL
  )`,
  // The act's dimensions are repeated on its professionals and incidents: the distinct counts and the
  // incident counts read one table, through one index, with no join.
  `CREATE TABLE IF NOT EXISTS indicator_act_professionals (
    act_key TEXT NOT NULL,
    rpps TEXT NOT NULL,
    profession TEXT NOT NULL,
    performer SMALLINT NOT NULL,
    finess TEXT,
    department TEXT,
    region TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    telemedicine SMALLINT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT,
    with_assistant SMALLINT NOT NULL,
    professions INTEGER NOT NULL,
    PRIMARY KEY (act_key, rpps)
  )`,
  `CREATE TABLE IF NOT EXISTS indicator_act_incidents (
    act_key TEXT NOT NULL,
    n INTEGER NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    effect TEXT NOT NULL,
    finess TEXT,
    department TEXT,
    region TEXT,
    act_type TEXT NOT NULL,
    professions INTEGER NOT NULL,
    PRIMARY KEY (act_key, n)
  )`,
  `CREATE TABLE IF NOT EXISTS indicator_offers (
    offer_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    tick BIGINT NOT NULL,
    finess TEXT,
    department TEXT,
    region TEXT,
    active SMALLINT NOT NULL,
    reception SMALLINT NOT NULL,
    telehealth SMALLINT NOT NULL
  )`,
  'CREATE TABLE IF NOT EXISTS indicator_structures (finess TEXT PRIMARY KEY, name TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS indicator_span (id INTEGER PRIMARY KEY, max_ms BIGINT NOT NULL)',
  // Facts written before this table existed have no recorded span: five years then, until a rebuild.
  'INSERT INTO indicator_span (id, max_ms) SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM indicator_acts) THEN 158112000000 ELSE 0 END WHERE NOT EXISTS (SELECT 1 FROM indicator_span)',
  'CREATE TABLE IF NOT EXISTS indicator_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)',
  ...AGGREGATE_TABLES,
];

/** Created once the columns they cover exist (ADDED_COLUMNS, on a database of an earlier version). */
export const INDEXES = [
  // Covering indexes: the period's rows are read from the index alone, in end order, bounded on both sides
  // (the longest act's span bounds end_at: indicator_span).
  'CREATE INDEX IF NOT EXISTS indicator_acts_in_period ON indicator_acts (status, end_at, start_at, region, department, finess, type, with_assistant, report, start_month, end_month, professions)',
  'CREATE INDEX IF NOT EXISTS indicator_acts_consents ON indicator_acts (consent_refused_at, type, region, department, finess, professions) WHERE consent_refused_at IS NOT NULL',
  // The patients of the télésurveillance acts (a tenth of the acts), read from this index alone: the
  // equalities on type and status make it the planner's choice over indicator_acts_in_period.
  'CREATE INDEX IF NOT EXISTS indicator_acts_by_type ON indicator_acts (type, status, end_at, start_at, region, department, finess, professions, patient)',
  "CREATE INDEX IF NOT EXISTS indicator_acts_without_author ON indicator_acts (start_at) WHERE report = 'no-author'",
  'CREATE INDEX IF NOT EXISTS indicator_professionals_in_period ON indicator_act_professionals (status, end_at, start_at, performer, telemedicine, region, department, finess, rpps, type, profession, professions)',
  'CREATE INDEX IF NOT EXISTS indicator_incidents_in_period ON indicator_act_incidents (at, act_type, region, department, finess, professions, type, effect, act_key)',
  ...AGGREGATE_INDEXES,
  // Replaced by the indexes above, which cover the professions.
  'DROP INDEX IF EXISTS indicator_acts_by_period',
  'DROP INDEX IF EXISTS indicator_acts_by_consent',
  'DROP INDEX IF EXISTS indicator_professionals_by_period',
  'DROP INDEX IF EXISTS indicator_incidents_by_time',
  'DROP INDEX IF EXISTS indicator_acts_telesurveillance',
];

export const SQLITE_CLOCK = ['CREATE TABLE IF NOT EXISTS indicator_clock (tick INTEGER NOT NULL)', 'INSERT INTO indicator_clock (tick) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM indicator_clock)'];
export const POSTGRES_CLOCK = ['CREATE SEQUENCE IF NOT EXISTS indicator_clock'];

/** Columns of version 2 a database of version 1 lacks: added before the indexes that cover them. */
export const ADDED_COLUMNS = [
  { table: 'indicator_acts', column: 'professions' },
  { table: 'indicator_act_professionals', column: 'professions' },
  { table: 'indicator_act_incidents', column: 'professions' },
] as const;

export function addColumn(table: string, column: string): string {
  return `ALTER TABLE ${table} ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`;
}
