import t from 'tap';
import { SqliteOutbox } from '../../../src/delivery/index.ts';
import { outboxContract } from '../../contract/outbox-contract.ts';
import { tempOutboxPath } from '../../support/app.ts';

outboxContract(t, async () => new SqliteOutbox(tempOutboxPath()));

// Group commit: the writes asked for in one turn of the event loop share one transaction, each in a
// savepoint of its own. What a user would notice: one failing write (a hook that throws) fails alone,
// the others of its group are on disk, and a reopened file holds exactly those.
t.test('writes of one turn commit together; a failing one is rolled back alone', async (t) => {
  const path = tempOutboxPath();
  const outbox = new SqliteOutbox(path);
  const receivedAt = new Date().toISOString();
  const [a, b, c] = await Promise.all(
    ['a', 'b', 'c'].map((name) => outbox.enqueue({ kind: 'act', key: `act|${name}`, payload: { name }, receivedAt })),
  );
  t.ok(a?.created && b?.created && c?.created, 'three messages enqueued in one turn');
  // A hook that refuses b's delivery: its mark and its work roll back; a's and c's go through.
  outbox.addDeliveredHook({
    kinds: new Set(['act']),
    sqlite: (_db, message) => {
      if ((message.payload as { name: string }).name === 'b') throw new Error('the projection refused b');
    },
    postgres: async () => undefined,
  });
  const results = await Promise.allSettled(
    [a, b, c].map((result) => outbox.markDelivered((result as { delivery: { id: string } }).delivery.id, { status: 201, body: {} }, Date.now())),
  );
  t.same(
    results.map((result) => result.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  t.match((results[1] as PromiseRejectedResult).reason, /projection refused b/);
  await outbox.close();

  const reopened = new SqliteOutbox(path);
  t.teardown(() => reopened.close());
  const census = await reopened.census();
  t.equal(census.delivered, 2, 'a and c delivered, on disk');
  t.equal(census.pending, 1, 'b still pending, to be delivered again');
  t.equal((await reopened.get((b as { delivery: { id: string } }).delivery.id))?.status, 'pending');
});

t.test('an Idempotency-Key sent twice in one turn makes one message', async (t) => {
  const outbox = new SqliteOutbox(tempOutboxPath());
  t.teardown(() => outbox.close());
  const message = { kind: 'act', key: 'act|x', payload: { n: 1 }, receivedAt: new Date().toISOString(), idempotencyKey: 'K-1', fingerprint: 'f' };
  const [first, second] = await Promise.all([outbox.enqueue(message), outbox.enqueue(message)]);
  t.equal(first.created, true);
  t.equal(second.created, false);
  t.equal(second.delivery.id, first.delivery.id);
});
