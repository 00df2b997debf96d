import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
