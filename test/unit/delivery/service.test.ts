// The worker on its own, over a real SQLite outbox file, with handlers that fail as a FHIR server does.
import t from 'tap';
import { DeliveryService, SqliteOutbox } from '../../../src/delivery/index.ts';
import type { Answer, Delivery, DeliveryOptions, Failure } from '../../../src/delivery/index.ts';
import { tempOutboxPath } from '../../support/app.ts';

class Down extends Error {}
class Conflict extends Error {}
class Refused extends Error {}

function failureOf(error: unknown): Failure {
  const outcome = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'processing' as const, diagnostics: String(error) }] };
  if (error instanceof Down) return { status: 503, message: 'down', outcome, transient: true, serverDown: true };
  if (error instanceof Conflict) return { status: 409, message: 'conflict', outcome, transient: true, serverDown: false };
  return { status: 422, message: 'refused', outcome, transient: false, serverDown: false };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const FAST: DeliveryOptions = { concurrency: 4, maxAttempts: 0, backoffMs: 5, maxBackoffMs: 20, breakerThreshold: 3, breakerCooldownMs: 200 };

function service(path: string, options: Partial<DeliveryOptions> = {}): DeliveryService {
  return new DeliveryService(new SqliteOutbox(path), { ...FAST, ...options }, failureOf, quiet);
}

// A deadline, not a timing assertion: generous, since CI runs other test files on the same two cores.
async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const message = (key: string, n: number) => ({ kind: 'test', key, payload: { n }, receivedAt: new Date().toISOString() });

t.test('transient failures are retried until delivered; the attempts are counted', async (t) => {
  const deliveries = service(tempOutboxPath());
  t.teardown(async () => {
    await deliveries.stop(0);
    await deliveries.outbox.close();
  });
  let calls = 0;
  deliveries.handle('test', async (): Promise<Answer> => {
    calls += 1;
    if (calls <= 2) throw new Conflict('409');
    return { status: 201, body: { ok: true } };
  });
  deliveries.start();
  const { delivery } = await deliveries.submit(message('a', 1));
  const settled = await deliveries.settle(delivery.id, 5_000);
  t.equal(settled?.status, 'delivered');
  t.equal(settled?.attempts, 3);
  t.same(settled?.answer, { status: 201, body: { ok: true } });
  t.equal(settled?.payload, undefined, 'the message itself is erased once delivered');
});

t.test('a permanent failure goes to the dead letters without holding back other keys; replayed, it is delivered', async (t) => {
  const deliveries = service(tempOutboxPath());
  t.teardown(async () => {
    await deliveries.stop(0);
    await deliveries.outbox.close();
  });
  let fixed = false;
  deliveries.handle('test', async (delivery: Delivery): Promise<Answer> => {
    if (delivery.key === 'bad' && !fixed) throw new Refused('400');
    return { status: 201, body: delivery.payload };
  });
  deliveries.start();
  const bad = (await deliveries.submit(message('bad', 0))).delivery;
  const others = await Promise.all([1, 2, 3].map(async (n) => (await deliveries.submit(message(`good-${n}`, n))).delivery));
  t.equal((await deliveries.settle(bad.id, 5_000))?.status, 'dead');
  for (const other of others) t.equal((await deliveries.settle(other.id, 5_000))?.status, 'delivered');
  const dead = await deliveries.list('dead', 10);
  t.same(dead.deliveries.map((d) => d.id), [bad.id]);
  t.equal(dead.deliveries[0]?.lastError?.status, 422);
  t.equal(await deliveries.replay(others[0]?.id ?? ''), 'not-dead');
  fixed = true;
  t.equal(await deliveries.replay(bad.id), 'replayed');
  t.equal((await deliveries.settle(bad.id, 5_000))?.status, 'delivered');
});

t.test('a dead letter whose key was delivered again since cannot be replayed over the newer version', async (t) => {
  const deliveries = service(tempOutboxPath());
  t.teardown(async () => {
    await deliveries.stop(0);
    await deliveries.outbox.close();
  });
  deliveries.handle('test', async (delivery: Delivery): Promise<Answer> => {
    if ((delivery.payload as { n: number }).n === 1) throw new Refused('400');
    return { status: 201, body: {} };
  });
  deliveries.start();
  const v1 = (await deliveries.submit(message('k', 1))).delivery;
  const v2 = (await deliveries.submit(message('k', 2))).delivery;
  t.equal((await deliveries.settle(v2.id, 5_000))?.status, 'delivered');
  t.equal((await deliveries.get(v1.id))?.status, 'dead');
  t.equal(await deliveries.replay(v1.id), 'superseded');
});

t.test('messages of one key are delivered one at a time, in acceptance order; other keys in parallel', async (t) => {
  const deliveries = service(tempOutboxPath(), { concurrency: 8 });
  t.teardown(async () => {
    await deliveries.stop(0);
    await deliveries.outbox.close();
  });
  const order = new Map<string, number[]>();
  const running = new Set<string>();
  let overlap = false;
  let parallel = 0;
  let maxParallel = 0;
  let calls = 0;
  deliveries.handle('test', async (delivery: Delivery): Promise<Answer> => {
    if (running.has(delivery.key)) overlap = true;
    running.add(delivery.key);
    parallel += 1;
    maxParallel = Math.max(maxParallel, parallel);
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 5));
    running.delete(delivery.key);
    parallel -= 1;
    // Every third call fails once: a retry must not let a later version of the key overtake it.
    if (calls % 3 === 0) throw new Conflict('409');
    const list = order.get(delivery.key) ?? [];
    list.push((delivery.payload as { n: number }).n);
    order.set(delivery.key, list);
    return { status: 201, body: {} };
  });
  const ids: string[] = [];
  for (let n = 0; n < 10; n++) for (const key of ['x', 'y', 'z', 'w']) ids.push((await deliveries.submit(message(key, n))).delivery.id);
  deliveries.start();
  await until(async () => (await deliveries.list('pending', 1)).total === 0);
  t.notOk(overlap, 'never two deliveries of one key at once');
  t.ok(maxParallel > 1, `keys delivered in parallel (${maxParallel} at most)`);
  for (const key of ['x', 'y', 'z', 'w']) t.same(order.get(key), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `${key}: in order`);
});

t.test('the circuit breaker stops the calls while the server is down, then one probe reopens the flow', async (t) => {
  const deliveries = service(tempOutboxPath(), { breakerThreshold: 3, breakerCooldownMs: 300, backoffMs: 1, maxBackoffMs: 1 });
  t.teardown(async () => {
    await deliveries.stop(0);
    await deliveries.outbox.close();
  });
  let up = false;
  let calls = 0;
  deliveries.handle('test', async (): Promise<Answer> => {
    calls += 1;
    if (!up) throw new Down('ECONNREFUSED');
    return { status: 201, body: {} };
  });
  deliveries.start();
  for (let n = 0; n < 20; n++) await deliveries.submit(message(`k${n}`, n));
  await until(async () => deliveries.breakerState === 'open');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const callsWhenOpen = calls;
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(calls, callsWhenOpen, 'no call while the breaker is open');
  t.ok(callsWhenOpen < 20, `the server was spared: ${callsWhenOpen} calls before the breaker opened`);
  up = true;
  await until(async () => (await deliveries.list('pending', 1)).total === 0);
  t.equal(deliveries.breakerState, 'closed');
  t.equal((await deliveries.list('delivered', 100)).total, 20);
});

t.test('pending messages survive the process: a new worker on the same file delivers them', async (t) => {
  const path = tempOutboxPath();
  const first = service(path);
  first.handle('test', async () => {
    throw new Down('down');
  });
  const ids = await Promise.all([1, 2, 3].map(async (n) => (await first.submit(message(`k${n}`, n))).delivery.id));
  await first.stop(0);
  await first.outbox.close();

  const second = service(path);
  t.teardown(async () => {
    await second.stop(0);
    await second.outbox.close();
  });
  const seen: number[] = [];
  second.handle('test', async (delivery: Delivery) => {
    seen.push((delivery.payload as { n: number }).n);
    return { status: 201, body: {} };
  });
  second.start();
  for (const id of ids) t.equal((await second.settle(id, 5_000))?.status, 'delivered');
  t.same(seen.sort(), [1, 2, 3], 'each delivered once');
});
