import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { nirKey } from '../../src/ins/index.ts';

function telesante(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const thirteen = '2850699123045';
const valid = `${thirteen}${String(nirKey(thirteen)).padStart(2, '0')}`;

t.test('telesante ins check: 0 valid, 1 invalid, 2 usage', async (t) => {
  const ok = telesante('ins', 'check', valid, '--sex', 'female', '--birth-date', '1985-06-01', '--birthplace', '99123');
  t.equal(ok.status, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /valide/);
  const bad = telesante('ins', 'check', `${thirteen}00`, '--json');
  t.equal(bad.status, 1);
  t.equal(JSON.parse(bad.stdout).valid, false);
  const mismatch = telesante('ins', 'check', valid, '--sex', 'male');
  t.equal(mismatch.status, 1, 'sex digit 2 against male');
  t.equal(telesante('ins', 'check').status, 2);
  t.equal(telesante('ins', 'check', valid, '--sex', 'X').status, 2);
  t.equal(telesante('nonsense').status, 2);
});

t.test('telesante validate: 0 on a valid example, 1 on a broken one, 2 on a missing file', async (t) => {
  const validDir = 'profiles/examples/valid';
  const invalidDir = 'profiles/examples/invalid';
  const good = readdirSync(validDir).find((file) => file.endsWith('.json'));
  const broken = readdirSync(invalidDir).find((file) => file.endsWith('.json') && file !== 'expected.json');
  t.ok(good && broken);
  t.equal(telesante('validate', `${validDir}/${good}`).status, 0);
  const failed = telesante('validate', `${invalidDir}/${broken}`);
  t.equal(failed.status, 1);
  t.match(failed.stdout, /INVALIDE/);
  t.equal(telesante('validate', 'no/such/file.json').status, 2);
});

t.test('telesante offers import --dry-run: exit 1 with rejects; --resume after a kill keeps each reject once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-import-'));
  const file = join(dir, 'offers.csv');
  copyFileSync('examples/offers-import-errors.csv', file);
  const first = telesante('offers', 'import', file, '--dry-run', '--quiet');
  t.equal(first.status, 1, first.stderr);
  t.match(first.stderr, /13 lines read, 6 valid, 7 rejected/);
  const rejectsPath = `${file}.rejects.ndjson`;
  const records = readFileSync(rejectsPath, 'utf8').trim().split('\n');
  t.same(records.map((r) => (JSON.parse(r) as { line: number }).line), [4, 6, 7, 9, 10, 11, 13]);

  // What a kill leaves: a checkpoint at line 5 (lines 2-5 done, line 4 rejected) and, after the
  // rejects up to it, a record of a later line cut in the middle.
  writeFileSync(`${file}.checkpoint.json`, JSON.stringify({ input: file, format: 'csv', line: 5, counts: { read: 4, imported: 3, rejected: 1 }, complete: false, updatedAt: new Date().toISOString() }));
  writeFileSync(rejectsPath, `${records[0]}\n${records[1]?.slice(0, 40)}`);
  const resumed = telesante('offers', 'import', file, '--dry-run', '--quiet', '--resume');
  t.equal(resumed.status, 1, resumed.stderr);
  t.match(resumed.stderr, /resuming after line 5/);
  t.same(readFileSync(rejectsPath, 'utf8').trim().split('\n').map((r) => (JSON.parse(r) as { line: number }).line), [4, 6, 7, 9, 10, 11, 13], 'each reject once, the cut record gone');
});
