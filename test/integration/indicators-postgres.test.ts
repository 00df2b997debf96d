// The indicators projection on the PostgreSQL outbox (the shared one several instances deliver from):
// the aggregates against the facts over random message histories, the rebuild (and its resume), and the
// projection kept by deliveries through the service, on databases of its own, created and dropped here.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { PostgresOutbox } from '../../src/delivery/index.ts';
import { Projection } from '../../src/indicators/index.ts';
import { checkRandomHistories } from '../support/aggregates-history.ts';
import { deliveredSuite, rebuildSuite } from '../support/indicators-suites.ts';

const SERVER = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432';
const PREFIX = `indicators_test_${randomBytes(4).toString('hex')}`;
const created = new Set<string>();

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The outbox of that name: a database of its own, created the first time. */
async function outboxNamed(name: string): Promise<PostgresOutbox> {
  const database = `${PREFIX}_${name.replace(/[^a-z0-9]/g, '_')}`;
  if (!created.has(database)) {
    await admin(`CREATE DATABASE ${database}`);
    created.add(database);
  }
  return new PostgresOutbox({ connectionString: `${SERVER}/${database}` });
}

t.test('random histories: aggregates = GROUP BY over the facts (PostgreSQL)', async (t) => {
  let n = 0;
  await checkRandomHistories(
    t,
    async () => {
      const outbox = await outboxNamed(`history_${++n}`);
      t.teardown(() => outbox.close());
      const projection = new Projection(outbox.database);
      await projection.ready();
      return projection;
    },
    [11, 12],
    100,
  );
});

t.test('the rebuild, and its resume', async (t) => rebuildSuite(t, outboxNamed));
t.test('the projection kept by deliveries', async (t) => deliveredSuite(t, outboxNamed));

t.teardown(async () => {
  for (const database of created) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});
