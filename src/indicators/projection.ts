// The indicators projection: per-act facts (facts.ts) in tables beside the outbox's, in the same
// database (SQLite embedded, PostgreSQL shared), kept by a hook the outbox runs in the transaction that
// marks a delivery done. So a fact exists exactly when its act's delivery is recorded: an act that did not
// land is never counted; one that landed is, even if the process died between the FHIR write and that
// record (the message stays pending, its redelivery runs the hook then). Each fact row carries the seq of
// the last message applied to it: a message is applied only when its seq is larger, so a redelivery
// replaces nothing twice, whichever instance makes it.
//
// The rebuild (rebuild.ts) writes facts read from the FHIR store. It must not put an older state over a
// newer one a delivery recorded meanwhile: every hook change stamps its row with the projection's clock
// (a counter), the rebuild reads the clock before reading a page from the store, and writes a fact only
// where the row's stamp is not later: a delivery recorded after that read may be newer than what was read
// (its FHIR write may come after), one recorded before it is already in the store's answer.
//
// Aggregates are computed at query time (projection-query.ts) by indexed GROUP BY and COUNT(DISTINCT)
// over these rows: exact distinct counts, no counters to drift.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type pg from 'pg';
import type { HealthcareService } from '@medplum/fhirtypes';
import { toOfferBundle } from '../mapping/offer.ts';
import { PROFESSIONS } from '../model/act.ts';
import type { Act, ActCancellation, ActReport, ActStatus, ActType, Profession } from '../model/act.ts';
import type { Offer } from '../model/offer.ts';
import { postgresTransaction, sqliteTransaction } from '../transactions.ts';
import { factAfterCancel, factAfterReport, factKey, factOfAct, isTelemedicine, offerFactOfService } from './facts.ts';
import type { ActFact, IncidentFact, OfferFact, ReportState } from './facts.ts';
import { AggregateDeltas, professionBit, professionsOf } from './aggregates.ts';
import { ADDED_COLUMNS, addColumn, INDEXES, POSTGRES_CLOCK, SCHEMA_VERSION, SQLITE_CLOCK, TABLES } from './schema.ts';

/** The outbox's database, as the delivery room hands it over (structurally its OutboxDatabase). */
export type ProjectionDatabase = { readonly kind: 'sqlite'; readonly db: DatabaseSync } | { readonly kind: 'postgres'; readonly pool: pg.Pool };

/** What a delivered message carried (structurally the delivery room's DeliveredMessage). */
export interface AppliedMessage {
  readonly seq: number;
  readonly kind: string;
  readonly payload: unknown;
  readonly receivedAt: string;
}

export const PROJECTED_KINDS: ReadonlySet<string> = new Set(['act', 'act-report', 'act-cancel', 'offer', 'offer-withdraw']);

/** `?` placeholders as PostgreSQL's `$1, $2…`. */
export function pgText(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** One statement to run, with `?` placeholders. */
interface Statement {
  readonly text: string;
  readonly params: readonly (string | number | null)[];
}

const ACT_COLUMNS = 'act_key, version, tick, finess, department, region, type, status, telemedicine, start_at, end_at, start_month, end_month, with_assistant, patient, consent_refused_at, report, professions';
const UPSERT_ACT = `INSERT INTO indicator_acts (${ACT_COLUMNS}) VALUES (${ACT_COLUMNS.split(', ').map(() => '?').join(', ')})
  ON CONFLICT (act_key) DO UPDATE SET ${ACT_COLUMNS.split(', ')
    .slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

const bit = (value: boolean): number => (value ? 1 : 0);

/** How long the act lasted, in ms (0 without an end). */
function spanMs(fact: ActFact): number {
  return fact.end === null ? 0 : Math.max(0, Date.parse(fact.end) - Date.parse(fact.start));
}

/** Every statement that makes the tables hold `fact`, whatever they held for its act. */
function factStatements(fact: ActFact, version: number, tick: number): Statement[] {
  const dims = [fact.finess, fact.department, fact.region] as const;
  const telemedicine = bit(isTelemedicine(fact.type));
  const professions = professionsOf(fact);
  const out: Statement[] = [
    {
      text: UPSERT_ACT,
      params: [
        fact.key,
        version,
        tick,
        ...dims,
        fact.type,
        fact.status,
        telemedicine,
        fact.start,
        fact.end,
        fact.start.slice(0, 7),
        fact.end?.slice(0, 7) ?? null,
        bit(fact.withAssistant),
        fact.patient,
        fact.consentRefusedAt,
        fact.report,
        professions,
      ],
    },
    { text: 'DELETE FROM indicator_act_professionals WHERE act_key = ?', params: [fact.key] },
    ...(fact.end === null ? [] : [{ text: 'UPDATE indicator_span SET max_ms = ? WHERE id = 1 AND max_ms < ?', params: [spanMs(fact), spanMs(fact)] }]),
    ...(fact.finess === null || fact.structureName === null
      ? []
      : [{ text: UPSERT_STRUCTURE, params: [fact.finess, fact.structureName] }]),
    { text: 'DELETE FROM indicator_act_incidents WHERE act_key = ?', params: [fact.key] },
  ];
  for (const p of fact.professionals) {
    out.push({
      text: `INSERT INTO indicator_act_professionals (act_key, rpps, profession, performer, finess, department, region, type, status, telemedicine, start_at, end_at, with_assistant, professions)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [fact.key, p.rpps, p.profession, bit(p.performer), ...dims, fact.type, fact.status, telemedicine, fact.start, fact.end, bit(fact.withAssistant), professions],
    });
  }
  fact.incidents.forEach((incident, n) => {
    out.push({
      text: 'INSERT INTO indicator_act_incidents (act_key, n, type, at, effect, finess, department, region, act_type, professions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      params: [fact.key, n + 1, incident.type, incident.at, incident.effect, ...dims, fact.type, professions],
    });
  });
  return out;
}

const OFFER_COLUMNS = 'offer_id, version, tick, finess, department, region, active, reception, telehealth';
const UPSERT_OFFER = `INSERT INTO indicator_offers (${OFFER_COLUMNS}) VALUES (${OFFER_COLUMNS.split(', ').map(() => '?').join(', ')})
  ON CONFLICT (offer_id) DO UPDATE SET ${OFFER_COLUMNS.split(', ')
    .slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

const UPSERT_STRUCTURE = 'INSERT INTO indicator_structures (finess, name) VALUES (?, ?) ON CONFLICT (finess) DO UPDATE SET name = excluded.name';

function offerStatements(fact: OfferFact, version: number, tick: number): Statement[] {
  return [
    { text: UPSERT_OFFER, params: [fact.id, version, tick, fact.finess, fact.department, fact.region, bit(fact.active), bit(fact.reception), bit(fact.telehealth)] },
    ...(fact.finess === null || fact.structureName === null ? [] : [{ text: UPSERT_STRUCTURE, params: [fact.finess, fact.structureName] }]),
  ];
}

/** The offer as the worker wrote it: the same mapping, so the same characteristics the reference reads. */
function offerFactOfMessage(offer: Offer, receivedAt: string): OfferFact | undefined {
  const service = (toOfferBundle(offer, { now: receivedAt }).entry ?? []).map((e) => e.resource).find((r): r is HealthcareService => r?.resourceType === 'HealthcareService');
  return service === undefined ? undefined : offerFactOfService(offer.identifiantOffre, service, offer.structure.finess, offer.structure.name ?? null);
}

interface StoredRow {
  version: number | string;
  tick: number | string;
}

/** An act's row as stored (ACT_COLUMNS). */
interface ActRow extends StoredRow {
  act_key: string;
  finess: string | null;
  department: string | null;
  region: string | null;
  type: ActType;
  status: ActStatus;
  start_at: string;
  end_at: string | null;
  with_assistant: number | string;
  patient: string;
  consent_refused_at: string | null;
  report: ReportState;
}

const READ_ACT = `SELECT ${ACT_COLUMNS} FROM indicator_acts WHERE act_key = ?`;
const READ_PROFESSIONALS = 'SELECT rpps, profession, performer FROM indicator_act_professionals WHERE act_key = ? ORDER BY rpps';
const READ_INCIDENTS = 'SELECT type, at, effect FROM indicator_act_incidents WHERE act_key = ? ORDER BY n';
const READ_OFFER = 'SELECT version, tick FROM indicator_offers WHERE offer_id = ?';

/** The fact its rows hold (the structure's name is kept apart, in indicator_structures). */
function factOfRows(row: ActRow, professionals: readonly ProfessionalRow[], incidents: readonly IncidentFact[]): ActFact {
  return {
    key: row.act_key,
    finess: row.finess,
    structureName: null,
    department: row.department,
    region: row.region,
    type: row.type,
    status: row.status,
    start: row.start_at,
    end: row.end_at,
    withAssistant: Number(row.with_assistant) === 1,
    patient: row.patient,
    consentRefusedAt: row.consent_refused_at,
    report: row.report,
    professionals: professionals.map((p) => ({ rpps: p.rpps, profession: p.profession, performer: Number(p.performer) === 1 })),
    incidents: incidents.map((i) => ({ type: i.type, at: i.at, effect: i.effect })),
  };
}

/** The statements that replace `old` by `next`: its rows, and the aggregates' share of each (`deltas`, applied by the caller). */
function replaceFact(old: ActFact | undefined, next: ActFact, version: number, tick: number, deltas: AggregateDeltas): Statement[] {
  deltas.remove(old);
  deltas.add(next);
  return factStatements(next, version, tick);
}

interface ProfessionalRow {
  rpps: string;
  profession: Profession;
  performer: number | string;
}

/** What the projection holds for an act (its row and fact) or an offer (its row): nothing when undefined. */
interface Stored {
  readonly row: StoredRow | undefined;
  readonly fact: ActFact | undefined;
}

/** Statements stamped with the projection's tick, taken only when there is something to write. */
type Stamped = (tick: number) => Statement[];

/** What a delivered message writes, given what is stored; undefined when it changes nothing (an older or repeated message). */
function deliveredWrite(message: AppliedMessage, change: Change, stored: Stored): Stamped | undefined {
  if (stored.row !== undefined && Number(stored.row.version) >= message.seq) return undefined;
  if (change.table === 'indicator_offers') return change.write(stored.row);
  const next = change.next(stored.fact);
  if (next === undefined) return undefined;
  return (tick) => {
    const deltas = new AggregateDeltas();
    return [...replaceFact(stored.fact, next, message.seq, tick, deltas), ...deltas.statements()];
  };
}

/** What a delivered message changes: an act's fact, from the one stored; or an offer's row. */
type Change =
  | { readonly table: 'indicator_acts'; readonly key: string; readonly next: (stored: ActFact | undefined) => ActFact | undefined }
  | { readonly table: 'indicator_offers'; readonly key: string; readonly write: (row: StoredRow | undefined) => Stamped | undefined };

/** What a delivered message changes in the projection, keyed by its act (or offer); versioned by its seq (the caller). */
function changeOf(message: AppliedMessage): Change {
  const { seq } = message;
  if (message.kind === 'offer') {
    const { offer } = message.payload as { offer: Offer };
    return {
      table: 'indicator_offers',
      key: offer.identifiantOffre,
      write: () => {
        const fact = offerFactOfMessage(offer, message.receivedAt);
        return fact === undefined ? undefined : (tick) => offerStatements(fact, seq, tick);
      },
    };
  }
  if (message.kind === 'offer-withdraw') {
    const { offerId } = message.payload as { offerId: string };
    return {
      table: 'indicator_offers',
      key: offerId,
      write: (row) => (row === undefined ? undefined : (tick) => [{ text: 'UPDATE indicator_offers SET active = 0, version = ?, tick = ? WHERE offer_id = ?', params: [seq, tick, offerId] }]),
    };
  }
  if (message.kind === 'act') {
    // An act message carries the act with its Bundle (writes/acts.ts ActMessage); older ones, the bare act.
    const act = (message.payload as { act?: Act }).act ?? (message.payload as Act);
    return { table: 'indicator_acts', key: factKey(act.source, act.actId), next: (stored) => factOfAct(act, stored) };
  }
  // No stored fact: the act is not in the projection (delivered before it existed): the rebuild brings it.
  if (message.kind === 'act-report') {
    const { source, actId } = message.payload as { source: string; actId: string; report: ActReport };
    return { table: 'indicator_acts', key: factKey(source, actId), next: (stored) => (stored === undefined ? undefined : factAfterReport(stored)) };
  }
  const { source, actId, cancellation } = message.payload as { source: string; actId: string; cancellation: ActCancellation };
  return { table: 'indicator_acts', key: factKey(source, actId), next: (stored) => (stored === undefined ? undefined : factAfterCancel(stored, cancellation)) };
}

// The upgrade of a database of version 1 (schema.ts): the professions of each act from its participants,
// copied to its other rows, then the aggregates of the facts already there, a page of acts at a time.
const UPGRADE_TO_2 = [
  `UPDATE indicator_acts SET professions = COALESCE((SELECT SUM(DISTINCT CASE p.profession ${PROFESSIONS.map((x) => `WHEN '${x}' THEN ${professionBit(x)}`).join(' ')} ELSE 0 END)
     FROM indicator_act_professionals p WHERE p.act_key = indicator_acts.act_key), 0)`,
  'UPDATE indicator_act_professionals SET professions = (SELECT a.professions FROM indicator_acts a WHERE a.act_key = indicator_act_professionals.act_key)',
  'UPDATE indicator_act_incidents SET professions = (SELECT a.professions FROM indicator_acts a WHERE a.act_key = indicator_act_incidents.act_key)',
  ...['indicator_agg_structures', 'indicator_agg_departments', 'indicator_agg_spanning', 'indicator_agg_professionals', 'indicator_agg_professionals_by_act'].map((t) => `DELETE FROM ${t}`),
];
const UPGRADE_PAGE = 5000;
const UPGRADE_READ_ACTS = `SELECT ${ACT_COLUMNS} FROM indicator_acts WHERE act_key > ? ORDER BY act_key LIMIT ${UPGRADE_PAGE}`;
const UPGRADE_READ_PROFESSIONALS = 'SELECT act_key, rpps, profession, performer FROM indicator_act_professionals WHERE act_key > ? AND act_key <= ?';
const SET_VERSION = 'INSERT INTO indicator_schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version';

/** The aggregates' statements for a page of stored acts (incidents do not count there). */
function aggregatesOf(acts: readonly ActRow[], professionals: readonly (ProfessionalRow & { act_key: string })[]): Statement[] {
  const byAct = new Map<string, ProfessionalRow[]>();
  for (const p of professionals) byAct.set(p.act_key, [...(byAct.get(p.act_key) ?? []), p]);
  const deltas = new AggregateDeltas();
  for (const row of acts) deltas.add(factOfRows(row, byAct.get(row.act_key) ?? [], []));
  return deltas.statements();
}

export class Projection {
  readonly database: ProjectionDatabase;
  readonly #ready: Promise<void>;
  readonly #statements = new Map<string, StatementSync>();

  constructor(database: ProjectionDatabase) {
    this.database = database;
    if (database.kind === 'sqlite') {
      // Synchronous, as the hook is: nothing is delivered before the tables are up to date.
      const db = database.db;
      for (const text of [...TABLES, ...SQLITE_CLOCK]) db.exec(text);
      for (const { table, column } of ADDED_COLUMNS) {
        if (db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(table, column) === undefined) db.exec(addColumn(table, column));
      }
      for (const text of INDEXES) db.exec(text);
      const version = (db.prepare('SELECT version FROM indicator_schema WHERE id = 1').get() as { version: number } | undefined)?.version ?? 0;
      if (version < SCHEMA_VERSION) {
        sqliteTransaction(db, () => {
          for (const s of UPGRADE_TO_2) db.prepare(s).run();
          for (let after = ''; ; ) {
            const acts = db.prepare(UPGRADE_READ_ACTS).all(after) as unknown as ActRow[];
            const last = acts[acts.length - 1]?.act_key;
            if (last === undefined) break;
            const professionals = db.prepare(UPGRADE_READ_PROFESSIONALS).all(after, last) as unknown as (ProfessionalRow & { act_key: string })[];
            for (const s of aggregatesOf(acts, professionals)) db.prepare(s.text).run(...s.params);
            after = last;
          }
          db.prepare(SET_VERSION).run(SCHEMA_VERSION);
        });
      }
      this.#ready = Promise.resolve();
    } else {
      const pool = database.pool;
      this.#ready = (async () => {
        const client = await pool.connect();
        try {
          // Several instances may start at once.
          await client.query('SELECT pg_advisory_lock(7734202)');
          try {
            for (const text of [...TABLES, ...POSTGRES_CLOCK]) await client.query(text);
            for (const { table, column } of ADDED_COLUMNS) await client.query(addColumn(table, column).replace('ADD COLUMN', 'ADD COLUMN IF NOT EXISTS'));
            for (const text of INDEXES) await client.query(text);
            const version = Number((await client.query<{ version: number }>('SELECT version FROM indicator_schema WHERE id = 1')).rows[0]?.version ?? 0);
            if (version < SCHEMA_VERSION) {
              await postgresTransaction(client, async () => {
                for (const s of UPGRADE_TO_2) await client.query(s);
                for (let after = ''; ; ) {
                  const acts = (await client.query<ActRow>(pgText(UPGRADE_READ_ACTS), [after])).rows;
                  const last = acts[acts.length - 1]?.act_key;
                  if (last === undefined) break;
                  const professionals = (await client.query<ProfessionalRow & { act_key: string }>(pgText(UPGRADE_READ_PROFESSIONALS), [after, last])).rows;
                  for (const s of aggregatesOf(acts, professionals)) await client.query(pgText(s.text), [...s.params]);
                  after = last;
                }
                await client.query(pgText(SET_VERSION), [SCHEMA_VERSION]);
              });
            }
          } finally {
            await client.query('SELECT pg_advisory_unlock(7734202)');
          }
        } finally {
          client.release();
        }
      })();
    }
  }

  /** SQLite statements are compiled once (the hook runs for every delivered act). */
  #prepare(db: DatabaseSync, text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** SQLite: what is stored for a change's act (its row and fact) or offer (its row). */
  #storedSqlite(db: DatabaseSync, table: Change['table'], key: string): Stored {
    if (table === 'indicator_offers') return { row: this.#prepare(db, READ_OFFER).get(key) as StoredRow | undefined, fact: undefined };
    const row = this.#prepare(db, READ_ACT).get(key) as ActRow | undefined;
    if (row === undefined) return { row, fact: undefined };
    const professionals = this.#prepare(db, READ_PROFESSIONALS).all(key) as unknown as ProfessionalRow[];
    return { row, fact: factOfRows(row, professionals, this.#prepare(db, READ_INCIDENTS).all(key) as unknown as IncidentFact[]) };
  }

  /** PostgreSQL: the same, its main row locked until the transaction ends. */
  async #storedPostgres(client: pg.PoolClient, table: Change['table'], key: string): Promise<Stored> {
    if (table === 'indicator_offers') return { row: (await client.query<StoredRow>(pgText(`${READ_OFFER} FOR UPDATE`), [key])).rows[0], fact: undefined };
    const row = (await client.query<ActRow>(pgText(`${READ_ACT} FOR UPDATE`), [key])).rows[0];
    if (row === undefined) return { row, fact: undefined };
    const professionals = (await client.query<ProfessionalRow>(pgText(READ_PROFESSIONALS), [key])).rows;
    return { row, fact: factOfRows(row, professionals, (await client.query<IncidentFact>(pgText(READ_INCIDENTS), [key])).rows) };
  }

  /** The hook the outbox runs in its "delivered" transaction (DeliveredHook of the delivery room). */
  get hook() {
    return {
      kinds: PROJECTED_KINDS,
      sqlite: (db: DatabaseSync, message: AppliedMessage): void => {
        const change = changeOf(message);
        const stored = this.#storedSqlite(db, change.table, change.key);
        // Computed once; the clock ticks only when there is something to write.
        const write = deliveredWrite(message, change, stored);
        if (write === undefined) return;
        const { tick } = this.#prepare(db, 'UPDATE indicator_clock SET tick = tick + 1 RETURNING tick').get() as { tick: number };
        for (const s of write(tick)) this.#prepare(db, s.text).run(...s.params);
      },
      postgres: async (client: pg.PoolClient, message: AppliedMessage): Promise<void> => {
        await this.#ready;
        const change = changeOf(message);
        const stored = await this.#storedPostgres(client, change.table, change.key);
        const write = deliveredWrite(message, change, stored);
        if (write === undefined) return;
        const tick = Number((await client.query<{ tick: string }>("SELECT nextval('indicator_clock') AS tick")).rows[0]?.tick);
        for (const s of write(tick)) await client.query(pgText(s.text), [...s.params]);
      },
    };
  }

  /** The projection's clock now: read before the rebuild reads a page from the FHIR store. */
  async clock(): Promise<number> {
    await this.#ready;
    if (this.database.kind === 'sqlite') return (this.#prepare(this.database.db, 'SELECT tick FROM indicator_clock').get() as { tick: number }).tick;
    const result = await this.database.pool.query<{ tick: string; called: boolean }>('SELECT last_value AS tick, is_called AS called FROM indicator_clock');
    const row = result.rows[0];
    return row === undefined || !row.called ? 0 : Number(row.tick);
  }

  /**
   * Facts read from the FHIR store when the clock said `readAt`, in one transaction: each is written unless
   * a delivery changed its act (or offer) since (its row's stamp is later), with the aggregates' changes
   * summed over the batch. Answers how many were written.
   */
  async writeRebuilt(facts: { readonly acts?: readonly ActFact[]; readonly offers?: readonly OfferFact[] }, readAt: number): Promise<number> {
    await this.#ready;
    const items = [...(facts.acts ?? []).map((fact) => ({ table: 'indicator_acts' as const, key: fact.key, fact })), ...(facts.offers ?? []).map((fact) => ({ table: 'indicator_offers' as const, key: fact.id, fact }))];
    const deltas = new AggregateDeltas();
    const plan = (item: (typeof items)[number], stored: Stored): Statement[] | undefined => {
      if (stored.row !== undefined && Number(stored.row.tick) > readAt) return undefined;
      const version = Number(stored.row?.version ?? 0);
      const tick = Number(stored.row?.tick ?? 0);
      return item.table === 'indicator_acts' ? replaceFact(stored.fact, item.fact as ActFact, version, tick, deltas) : offerStatements(item.fact as OfferFact, version, tick);
    };
    let written = 0;
    if (this.database.kind === 'sqlite') {
      const db = this.database.db;
      sqliteTransaction(db, () => {
        for (const item of items) {
          const statements = plan(item, this.#storedSqlite(db, item.table, item.key));
          if (statements === undefined) continue;
          written += 1;
          for (const s of statements) this.#prepare(db, s.text).run(...s.params);
        }
        for (const s of deltas.statements()) this.#prepare(db, s.text).run(...s.params);
      });
      return written;
    }
    const client = await this.database.pool.connect();
    try {
      await postgresTransaction(client, async () => {
        for (const item of items) {
          const statements = plan(item, await this.#storedPostgres(client, item.table, item.key));
          if (statements === undefined) continue;
          written += 1;
          for (const s of statements) await client.query(pgText(s.text), [...s.params]);
        }
        for (const s of deltas.statements()) await client.query(pgText(s.text), [...s.params]);
      });
    } finally {
      client.release();
    }
    return written;
  }

  /** One statement with `?` placeholders, on either database (the rebuild's own bookkeeping). */
  async run(text: string, params: readonly (string | number | null)[]): Promise<void> {
    await this.#ready;
    if (this.database.kind === 'sqlite') this.#prepare(this.database.db, text).run(...params);
    else await this.database.pool.query(pgText(text), [...params]);
  }

  /** The longest span of an act, in ms: an act that meets a period ends before the period's end plus this. */
  async maxSpanMs(): Promise<number> {
    const rows = await this.all<{ max_ms: number | string }>('SELECT max_ms FROM indicator_span WHERE id = 1', []);
    return Number(rows[0]?.max_ms ?? 0);
  }

  /** Rows of a read-only query with `?` placeholders, on either database. */
  async all<T>(text: string, params: readonly (string | number | null)[]): Promise<T[]> {
    await this.#ready;
    if (this.database.kind === 'sqlite') return this.#prepare(this.database.db, text).all(...params) as T[];
    return (await this.database.pool.query(pgText(text), [...params])).rows as T[];
  }
}
