// The shared outbox on a real PostgreSQL: the Outbox contract, and two service instances delivering
// from one table: every message once, in order per key, and a dead instance's claims taken over.
import pg from 'pg';
import t from 'tap';
import type { Test } from 'tap';
import { DeliveryService, PostgresOutbox } from '../../src/delivery/index.ts';
import type { Answer, Delivery, DeliveryOptions, Failure } from '../../src/delivery/index.ts';
import { groupCommitContract } from '../contract/group-commit-contract.ts';
import { outboxContract } from '../contract/outbox-contract.ts';

const SERVER = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = 'telesante_outbox_test';
const url = `${SERVER}/${DATABASE}`;

async function ensureDatabase(name = DATABASE): Promise<void> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`).catch(() => undefined); // another file may win the race
  } finally {
    await client.end();
  }
}

await ensureDatabase();
// Group commit counts what its own batch handler sees: a database of its own, so that the instances of the
// other tests (and of other runs of this file on the same server) never deliver its messages.
const GROUP_DATABASE = `${DATABASE}_group`;
await ensureDatabase(GROUP_DATABASE);

outboxContract(t, async () => new PostgresOutbox({ connectionString: url }));
t.test('group commit', async (t) => groupCommitContract(t, async () => new PostgresOutbox({ connectionString: `${SERVER}/${GROUP_DATABASE}` })));

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const FAST: DeliveryOptions = { concurrency: 4, maxAttempts: 0, backoffMs: 5, maxBackoffMs: 20, breakerThreshold: 100, breakerCooldownMs: 100 };
const failureOf = (error: unknown): Failure => ({
  status: 503,
  message: String(error),
  outcome: { resourceType: 'OperationOutcome', issue: [] },
  transient: true,
  serverDown: false,
});

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A service instance on the shared outbox, handling kind `test`, stopped when the test ends. */
function instance(t: Test, owner: string, handler: (delivery: Delivery) => Promise<Answer>, options: { leaseMs?: number; delivery?: Partial<DeliveryOptions> } = {}): DeliveryService {
  const outbox = new PostgresOutbox({ connectionString: url, owner, ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }) });
  const service = new DeliveryService(outbox, { ...FAST, ...options.delivery }, failureOf, quiet);
  service.handle('test', handler);
  t.teardown(async () => {
    await service.stop(0);
    await service.outbox.close();
  });
  return service;
}

t.test('two instances share one outbox: each message once, in order per key', async (t) => {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const seen: { instance: string; key: string; n: number }[] = [];
  const handler = (instance: string) => async (delivery: Delivery) => {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    seen.push({ instance, key: delivery.key, n: (delivery.payload as { n: number }).n });
    return { status: 201, body: {} };
  };
  const a = instance(t, `a-${run}`, handler('a'));
  const b = instance(t, `b-${run}`, handler('b'));
  a.start();
  b.start();
  const KEYS = 10;
  const PER_KEY = 20;
  const submitted: Promise<unknown>[] = [];
  for (let n = 1; n <= PER_KEY; n++) {
    for (let k = 0; k < KEYS; k++) {
      const service = (n + k) % 2 === 0 ? a : b;
      submitted.push(service.submit({ kind: 'test', key: `${run}|k${k}`, payload: { n }, receivedAt: new Date().toISOString() }));
    }
    await Promise.all(submitted.splice(0)); // acceptance order per key is n
  }
  await until(async () => seen.filter((s) => s.key.startsWith(run)).length >= KEYS * PER_KEY, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives late
  const mine = seen.filter((s) => s.key.startsWith(run));
  const counts = new Map<string, string[]>();
  for (const s of mine) counts.set(`${s.key}:${s.n}`, [...(counts.get(`${s.key}:${s.n}`) ?? []), s.instance]);
  const doubled = [...counts].filter(([, who]) => who.length > 1);
  t.same(doubled, [], 'no message delivered twice');
  t.equal(mine.length, KEYS * PER_KEY, 'every message delivered exactly once');
  for (let k = 0; k < KEYS; k++) {
    const order = mine.filter((s) => s.key === `${run}|k${k}`).map((s) => s.n);
    t.same(order, Array.from({ length: PER_KEY }, (_, i) => i + 1), `key k${k} in acceptance order`);
  }
  t.ok(new Set(mine.map((s) => s.instance)).size === 2, 'both instances delivered');
});

t.test("a claim whose instance died is taken over when its lease runs out", async (t) => {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const dead = new PostgresOutbox({ connectionString: url, owner: `dead-${run}`, leaseMs: 400 });
  const accepted = await dead.enqueue({ kind: 'test', key: `${run}|x`, payload: { n: 1 }, receivedAt: new Date().toISOString() });
  const claimed = await dead.due(Date.now(), 1000);
  t.ok(claimed.some((d) => d.id === accepted.delivery.id), 'claimed by the instance that then dies');
  await dead.close();
  const delivered: string[] = [];
  const alive = new DeliveryService(new PostgresOutbox({ connectionString: url, owner: `alive-${run}` }), FAST, failureOf, quiet);
  alive.handle('test', async (delivery) => {
    delivered.push(delivery.id);
    return { status: 201, body: {} };
  });
  t.teardown(async () => {
    await alive.stop(0);
    await alive.outbox.close();
  });
  alive.start();
  const started = Date.now();
  await until(async () => delivered.includes(accepted.delivery.id), 10_000);
  t.ok(Date.now() - started >= 200, 'not before the lease ran out');
  await until(async () => (await alive.outbox.get(accepted.delivery.id))?.status === 'delivered', 10_000);
  t.equal(delivered.filter((id) => id === accepted.delivery.id).length, 1, 'delivered once');
});

t.test('a delivery that outlasts its lease keeps its claim: no other instance delivers it meanwhile', async (t) => {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const runs: string[] = [];
  const slow = (instance: string) => async (delivery: Delivery) => {
    if (delivery.key.startsWith(run)) runs.push(instance);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // several leases of 300 ms
    return { status: 201, body: {} };
  };
  // a has one slot, taken by this delivery: its worker does not poll (nor re-claim) until it is done.
  const a = instance(t, `a-${run}`, slow('a'), { leaseMs: 300, delivery: { concurrency: 1 } });
  const b = instance(t, `b-${run}`, slow('b'), { leaseMs: 300 });
  a.start();
  const { delivery } = await a.submit({ kind: 'test', key: `${run}|long`, payload: { n: 1 }, receivedAt: new Date().toISOString() });
  await until(async () => runs.length > 0, 10_000);
  b.start(); // b polls the shared outbox every second while a is still at work
  await until(async () => (await a.outbox.get(delivery.id))?.status === 'delivered', 20_000);
  t.same(runs, ['a'], 'delivered once, by the instance that claimed it');
});

t.test('instances on one outbox share the batch flights, and take them back when one leaves', async (t) => {
  // A database of its own: the instances counted are those of this test only.
  const database = `${DATABASE}_instances`;
  await ensureDatabase(database);
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const flying = new Map<string, number>();
  const most = new Map<string, number>();
  let delivered = 0;
  const make = (name: string): DeliveryService => {
    const service = new DeliveryService(new PostgresOutbox({ connectionString: `${SERVER}/${database}`, owner: `${name}-${run}` }), { ...FAST, concurrency: 8, batchSize: 2, batchFlights: 2 }, failureOf, quiet);
    service.handleBatch('batch', async (deliveries) => {
      const now = (flying.get(name) ?? 0) + 1;
      flying.set(name, now);
      most.set(name, Math.max(most.get(name) ?? 0, now));
      await new Promise((resolve) => setTimeout(resolve, 40));
      flying.set(name, (flying.get(name) ?? 1) - 1);
      delivered += deliveries.length;
      return deliveries.map(() => ({ answer: { status: 201, body: {} } }));
    });
    return service;
  };
  const submitAll = async (services: readonly DeliveryService[], count: number, tag: string): Promise<void> => {
    const target = delivered + count;
    await Promise.all(Array.from({ length: count }, (_, i) => (services[i % services.length] as DeliveryService).submit({ kind: 'batch', key: `${run}|${tag}${i}`, payload: {}, receivedAt: new Date().toISOString() })));
    await until(async () => delivered >= target, 30_000);
  };
  const a = make('a');
  const b = make('b');
  t.teardown(async () => {
    for (const service of [a, b]) {
      await service.stop(0);
      await service.outbox.close();
    }
  });
  a.start();
  b.start();
  await until(async () => a.instances === 2 && b.instances === 2, 10_000);
  await submitAll([a, b], 40, 'two-');
  t.equal(most.get('a'), 1, 'two instances: one batch in flight each (2 flights between them)');
  t.equal(most.get('b'), 1);

  await b.stop(0);
  await b.outbox.close();
  await until(async () => a.instances === 1, 10_000);
  most.clear();
  await submitAll([a], 40, 'one-');
  t.equal(most.get('a'), 2, 'alone again: both flights');
});

t.test('while its batch flights are busy, the worker claims none of that kind to give them back one by one', async (t) => {
  const database = `${DATABASE}_busy`;
  await ensureDatabase(database);
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  class CountingOutbox extends PostgresOutbox {
    released = 0;
    override async release(id: string): Promise<void> {
      this.released += 1;
      await super.release(id);
    }
  }
  const outbox = new CountingOutbox({ connectionString: `${SERVER}/${database}`, owner: `busy-${run}` });
  const service = new DeliveryService(outbox, { ...FAST, concurrency: 8, batchSize: 4, batchFlights: 1 }, failureOf, quiet);
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let batches = 0;
  service.handleBatch('batch', async (deliveries) => {
    batches += 1;
    if (batches === 1) await gate;
    return deliveries.map(() => ({ answer: { status: 201, body: {} } }));
  });
  t.teardown(async () => {
    open();
    await service.stop(0);
    await outbox.close();
  });
  service.start();
  const submit = (n: number) => service.submit({ kind: 'batch', key: `${run}|k${n}`, payload: {}, receivedAt: new Date().toISOString() });
  const first = await submit(0);
  await until(async () => batches === 1, 10_000);
  // Each accepted message wakes the worker while its one flight is busy.
  const rest = [];
  for (let n = 1; n <= 6; n++) rest.push(await submit(n));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(outbox.released, 0, 'nothing claimed and given back while the flight is busy');
  open();
  for (const { delivery } of [first, ...rest]) t.equal((await service.settle(delivery.id, 30_000))?.status, 'delivered');
});

t.test('the service runs on the shared outbox when DELIVERY_DATABASE_URL names it', async (t) => {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, PORT: '0', FHIR_BASE_URL: '', DELIVERY_DATABASE_URL: url, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let output = '';
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 60_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
  });
  const offer = JSON.parse(readFileSync('examples/offers/gp-teleconsultation.json', 'utf8')) as { identifiantOffre: string };
  const response = await fetch(`${address}/v1/offers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...offer, identifiantOffre: `${offer.identifiantOffre}-${Date.now().toString(36)}` }),
  });
  t.equal(response.status, 201, await response.clone().text());
  const deliveryId = response.headers.get('x-delivery-id') ?? '';
  const check = new pg.Client({ connectionString: url });
  await check.connect();
  const row = await check.query('SELECT status FROM telesante_deliveries WHERE id = $1', [deliveryId]);
  await check.end();
  t.equal(row.rows[0]?.status, 'delivered', 'the write went through the PostgreSQL outbox');
});
