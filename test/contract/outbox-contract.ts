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
    const a1 = await outbox.enqueue(message('a', 1, { submittedBy: 'dpi-batignolles' }));
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
    t.equal(delivered?.submittedBy, 'dpi-batignolles', 'the client that submitted it, for the ownership check of GET /v1/deliveries/{id}');
    t.same((await mine()).sort(), ['a:2', 'b:1'], 'the next version of a is due once the first is delivered');
  });

  t.test('due leaves out the kinds the worker cannot take now (their batch flights are busy)', async (t) => {
    const skipped = await outbox.enqueue({ ...message('skip', 1), kind: 'busy-kind' });
    const kept = await outbox.enqueue(message('kept', 1));
    const handed = async (skip?: ReadonlySet<string>) => (await outbox.due(now, 1000, skip)).filter((d) => d.key.startsWith(run)).map((d) => d.key.slice(run.length + 1));
    t.same((await handed(new Set(['busy-kind']))).filter((key) => key === 'skip' || key === 'kept'), ['kept'], 'the busy kind is not handed out');
    t.same((await handed(new Set(['busy-kind', 'test']))).filter((key) => key === 'skip' || key === 'kept'), [], 'nor any kind skipped');
    t.same((await handed()).filter((key) => key === 'skip' || key === 'kept').sort(), ['kept', 'skip'], 'both once nothing is skipped');
    for (const { delivery } of [skipped, kept]) await outbox.markDelivered(delivery.id, { status: 201, body: {} }, now);
  });

  t.test('a message accepted with notBefore is not due before that time (audit records gathered)', async (t) => {
    const later = await outbox.enqueue(message('later', 1, { notBefore: now + 500 }));
    t.notOk((await mine()).includes('later:1'), 'not due yet');
    now += 500;
    t.ok((await mine()).includes('later:1'), 'due at its time');
    await outbox.startAttempt(later.delivery.id, now);
    await outbox.markDelivered(later.delivery.id, { status: 201, body: {} }, now);
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

  t.test('the census counts messages by status and names the oldest pending one', async (t) => {
    const before = await outbox.census();
    const g1 = await outbox.enqueue(message('g', 1));
    await outbox.enqueue(message('h', 1));
    await outbox.markDead(g1.delivery.id, { ...error, status: 422 }, now);
    const after = await outbox.census();
    // Other test files may share a PostgreSQL outbox: at least what this test added.
    t.ok(after.pending >= before.pending + 1, `pending ${before.pending} → ${after.pending}`);
    t.ok(after.dead >= before.dead + 1, `dead ${before.dead} → ${after.dead}`);
    t.ok(after.delivered >= 1, 'the delivered messages of the tests above');
    t.match(after.oldestPendingReceivedAt, /^\d{4}-\d\d-\d\dT/, 'the oldest pending message is named');
    t.ok(after.bytes > 0, `${after.bytes} bytes`);
  });

  t.test('list filters by source and by time of acceptance, page after page', async (t) => {
    const source = `https://dpi-${run}.example.fr`;
    const at = (minute: number) => `2026-11-23T10:${String(minute).padStart(2, '0')}:00.000Z`;
    for (let minute = 0; minute < 5; minute++) await outbox.enqueue({ ...message(`s${minute}`, minute), source, receivedAt: at(minute) });
    await outbox.enqueue({ ...message('s-other', 9), source: `${source}/other`, receivedAt: at(2) });
    const all = await outbox.list('pending', 1000, { source });
    t.equal(all.total, 5, 'the five of this source only');
    t.ok(all.deliveries.every((d) => d.source === source), 'each carries its source');
    const span = await outbox.list('pending', 1000, { source, from: at(1), to: at(4) });
    t.same(span.deliveries.map((d) => d.receivedAt), [at(1), at(2), at(3)], 'from included, to excluded');
    const first = await outbox.list('pending', 2, { source });
    t.equal(first.total, 5, 'the total counts every page');
    t.equal(first.deliveries.length, 2);
    const second = await outbox.list('pending', 2, { source, afterSeq: first.deliveries[1]?.seq ?? 0 });
    const third = await outbox.list('pending', 2, { source, afterSeq: second.deliveries[1]?.seq ?? 0 });
    t.same([...first.deliveries, ...second.deliveries, ...third.deliveries].map((d) => d.id), all.deliveries.map((d) => d.id), 'the pages hold each message once, in order');
  });

  t.test('discard removes a dead letter, and only a dead letter', async (t) => {
    const x1 = await outbox.enqueue(message('x', 1));
    t.equal(await outbox.discard(x1.delivery.id), 'not-dead');
    await outbox.markDead(x1.delivery.id, { ...error, status: 422 }, now);
    t.equal(await outbox.discard(x1.delivery.id), 'discarded');
    t.equal(await outbox.get(x1.delivery.id), undefined, 'gone');
    t.equal(await outbox.discard(x1.delivery.id), 'not-found');
  });

  t.test('the purge removes delivered messages past their time, in batches; pending and dead stay', async (t) => {
    // Delivered long before anything the other tests deliver (their clocks start at 1,000,000).
    const old = 400_000;
    const delivered: string[] = [];
    for (let n = 0; n < 3; n++) {
      const { delivery } = await outbox.enqueue(message(`p${n}`, n));
      await outbox.markDelivered(delivery.id, { status: 201, body: {} }, old + n);
      delivered.push(delivery.id);
    }
    const recent = await outbox.enqueue(message('p-recent', 1));
    await outbox.markDelivered(recent.delivery.id, { status: 201, body: {} }, 500_000);
    const pending = await outbox.enqueue(message('p-pending', 1));
    const dead = await outbox.enqueue(message('p-dead', 1));
    await outbox.markDead(dead.delivery.id, { ...error, status: 422 }, old);
    t.equal(await outbox.purgeDelivered(old + 10, 2), 2, 'one batch of two');
    let rest = 0;
    for (let removed = -1; removed !== 0; ) {
      removed = await outbox.purgeDelivered(old + 10, 2);
      rest += removed;
    }
    t.ok(rest >= 1, 'the next batch takes the third');
    for (const id of delivered) t.equal(await outbox.get(id), undefined, 'purged');
    t.equal((await outbox.get(recent.delivery.id))?.status, 'delivered', 'delivered after the limit: kept');
    t.equal((await outbox.get(pending.delivery.id))?.status, 'pending', 'pending: kept');
    t.equal((await outbox.get(dead.delivery.id))?.status, 'dead', 'a dead letter is kept until replayed or discarded');
  });
}
