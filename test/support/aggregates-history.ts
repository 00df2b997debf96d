// Random histories of delivered messages (acts, amendments, reports, cancellations, redeliveries, rebuilt
// facts) applied to a projection, and the check that its pre-aggregated tables equal a from-scratch
// GROUP BY over its fact rows. Used on SQLite (unit) and PostgreSQL (integration).
import type { Test } from 'tap';
import { factOfAct } from '../../src/indicators/index.ts';
import type { Projection } from '../../src/indicators/index.ts';
import type { Act } from '../../src/model/act.ts';
import { generateActs } from '../../src/synthetic/index.ts';
import { postgresTransaction, sqliteTransaction } from '../../src/transactions.ts';
import { pick, prng } from '../../src/synthetic/random.ts';
import type { Random } from '../../src/synthetic/random.ts';

interface Message {
  readonly seq: number;
  readonly kind: string;
  readonly payload: unknown;
  readonly receivedAt: string;
}

/** The message as the outbox's "delivered" transaction applies it. */
export async function deliver(projection: Projection, message: Message): Promise<void> {
  const { database } = projection;
  if (database.kind === 'sqlite') {
    sqliteTransaction(database.db, () => projection.hook.sqlite(database.db, message));
    return;
  }
  const client = await database.pool.connect();
  try {
    await postgresTransaction(client, () => projection.hook.postgres(client, message));
  } finally {
    client.release();
  }
}

/** Some acts end weeks after they start, so that they meet several months (and years: December's). */
function variant(random: Random, act: Act, identity: Act): Act {
  const out: Act = { ...act, source: identity.source, actId: identity.actId };
  if (act.end === undefined || random() > 0.3) return out;
  return { ...out, end: new Date(Date.parse(act.start) + Math.floor(random() * 70) * 86_400_000 + 3_600_000).toISOString() };
}

/** Applies `steps` random messages to the projection; answers the seqs used. */
export async function randomHistory(projection: Projection, seed: number, steps: number, onStep?: (step: number) => Promise<void>): Promise<void> {
  const random = prng(seed);
  // Acts over two years, so that December's long acts reach the next one.
  const acts = [...generateActs({ count: 40, seed, year: 2024, idPrefix: `H${seed}a` }), ...generateActs({ count: 40, seed: seed + 1, year: 2025, idPrefix: `H${seed}b` })];
  const identities = acts.slice(0, 25);
  const sent: Message[] = [];
  let seq = 0;
  for (let step = 0; step < steps; step += 1) {
    const identity = pick(random, identities);
    const roll = random();
    const receivedAt = '2026-01-01T00:00:00Z';
    if (roll < 0.45) {
      const message = { seq: ++seq, kind: 'act', payload: { act: variant(random, pick(random, acts), identity) }, receivedAt };
      sent.push(message);
      await deliver(projection, message);
    } else if (roll < 0.55) {
      const message = { seq: ++seq, kind: 'act-report', payload: { source: identity.source, actId: identity.actId, report: { authorRpps: '10000000001', text: 'CR' } }, receivedAt };
      sent.push(message);
      await deliver(projection, message);
    } else if (roll < 0.65) {
      const status = random() < 0.5 ? 'cancelled' : 'entered-in-error';
      const message = { seq: ++seq, kind: 'act-cancel', payload: { source: identity.source, actId: identity.actId, cancellation: { reason: 'test', status } }, receivedAt };
      sent.push(message);
      await deliver(projection, message);
    } else if (roll < 0.8 && sent.length > 0) {
      // Delivered again (a lease taken over): an older message, or the last one twice.
      await deliver(projection, random() < 0.5 ? pick(random, sent) : (sent[sent.length - 1] as Message));
    } else {
      // A rebuild's page: read now (written), or read before the deliveries that followed (skipped where they did).
      const readAt = random() < 0.7 ? await projection.clock() : Math.floor(random() * ((await projection.clock()) + 1));
      await projection.writeRebuilt({ acts: [factOfAct(variant(random, pick(random, acts), identity))] }, readAt);
    }
    await onStep?.(step);
  }
}

function months(first: string, last: string): string[] {
  const out: string[] = [];
  for (let [year, month] = [Number(first.slice(0, 4)), Number(first.slice(5, 7))]; `${year}-${String(month).padStart(2, '0')}` <= last; month === 12 ? ((month = 1), (year += 1)) : (month += 1)) {
    out.push(`${year}-${String(month).padStart(2, '0')}`);
  }
  return out;
}

type Row = Record<string, string | number>;
const TABLES = ['indicator_agg_structures', 'indicator_agg_departments', 'indicator_agg_spanning', 'indicator_agg_professionals', 'indicator_agg_professionals_by_act'] as const;
const monthly = (prefixes: readonly string[]) => Object.fromEntries(prefixes.flatMap((p) => Array.from({ length: 12 }, (_, i) => [`${p}${i + 1}`, 0])));

/** Adds `values` to the row of `key` in `table` (created with `base` and zeros), as a GROUP BY would sum them. */
function sum(out: Map<string, Row>, table: string, base: Row, values: Row): void {
  const id = `${table}|${JSON.stringify(base)}`;
  const row = out.get(id) ?? { ...base, ...Object.fromEntries(Object.keys(values).map((k) => [k, 0])) };
  for (const [k, v] of Object.entries(values)) row[k] = k === 'bits' ? Number(row[k]) | Number(v) : Number(row[k]) + Number(v);
  out.set(id, row);
}

const line = (table: string, r: Record<string, unknown>) =>
  `${table}: ${Object.keys(r)
    .sort()
    .map((k) => `${k}=${String(typeof r[k] === 'string' && /^-?\d+$/.test(r[k]) ? Number(r[k]) : r[k])}`)
    .join(' ')}`;

/** The aggregate tables as stored, and as a GROUP BY over the fact rows gives them, each row as a line of text. */
export async function aggregatesAndFacts(projection: Projection): Promise<{ stored: string[]; fromFacts: string[] }> {
  const stored: string[] = [];
  for (const table of TABLES) for (const r of await projection.all<Record<string, unknown>>(`SELECT * FROM ${table}`, [])) stored.push(line(table, r));
  const acts = await projection.all<{ act_key: string; sm: string; em: string; finess: string; department: string; region: string; type: string; professions: number; wa: number; report: string; telemedicine: number }>(
    `SELECT act_key, start_month AS sm, end_month AS em, COALESCE(finess, '') AS finess, COALESCE(department, '') AS department, COALESCE(region, '') AS region, type, professions,
            with_assistant AS wa, report, telemedicine FROM indicator_acts WHERE status = 'finished' AND end_at IS NOT NULL`,
    [],
  );
  const participants = await projection.all<{ act_key: string; rpps: string; profession: string; performer: number }>('SELECT act_key, rpps, profession, performer FROM indicator_act_professionals', []);
  const out = new Map<string, Row>();
  for (const a of acts) {
    const professions = Number(a.professions);
    const counts = (suffix: string | number) => ({ [`n${suffix}`]: 1, [`wa${suffix}`]: Number(a.wa), [`nr${suffix}`]: a.report === 'none' ? 1 : 0 });
    if (a.sm === a.em) {
      const m = Number(a.sm.slice(5, 7));
      const year = a.sm.slice(0, 4);
      sum(out, 'indicator_agg_structures', { year, finess: a.finess, department: a.department, region: a.region, type: a.type, professions }, { ...monthly(['n', 'wa', 'nr']), ...counts(m) });
      sum(out, 'indicator_agg_departments', { year, department: a.department, region: a.region, type: a.type, professions }, { ...monthly(['n', 'wa', 'nr']), ...counts(m) });
    } else {
      sum(out, 'indicator_agg_spanning', { sm: a.sm, em: a.em, finess: a.finess, department: a.department, region: a.region, type: a.type, professions }, { n: 1, wa: Number(a.wa), nr: a.report === 'none' ? 1 : 0 });
    }
    if (Number(a.telemedicine) !== 1) continue;
    const mine = participants.filter((p) => p.act_key === a.act_key);
    const actProfessions = [...new Set(mine.map((p) => p.profession))];
    for (const p of mine.filter((p) => Number(p.performer) === 1)) {
      for (const month of months(a.sm, a.em)) {
        const m = Number(month.slice(5, 7));
        const values = { ...monthly(['m']), [`m${m}`]: 1, bits: 1 << (m - 1) };
        const base = { year: month.slice(0, 4), rpps: p.rpps, profession: p.profession, finess: a.finess, department: a.department, region: a.region };
        sum(out, 'indicator_agg_professionals', base, values);
        for (const actProfession of actProfessions) sum(out, 'indicator_agg_professionals_by_act', { ...base, type: a.type, act_profession: actProfession }, values);
      }
    }
  }
  return { stored: [...stored].sort(), fromFacts: [...out.entries()].map(([id, r]) => line(id.slice(0, id.indexOf('|')), r)).sort() };
}

/** Random histories on fresh projections (`make`), checked every few steps and at the end. */
export async function checkRandomHistories(t: Test, make: () => Promise<Projection>, seeds: readonly number[], steps: number): Promise<void> {
  for (const seed of seeds) {
    const projection = await make();
    let checks = 0;
    let failed = false;
    await randomHistory(projection, seed, steps, async (step) => {
      if (failed || (step % 10 !== 9 && step !== steps - 1)) return;
      const { stored, fromFacts } = await aggregatesAndFacts(projection);
      checks += 1;
      if (JSON.stringify(stored) !== JSON.stringify(fromFacts)) {
        failed = true;
        t.same(stored, fromFacts, `seed ${seed}, after step ${step + 1}: aggregates = GROUP BY over the facts`);
      }
    });
    const { stored } = await aggregatesAndFacts(projection);
    t.ok(stored.some((l) => l.startsWith('indicator_agg_spanning')) && stored.some((l) => l.startsWith('indicator_agg_professionals_by_act')), `seed ${seed}: the history left acts over several months and performers to aggregate`);
    if (!failed) t.pass(`seed ${seed}: ${checks} checks over ${steps} messages, aggregates = GROUP BY over the facts`);
  }
}
