import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { nirKey } from '../../src/ins/index.ts';

/** The real command, as a person runs it: bin/telesante in a process of its own. */
function telesante(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bin/telesante', args, { encoding: 'utf8', timeout: 120_000 });
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
  const badSex = telesante('ins', 'check', valid, '--sex', 'X');
  t.equal(badSex.status, 2);
  t.match(badSex.stderr, /--sex vaut male, female, other ou unknown \(reçu : X\) \[usage-invalid-value\]/);
  for (const sex of ['other', 'unknown']) t.equal(telesante('ins', 'check', valid, '--sex', sex).status, 0, `--sex ${sex} is accepted, as the help says`);
  t.match(telesante('ins', 'check', '--help').stdout, /--sex male\|female\|other\|unknown/);
  const nonsense = telesante('nonsense');
  t.equal(nonsense.status, 2);
  t.match(nonsense.stderr, /pas de commande « nonsense » .*\[usage-unknown-command\]/);
});

const COMMANDS = [['ins', 'check'], ['validate'], ['offers', 'import'], ['offers', 'generate'], ['acts', 'import'], ['acts', 'generate'], ['indicators', 'rebuild'], ['seed']];

t.test('--help on every command, and help <command>: on stdout, exit 0, with summary, options, environment, exit codes, example', async (t) => {
  for (const words of COMMANDS) {
    const viaOption = telesante(...words, '--help');
    t.equal(viaOption.status, 0, `${words.join(' ')} --help`);
    t.equal(viaOption.stderr, '');
    t.match(viaOption.stdout, new RegExp(`^telesante ${words.join(' ')} — \\S`), 'a one-line description first');
    for (const section of ['Usage :', 'Options :', "Variables d'environnement :", 'Codes de sortie :', 'Exemple']) t.match(viaOption.stdout, section, `${words.join(' ')}: ${section}`);
    t.match(viaOption.stdout, /-h, --help/);
    t.match(viaOption.stdout, /\n {2}2 +ligne de commande incorrecte|\n {2}2 +erreur fatale/, 'exit 2 is told');
    t.equal(telesante('help', ...words).stdout, viaOption.stdout, `help ${words.join(' ')} is the same help`);
    t.equal(telesante(...words, '-h', '--no-such-option').status, 0, 'help wins over a wrong option');
  }
  t.match(telesante('offers', 'import', '--help').stdout, /FHIR_BASE_URL/, 'the environment an import reads');
  const general = telesante('--help');
  t.equal(general.status, 0);
  for (const words of COMMANDS) t.match(general.stdout, `  ${words.join(' ')}`, `the general help lists ${words.join(' ')}`);
  t.equal(telesante('help').stdout, general.stdout);
  const group = telesante('offers', '--help');
  t.equal(group.status, 0);
  t.match(group.stdout, /offers import .*\n {2}offers generate/);
  t.equal(telesante('help', 'offers').stdout, group.stdout);
  const bare = telesante('offers');
  t.equal(bare.status, 2, 'a group without its sub-command is a usage error');
  t.match(bare.stderr, /\[usage-no-subcommand\]/);
  t.equal(telesante('help', 'nonsense').status, 2);
  t.equal(telesante().status, 2, 'no command');
});

t.test('--version prints the version of package.json', async (t) => {
  const version = telesante('--version');
  t.equal(version.status, 0);
  t.equal(version.stdout, `telesante ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`);
});

t.test('usage errors are French, with their code, on stderr, exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['ins', 'check', valid, '--bogus'], /option inconnue : --bogus .*\[usage-unknown-option\]/],
    [['offers', 'generate', '--count'], /l'option --count attend une valeur \[usage-missing-value\]/],
    [['offers', 'generate', '--count', '0'], /--count est un entier de 1 à 10.000.000 \(reçu : 0\) \[usage-invalid-value\]/],
    [['validate', 'a.json', 'b.json'], /reçu en trop : b\.json\) \[usage-extra-argument\]/],
    [['offers', 'import', 'examples/offers-import.csv', '--format', 'xml'], /--format vaut ndjson, csv ou fhir \(reçu : xml\)/],
    [['offers', 'import', 'examples/offers-import.csv'], /aucun serveur FHIR .*--fhir-base-url.*\[no-fhir-server\]/],
    [['offers', 'import', 'no/such.csv', '--dry-run'], /impossible de lire no\/such\.csv \(ENOENT\) \[file-unreadable\]/],
    [['offers', 'import', 'x.ndjson', '--dry-run', '--encoding', 'utf-8'], /--encoding vaut pour un CSV.*\[usage-encoding-ndjson\]/],
  ];
  for (const [args, expected] of cases) {
    const run = telesante(...args);
    t.equal(run.status, 2, args.join(' '));
    t.equal(run.stdout, '');
    t.match(run.stderr, expected, args.join(' '));
    t.notMatch(run.stderr, /\b(?:Unknown|error|usage:)\b/, 'no English');
  }
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
  t.match(first.stderr, /import terminé \(essai à blanc : rien écrit\) : 13 lignes lues, 6 offres valides, 7 rejetée\(s\) .*\[import-done\]/);
  const rejectsPath = `${file}.rejects.ndjson`;
  const records = readFileSync(rejectsPath, 'utf8').trim().split('\n');
  t.same(records.map((r) => (JSON.parse(r) as { line: number }).line), [4, 6, 7, 9, 10, 11, 13]);

  // What a kill leaves: a checkpoint at line 5 (lines 2-5 done, line 4 rejected) and, after the
  // rejects up to it, a record of a later line cut in the middle.
  writeFileSync(`${file}.checkpoint.json`, JSON.stringify({ input: file, format: 'csv', line: 5, counts: { read: 4, imported: 3, rejected: 1 }, complete: false, updatedAt: new Date().toISOString() }));
  writeFileSync(rejectsPath, `${records[0]}\n${records[1]?.slice(0, 40)}`);
  const resumed = telesante('offers', 'import', file, '--dry-run', '--quiet', '--resume');
  t.equal(resumed.status, 1, resumed.stderr);
  t.match(resumed.stderr, /reprise après la ligne 5 .*\[import-resumed\]/);
  t.same(readFileSync(rejectsPath, 'utf8').trim().split('\n').map((r) => (JSON.parse(r) as { line: number }).line), [4, 6, 7, 9, 10, 11, 13], 'each reject once, the cut record gone');
});
