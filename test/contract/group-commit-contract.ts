// Group commit, run unchanged over the SQLite outbox (test/unit) and the PostgreSQL one (test/integration):
// due messages of different keys are delivered in one batch, up to the batch size; a refused batch is
// split until the message at fault stands alone; each key's order is kept; a lone message is not held
// back waiting for company.
import type { Test } from 'tap';
import { DeliveryService } from '../../src/delivery/index.ts';
import type { BatchOutcome, Delivery, DeliveryOptions, Failure, Outbox } from '../../src/delivery/index.ts';

class Down extends Error {}
class Refused extends Error {}

function failureOf(error: unknown): Failure {
  const outcome = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'processing' as const, diagnostics: String(error) }] };
  if (error instanceof Down) return { status: 503, message: 'down', outcome, transient: true, serverDown: false };
  return { status: 422, message: 'refused', outcome, transient: false, serverDown: false };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const FAST: DeliveryOptions = { concurrency: 2, maxAttempts: 0, backoffMs: 5, maxBackoffMs: 20, breakerThreshold: 1000, breakerCooldownMs: 100, batchSize: 16 };

// A deadline, not a timing assertion: generous, since CI runs other test files on the same two cores.
async function until(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Payload {
  readonly n: number;
  readonly bad?: boolean;
}

export function groupCommitContract(t: Test, makeOutbox: () => Promise<Outbox>): void {
  /** A worker whose batch handler records each batch (this run's messages only) and refuses any holding a bad one. */
  async function worker(t: Test, options: Partial<DeliveryOptions>, judge?: (batch: readonly Delivery[], call: number) => void) {
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const service = new DeliveryService(await makeOutbox(), { ...FAST, ...options }, failureOf, quiet);
    const batches: string[][] = [];
    let calls = 0;
    service.handleBatch('test', async (batch): Promise<BatchOutcome[]> => {
      calls += 1;
      const mine = batch.filter((d) => d.key.startsWith(run));
      batches.push(mine.map((d) => `${d.key.slice(run.length + 1)}:${(d.payload as Payload).n}`));
      judge?.(batch, calls);
      if (batch.some((d) => (d.payload as Payload).bad === true)) throw new Refused('one act of the batch is refused by the FHIR server');
      return batch.map((d) => ({ answer: { status: 201, body: { n: (d.payload as Payload).n } } }));
    });
    t.teardown(async () => {
      await service.stop(0);
      await service.outbox.close();
    });
    const submit = (key: string, payload: Payload) => service.submit({ kind: 'test', key: `${run}|${key}`, payload, receivedAt: new Date().toISOString() });
    return { service, batches, submit };
  }

  t.test('messages of different keys due together are delivered in one batch, up to the batch size', async (t) => {
    const { service, batches, submit } = await worker(t, { batchSize: 4, concurrency: 1 });
    const ids: string[] = [];
    for (let k = 0; k < 10; k++) ids.push((await submit(`k${k}`, { n: k })).delivery.id);
    service.start();
    await until(async () => (await Promise.all(ids.map((id) => service.get(id)))).every((d) => d?.status === 'delivered'));
    const mine = batches.filter((b) => b.length > 0);
    t.ok(mine.every((b) => b.length <= 4), `no batch above 4: ${JSON.stringify(mine)}`);
    t.ok(mine.some((b) => b.length > 1), 'messages due together are merged');
    t.equal(mine.flat().length, 10, 'each message delivered once');
    t.same((await service.get(ids[3] as string))?.answer, { status: 201, body: { n: 3 } }, 'each message keeps its own answer');
  });

  t.test('what is due is spread evenly over the free flights: eight due with two flights go as two batches of four', async (t) => {
    const { service, batches, submit } = await worker(t, { batchSize: 16, concurrency: 2, batchFlights: 2 });
    const ids: string[] = [];
    for (let k = 0; k < 8; k++) ids.push((await submit(`k${k}`, { n: k })).delivery.id);
    service.start();
    await until(async () => (await Promise.all(ids.map((id) => service.get(id)))).every((d) => d?.status === 'delivered'));
    const mine = batches.filter((b) => b.length > 0);
    t.same(mine.map((b) => b.length), [4, 4], `two batches of four, side by side: ${JSON.stringify(mine)}`);
    t.equal(new Set(mine.flat()).size, 8, 'each message delivered once');
  });

  t.test('a lone message is delivered at once, alone: no waiting to fill a batch', async (t) => {
    const { service, batches, submit } = await worker(t, {});
    service.start();
    const { delivery } = await submit('alone', { n: 1 });
    const settled = await service.settle(delivery.id, 30_000);
    t.equal(settled?.status, 'delivered');
    t.same(batches.filter((b) => b.length > 0), [['alone:1']]);
  });

  t.test('a refused batch is split until the message at fault stands alone; the others are delivered', async (t) => {
    const { service, batches, submit } = await worker(t, { concurrency: 1 });
    const ids: string[] = [];
    for (let k = 0; k < 8; k++) ids.push((await submit(`k${k}`, { n: k, ...(k === 5 ? { bad: true } : {}) })).delivery.id);
    service.start();
    await until(async () => (await Promise.all(ids.map((id) => service.get(id)))).every((d) => d?.status !== 'pending'));
    const states = await Promise.all(ids.map((id) => service.get(id)));
    t.same(states.map((d) => d?.status), ['delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'dead', 'delivered', 'delivered']);
    t.equal(states[5]?.lastError?.status, 422, 'the faulty message is a dead letter with the refusal');
    t.equal(states[5]?.attempts, 1, 'tried once: the split is part of the same attempt');
    const alone = batches.filter((b) => b.length === 1 && b[0] === 'k5:5');
    t.ok(alone.length >= 1, `the faulty message ends up alone: ${JSON.stringify(batches)}`);
    const delivered = batches.filter((b) => !b.includes('k5:5')).flat();
    t.same([...new Set(delivered)].sort(), ['k0:0', 'k1:1', 'k2:2', 'k3:3', 'k4:4', 'k6:6', 'k7:7'], 'every other message was written');
  });

  t.test("each key's order is kept: never two messages of one key in a batch, each after the one before", async (t) => {
    const { service, batches, submit } = await worker(t, { concurrency: 2 });
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) for (const key of ['a', 'b', 'c']) ids.push((await submit(key, { n })).delivery.id);
    service.start();
    await until(async () => (await Promise.all(ids.map((id) => service.get(id)))).every((d) => d?.status === 'delivered'));
    for (const batch of batches) {
      const keys = batch.map((m) => m.split(':')[0]);
      t.equal(new Set(keys).size, keys.length, `one message per key in ${JSON.stringify(batch)}`);
    }
    for (const key of ['a', 'b', 'c']) {
      const order = batches.flat().filter((m) => m.startsWith(`${key}:`)).map((m) => Number(m.split(':')[1]));
      t.same(order, [1, 2, 3, 4, 5], `key ${key} in acceptance order`);
    }
  });

  t.test('a batch that fails transiently is retried whole, later', async (t) => {
    const { service, submit } = await worker(t, { concurrency: 1 }, (_batch, call) => {
      if (call === 1) throw new Down('the FHIR server is away');
    });
    const ids: string[] = [];
    for (let k = 0; k < 4; k++) ids.push((await submit(`k${k}`, { n: k })).delivery.id);
    service.start();
    await until(async () => (await Promise.all(ids.map((id) => service.get(id)))).every((d) => d?.status === 'delivered'));
    const states = await Promise.all(ids.map((id) => service.get(id)));
    t.same(states.map((d) => d?.attempts), [2, 2, 2, 2], 'the four went together, failed together, and were delivered at the second attempt');
  });
}
