// `telesante offers import` against a real HAPI server: a file with good and bad lines (the good land,
// the bad are in the rejects file with their line numbers), and an import stopped by Ctrl-C, or killed,
// then resumed
// (every line in exactly once); and the Windows-1252 spreadsheet file of examples/, whose accented names
// must reach HAPI as they were typed.
import { spawn, spawnSync } from 'node:child_process';
import type { HealthcareService, Practitioner } from '@medplum/fhirtypes';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HapiStore } from '../../src/fhir/index.ts';
import { OFFER_IDENTIFIER_SYSTEM } from '../../src/mapping/index.ts';
import { generateOffers } from '../../src/synthetic/index.ts';
import { hapiBaseUrl, runId } from '../support/hapi.ts';

const baseUrl = await hapiBaseUrl();
const dir = mkdtempSync(join(tmpdir(), 'offers-import-'));

function telesante(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: result.status, stderr: result.stderr };
}

/** How many HealthcareServices carry each identifier (one search per 40). */
async function occurrences(store: HapiStore, ids: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  for (let i = 0; i < ids.length; i += 40) {
    const chunk = ids.slice(i, i + 40);
    const found = await store.search<HealthcareService>('HealthcareService', { identifier: chunk.map((id) => `${OFFER_IDENTIFIER_SYSTEM}|${id}`).join(','), _count: '200', _elements: 'identifier' });
    for (const entry of found.entry ?? []) {
      const id = entry.resource?.identifier?.find((x) => x.system === OFFER_IDENTIFIER_SYSTEM)?.value;
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  const store = new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 });
  // A seed of its own per run: new structures and professionals too, not only new offers.
  const seed = Math.floor(Math.random() * 1e8);

  t.test('good lines land on HAPI, bad lines are in the rejects file with their line numbers', async (t) => {
    const offers = [...generateOffers(40, { seed, prefix: `IMP${runId()}` })];
    const lines = offers.map((o) => JSON.stringify(o));
    lines[2] = '{"identifiantOffre": broken json';
    lines[9] = JSON.stringify({ ...offers[9], professionals: [{ rpps: '10005234562', familyName: 'Clé', profession: { code: '10' } }] });
    lines[30] = JSON.stringify({ ...offers[30], careMode: { code: '26' } });
    const file = join(dir, 'mixed.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const run = telesante('offers', 'import', file, '--fhir-base-url', baseUrl, '--batch-size', '8', '--concurrency', '3');
    t.equal(run.status, 1, `exit 1: some lines rejected\n${run.stderr}`);
    const rejects = readFileSync(`${file}.rejects.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; outcome: { issue: { diagnostics?: string; expression?: string[] }[] } });
    t.same(rejects.map((r) => r.line).sort((a, b) => a - b), [3, 10, 31]);
    t.ok(rejects.find((r) => r.line === 10)?.outcome.issue.some((i) => i.expression?.[0] === 'professionals[0].rpps'), 'line 10: the RPPS key');
    const good = offers.filter((_, i) => ![2, 9, 30].includes(i)).map((o) => o.identifiantOffre);
    const counts = await occurrences(store, [...good, offers[9]?.identifiantOffre ?? '', offers[30]?.identifiantOffre ?? '']);
    t.same(good.filter((id) => counts.get(id) !== 1), [], 'every good line is on HAPI, once');
    t.equal(counts.get(offers[9]?.identifiantOffre ?? ''), 0, 'the rejected ones are not');
    t.equal(counts.get(offers[30]?.identifiantOffre ?? ''), 0);
    const checkpoint = JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8'));
    t.same({ line: checkpoint.line, complete: checkpoint.complete }, { line: 40, complete: true });
  });

  t.test('an import stopped by Ctrl-C and resumed ends with every line in exactly once', async (t) => {
    const offers = [...generateOffers(120, { seed: seed + 1, prefix: `RES${runId()}` })];
    const file = join(dir, 'resume.ndjson');
    writeFileSync(file, `${offers.map((o) => JSON.stringify(o)).join('\n')}\n`);
    const checkpointPath = `${file}.checkpoint.json`;
    const child = spawn(process.execPath, ['src/cli/main.ts', 'offers', 'import', file, '--fhir-base-url', baseUrl, '--batch-size', '5', '--concurrency', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Ctrl-C once the first checkpoint is on disk: part of the file is done, part is not.
    for (let i = 0; i < 600 && !existsSync(checkpointPath); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    const code = await exited;
    t.equal(code, 130, `stopped: exit 130\n${stderr}`);
    const stopped = JSON.parse(readFileSync(checkpointPath, 'utf8'));
    t.ok(stopped.line > 0 && stopped.line < 120 && stopped.complete === false, `stopped at line ${stopped.line}`);

    const resumed = telesante('offers', 'import', file, '--fhir-base-url', baseUrl, '--batch-size', '5', '--concurrency', '2', '--resume');
    t.equal(resumed.status, 0, resumed.stderr);
    t.match(resumed.stderr, new RegExp(`reprise après la ligne ${stopped.line} .*\\[import-resumed\\]`));
    const done = JSON.parse(readFileSync(checkpointPath, 'utf8'));
    t.same({ line: done.line, complete: done.complete, counts: done.counts }, { line: 120, complete: true, counts: { read: 120, imported: 120, rejected: 0 } });
    const counts = await occurrences(store, offers.map((o) => o.identifiantOffre));
    t.same([...counts.entries()].filter(([, n]) => n !== 1), [], 'every offer exactly once');
  });

  t.test('an import killed (SIGKILL) half-way and resumed: nothing missing, nothing doubled, each reject once', async (t) => {
    const offers = [...generateOffers(150, { seed: seed + 2, prefix: `KIL${runId()}` })];
    const lines = offers.map((o) => JSON.stringify(o));
    const bad = [4, 37, 38, 90, 141];
    for (const i of bad) lines[i] = JSON.stringify({ ...offers[i], careMode: { code: '26' } });
    const file = join(dir, 'killed.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const checkpointPath = `${file}.checkpoint.json`;
    const child = spawn(process.execPath, ['src/cli/main.ts', 'offers', 'import', file, '--fhir-base-url', baseUrl, '--batch-size', '5', '--concurrency', '2'], { stdio: ['ignore', 'ignore', 'ignore'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Killed with no chance to finish anything, once part of the file is done.
    for (let i = 0; i < 600 && !existsSync(checkpointPath); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGKILL');
    t.equal(await exited, 'SIGKILL');
    const killed = JSON.parse(readFileSync(checkpointPath, 'utf8'));
    t.ok(killed.line > 0 && killed.line < 150 && killed.complete === false, `killed after line ${killed.line}`);

    const resumed = telesante('offers', 'import', file, '--fhir-base-url', baseUrl, '--batch-size', '5', '--concurrency', '2', '--resume');
    t.equal(resumed.status, 1, `exit 1: the bad lines are rejected\n${resumed.stderr}`);
    const done = JSON.parse(readFileSync(checkpointPath, 'utf8'));
    t.same({ line: done.line, complete: done.complete, counts: done.counts }, { line: 150, complete: true, counts: { read: 150, imported: 145, rejected: 5 } });
    const rejected = readFileSync(`${file}.rejects.ndjson`, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { line: number }).line);
    t.same(rejected.sort((a, b) => a - b), bad.map((i) => i + 1), 'each bad line rejected once');
    const counts = await occurrences(store, offers.map((o) => o.identifiantOffre));
    t.same(offers.filter((_, i) => counts.get(offers[i]?.identifiantOffre ?? '') !== (bad.includes(i) ? 0 : 1)).map((o) => o.identifiantOffre), [], 'every good offer exactly once, no bad one');
  });

  t.test('examples/offers-import-windows-1252.csv (a French spreadsheet file) lands with its names intact', async (t) => {
    // The example as it is, its offer identifiers made this run's own (ASCII: the bytes stay Windows-1252).
    const run = runId();
    const original = readFileSync('examples/offers-import-windows-1252.csv');
    const ids = ['EHPAD-GLYCINES-TLE-GERIA', 'MSP-ODET-KINE-TLS', 'GHT-FLANDRE-RYTHMO-TLM'];
    let latin = original.toString('latin1');
    for (const id of ids) latin = latin.replace(`${id};`, `${id}-${run};`);
    const file = join(dir, 'tableur.csv');
    writeFileSync(file, Buffer.from(latin, 'latin1'));
    t.ok(Buffer.from(latin, 'latin1').includes(0x9c), 'still Windows-1252 (œ is 0x9C)');
    const result = spawnSync('bin/telesante', ['offers', 'import', file, '--fhir-base-url', baseUrl], { encoding: 'utf8', timeout: 600_000 });
    t.equal(result.status, 0, `exit 0: every line went in\n${result.stderr}`);
    t.match(result.stderr, /lu comme du Windows-1252 .*\[encoding-windows-1252\]/, 'the user is told how the file was read');
    const names = new Map<string, string | undefined>();
    for (const id of ids) {
      const found = await store.search<HealthcareService>('HealthcareService', { identifier: `${OFFER_IDENTIFIER_SYSTEM}|${id}-${run}` });
      names.set(id, found.entry?.[0]?.resource?.name);
    }
    t.same(Object.fromEntries(names), {
      'EHPAD-GLYCINES-TLE-GERIA': 'Téléexpertise gériatrique – œdèmes, plaies et chutes',
      'MSP-ODET-KINE-TLS': 'Télésoin de kinésithérapie à l’Odet',
      'GHT-FLANDRE-RYTHMO-TLM': 'Télésurveillance des défibrillateurs implantés – Flandre-Lys',
    });
    const people: string[] = [];
    for (const rpps of ['10012654306', '10012654314', '10012654322', '10012654330', '10012654348']) {
      const found = await store.search<Practitioner>('Practitioner', { identifier: `https://rpps.esante.gouv.fr|${rpps}` });
      const name = found.entry?.[0]?.resource?.name?.[0];
      people.push(`${name?.given?.join(' ') ?? ''} ${name?.family ?? ''}`);
    }
    t.same(people, ['Zoé Œhmichen', 'Françoise Lefèvre', 'Maël Le Gœuil', 'Aïcha Deschâtelets-Saïd', 'Jérôme Vanœsbrœck']);
    const description = (await store.search<HealthcareService>('HealthcareService', { identifier: `${OFFER_IDENTIFIER_SYSTEM}|EHPAD-GLYCINES-TLE-GERIA-${run}` })).entry?.[0]?.resource?.comment;
    t.notMatch(JSON.stringify([...names.values(), people, description]), /\uFFFD/, 'no replacement character anywhere');
  });
}
