// The purge of the outbox: delivered messages past their retention go, batch after batch; pending
// messages and dead letters stay; a message delivered within the retention stays.
import t from 'tap';
import { OutboxPurger, SqliteOutbox } from '../../../src/delivery/index.ts';
import { tempOutboxPath } from '../../support/app.ts';

const error = { status: 422, message: 'refused', outcome: { resourceType: 'OperationOutcome' as const, issue: [] } };
const DAY = 86_400_000;

t.test('delivered messages older than the retention are purged in batches; the rest stays', async (t) => {
  const outbox = new SqliteOutbox(tempOutboxPath());
  t.teardown(() => outbox.close());
  const now = 30 * DAY;
  for (let n = 0; n < 123; n++) {
    const { delivery } = await outbox.enqueue({ kind: 'act', key: `act|k${n}`, payload: { n }, receivedAt: '2026-11-01T10:00:00.000Z' });
    await outbox.markDelivered(delivery.id, { status: 201, body: {} }, now - 8 * DAY);
  }
  const recent = await outbox.enqueue({ kind: 'act', key: 'act|recent', payload: {}, receivedAt: '2026-11-29T10:00:00.000Z' });
  await outbox.markDelivered(recent.delivery.id, { status: 201, body: {} }, now - DAY);
  const dead = await outbox.enqueue({ kind: 'act', key: 'act|dead', payload: {}, receivedAt: '2026-11-01T10:00:00.000Z' });
  await outbox.markDead(dead.delivery.id, error, now - 20 * DAY);
  await outbox.enqueue({ kind: 'act', key: 'act|pending', payload: {}, receivedAt: '2026-11-01T10:00:00.000Z' });

  const batches: number[] = [];
  const lines: string[] = [];
  const log = { info: (_: object, message: string) => lines.push(message), warn: (_: object, message: string) => lines.push(message) };
  const purger = new OutboxPurger(outbox, { retentionMs: 7 * DAY, batchSize: 50, pauseMs: 1, onPurged: (count) => batches.push(count) }, log, () => now);
  t.equal(await purger.runOnce(), 123, 'every message delivered 8 days ago');
  t.same(batches, [50, 50, 23], 'in batches of 50, each told (the metrics count them)');
  const census = await outbox.census();
  t.equal(census.delivered, 1, 'the one delivered yesterday stays');
  t.equal(census.dead, 1, 'the dead letter stays (until replayed or discarded)');
  t.equal(census.pending, 1, 'the pending message stays');
  t.equal(await purger.runOnce(), 0, 'nothing more to purge');
  t.match(lines, ['outbox: delivered messages past their retention purged']);
  await purger.stop();
});

t.test('a stopped purger runs no more', async (t) => {
  const outbox = new SqliteOutbox(tempOutboxPath());
  t.teardown(() => outbox.close());
  const { delivery } = await outbox.enqueue({ kind: 'act', key: 'act|x', payload: {}, receivedAt: '2026-11-01T10:00:00.000Z' });
  await outbox.markDelivered(delivery.id, { status: 201, body: {} }, 0);
  const quiet = { info: () => {}, warn: () => {} };
  const purger = new OutboxPurger(outbox, { retentionMs: 1, firstRunMs: 20 }, quiet, () => 10_000);
  purger.start();
  await purger.stop();
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.equal((await outbox.census()).delivered, 1, 'the first run never came');
});
