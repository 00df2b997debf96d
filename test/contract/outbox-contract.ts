// The contract every Outbox keeps, run unchanged against SQLite (test/unit) and PostgreSQL
// (test/integration). The worker relies on each of these behaviours.
import type { Test } from 'tap';
import type { Outbox } from '../../src/delivery/index.ts';

const error = { status: 503, message: 'down', outcome: { resourceType: 'OperationOutcome' as const, issue: [] } };

export function outboxContract(t: Test, makeOutbox: () => Promise<Outbox>): void {
  let outbox: Outbox;
  let run = '';
  let now = 1_000_000;
  t.before(async () => {
    outbox = await makeOutbox();
    run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  });
  t.teardown(async () => {
    await outbox?.close();
  });
  const message = (key: string, n: number, extra: object = {}) => ({ kind: 'test', key: `${run}|${key}`, payload: { n }, receivedAt: '2026-11-23T10:00:00Z', ...extra });
  const mine = async (): Promise<string[]> => (await outbox.due(now, 1000)).filter((d) => d.key.startsWith(run)).map((d) => `${d.key.slice(run.length + 1)}:${String((d.payload as { n: number }).n)}`);

  t.test('enqueue is readable at once; only the oldest pending message of a key is due', async (t) => {
    const a1 = await outbox.enqueue(message('a', 1));
    await outbox.enqueue(message('a', 2));
    await outbox.enqueue(message('b', 1));
    t.ok(a1.created);
    t.equal((await outbox.get(a1.delivery.id))?.status, 'pending');
    t.same((await mine()).sort(), ['a:1', 'b:1']);
    await outbox.startAttempt(a1.delivery.id, now);
    await outbox.markDelivered(a1.delivery.id, { status: 201, body: { ok: true } }, now);
    const delivered = await outbox.get(a1.delivery.id);
    t.equal(delivered?.status, 'delivered');
    t.equal(delivered?.attempts, 1);
    t.equal(delivered?.payload, undefined, 'the payload (personal data) is erased once delivered');
    t.same(delivered?.answer, { status: 201, body: { ok: true } });
    t.same((await mine()).sort(), ['a:2', 'b:1'], 'the next version of a is due once the first is delivered');
  });

  t.test('a retried message holds back its key until it is due again', async (t) => {
    const c1 = await outbox.enqueue(message('c', 1));
    await outbox.enqueue(message('c', 2));
    await outbox.markRetry(c1.delivery.id, error, now + 60_000);
    t.notOk((await mine()).some((m) => m.startsWith('c:')), 'nothing of c is due');
    t.equal(await outbox.nextDueAt().then((next) => next !== undefined), true);
    now += 60_000;
    t.ok((await mine()).includes('c:1'), 'due again at its time');
  });

  t.test('a dead letter lets the key go on; replay puts it back unless a later version was delivered', async (t) => {
    const d1 = await outbox.enqueue(message('d', 1));
    const d2 = await outbox.enqueue(message('d', 2));
    await outbox.markDead(d1.delivery.id, { ...error, status: 422 }, now);
    t.ok((await mine()).includes('d:2'));
    t.equal((await outbox.list('dead', 1000)).deliveries.some((d) => d.id === d1.delivery.id), true);
    await outbox.markDelivered(d2.delivery.id, { status: 201, body: {} }, now);
    t.equal(await outbox.replay(d1.delivery.id, now), 'superseded');
    const e1 = await outbox.enqueue(message('e', 1));
    await outbox.markDead(e1.delivery.id, { ...error, status: 422 }, now);
    t.equal(await outbox.replay(e1.delivery.id, now), 'replayed');
    t.equal((await outbox.get(e1.delivery.id))?.status, 'pending');
    t.equal(await outbox.replay(e1.delivery.id, now), 'not-dead');
    t.equal(await outbox.replay('00000000-0000-4000-8000-000000000000', now), 'not-found');
  });

  t.test('an Idempotency-Key names one message', async (t) => {
    const first = await outbox.enqueue(message('f', 1, { idempotencyKey: `${run}-key`, fingerprint: 'x' }));
    const again = await outbox.enqueue(message('f', 1, { idempotencyKey: `${run}-key`, fingerprint: 'x' }));
    t.ok(first.created);
    t.notOk(again.created);
    t.equal(again.delivery.id, first.delivery.id);
  });

  t.test('list filters by kind: some kinds only, or all but some', async (t) => {
    const kind = (name: string) => `${name}-${run}`.slice(0, 60);
    await outbox.enqueue({ ...message('k', 1), kind: kind('audit') });
    await outbox.enqueue({ ...message('k2', 1), kind: kind('act') });
    const only = await outbox.list('pending', 1000, { kinds: [kind('audit')] });
    t.same(only.deliveries.map((d) => d.kind), [kind('audit')]);
    t.equal(only.total, 1);
    const without = await outbox.list('pending', 1000, { exceptKinds: [kind('audit')] });
    t.ok(without.deliveries.some((d) => d.kind === kind('act')));
    t.notOk(without.deliveries.some((d) => d.kind === kind('audit')));
    t.equal(without.total, (await outbox.list('pending', 1000)).total - 1);
  });
}
