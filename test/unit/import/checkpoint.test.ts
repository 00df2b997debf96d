import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readCheckpoint, Watermark, writeCheckpoint } from '../../../src/import/index.ts';

const c = (read: number, imported: number, rejected: number) => ({ read, imported, rejected });

t.test('the watermark moves only past batches whose predecessors are all done', async (t) => {
  const w = new Watermark();
  t.notOk(w.done(1, 20, c(10, 10, 0)), 'batch 1 before batch 0: no move');
  t.equal(w.line, 0);
  t.ok(w.done(0, 10, c(10, 9, 1)));
  t.equal(w.line, 20, 'batches 0 and 1 done: up to line 20');
  t.same(w.counts, c(20, 19, 1));
  t.notOk(w.done(3, 40, c(10, 10, 0)));
  t.ok(w.done(2, 30, c(10, 10, 0)));
  t.equal(w.line, 40);
});

t.test('a resumed watermark starts from its checkpoint', async (t) => {
  const w = new Watermark({ line: 100, counts: c(100, 98, 2) });
  w.done(0, 110, c(10, 10, 0));
  t.equal(w.line, 110);
  t.same(w.counts, c(110, 108, 2));
});

t.test('a checkpoint is written whole and read back; none is undefined', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'checkpoint-'));
  const path = join(dir, 'offers.ndjson.checkpoint.json');
  t.equal(await readCheckpoint(path), undefined);
  const checkpoint = { input: 'offers.ndjson', format: 'ndjson', line: 42, counts: c(42, 40, 2), complete: false, updatedAt: '2026-01-01T00:00:00.000Z' };
  await writeCheckpoint(path, checkpoint);
  t.same(await readCheckpoint(path), checkpoint);
});
