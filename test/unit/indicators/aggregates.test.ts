// The pre-aggregated tables (src/indicators/aggregates.ts) against the facts they summarise: after random
// sequences of acts, amendments, reports, cancellations, redeliveries and rebuilt facts, every aggregate
// row equals a from-scratch GROUP BY over the fact rows (SQLite here; PostgreSQL in
// test/integration/indicators-postgres.test.ts).
import t from 'tap';
import { SqliteOutbox } from '../../../src/delivery/index.ts';
import { Projection } from '../../../src/indicators/index.ts';
import { aggregatesAndFacts, checkRandomHistories, randomHistory } from '../../support/aggregates-history.ts';

t.test('random histories: aggregates = GROUP BY over the facts (SQLite)', async (t) => {
  await checkRandomHistories(
    t,
    async () => {
      const outbox = new SqliteOutbox(':memory:');
      t.teardown(() => outbox.close());
      return new Projection(outbox.database);
    },
    [1, 2, 3, 4, 5, 6],
    150,
  );
});

t.test('a database of version 1 (no professions, no aggregates) is upgraded from its facts when the projection opens it', async (t) => {
  const outbox = new SqliteOutbox(':memory:');
  t.teardown(() => outbox.close());
  const first = new Projection(outbox.database);
  await randomHistory(first, 7, 120);
  const before = await aggregatesAndFacts(first);
  const professions = await first.all<{ act_key: string; professions: number }>('SELECT act_key, professions FROM indicator_acts ORDER BY act_key', []);
  t.ok(professions.some((r) => r.professions > 0));
  // Back to version 1: what the tables held before.
  if (outbox.database.kind !== 'sqlite') throw new Error('SQLite expected');
  const db = outbox.database.db;
  for (const index of db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%professions%'").all() as { name: string }[]) db.exec(`DROP INDEX ${index.name}`);
  for (const table of ['indicator_acts', 'indicator_act_professionals', 'indicator_act_incidents']) db.exec(`ALTER TABLE ${table} DROP COLUMN professions`);
  for (const table of ['indicator_agg_structures', 'indicator_agg_departments', 'indicator_agg_spanning', 'indicator_agg_professionals', 'indicator_agg_professionals_by_act', 'indicator_schema']) db.exec(`DROP TABLE ${table}`);

  const upgraded = new Projection(outbox.database);
  t.same(await upgraded.all('SELECT act_key, professions FROM indicator_acts ORDER BY act_key', []), professions, 'the professions of each act, from its participants');
  const after = await aggregatesAndFacts(upgraded);
  t.same(after.stored, after.fromFacts, 'aggregates = GROUP BY over the facts');
  t.same(after.stored, before.stored, 'the same aggregates the deliveries had kept');
});
