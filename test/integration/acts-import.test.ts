// `telesante acts import` and `telesante seed` against a real HAPI server, run as a person runs them
// (bin/telesante in a process of its own): good acts land once, bad lines are in the rejects with their
// numbers, a second run changes nothing; seed writes offers and the acts of their structures and teams.
import { spawnSync } from 'node:child_process';
import type { Encounter, HealthcareService, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HapiStore, paramsOfQuery, resourcesOf } from '../../src/fhir/index.ts';
import { actSearch, OFFER_IDENTIFIER_SYSTEM } from '../../src/mapping/index.ts';
import type { Act } from '../../src/model/act.ts';
import { generateActs, generateOffers, offerStructures } from '../../src/synthetic/index.ts';
import { hapiBaseUrl, runId } from '../support/hapi.ts';

const baseUrl = await hapiBaseUrl();
const dir = mkdtempSync(join(tmpdir(), 'acts-import-'));

function telesante(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bin/telesante', args, { encoding: 'utf8', timeout: 600_000, env: { ...process.env, FHIR_BASE_URL: '', ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function encountersOf(store: HapiStore, acts: readonly Act[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const act of acts) {
    const found = resourcesOf(await store.search('Encounter', paramsOfQuery(actSearch(act.source, act.actId))));
    counts.set(act.actId, found.filter((r): r is Encounter => r.resourceType === 'Encounter').length);
  }
  return counts;
}

t.test('without a FHIR server acts import refuses clearly, before reading anything (a dry run needs none)', async (t) => {
  const file = join(dir, 'none.ndjson');
  writeFileSync(file, `${[...generateActs({ count: 2, seed: 5 })].map((a) => JSON.stringify(a)).join('\n')}\n`);
  const refused = telesante(['acts', 'import', file]);
  t.equal(refused.status, 2);
  t.match(refused.stderr, /aucun serveur FHIR .*--fhir-base-url.*FHIR_BASE_URL.*\[no-fhir-server\]/);
  const dry = telesante(['acts', 'import', file, '--dry-run', '--quiet']);
  t.equal(dry.status, 0, dry.stderr);
  t.match(dry.stderr, /essai à blanc : rien écrit\) : 2 lignes lues, 2 actes valides, 0 rejetée\(s\)/);
});

if (baseUrl === undefined) {
  t.plan(1, 'no HAPI FHIR server');
} else {
  const store = new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 });

  t.test('acts import: good acts land once, bad lines are rejected by number, a second run changes nothing', async (t) => {
    const acts = [...generateActs({ count: 12, seed: Math.floor(Math.random() * 1e6), idPrefix: `AIMP${runId()}` })];
    const lines = acts.map((a) => JSON.stringify(a));
    lines[3] = '{"actId": oops';
    const badIns = acts[7] as Act;
    lines[7] = JSON.stringify({ ...badIns, patient: { ...badIns.patient, ins: `${(badIns.patient.ins ?? '1840375123456').slice(0, 13)}00` } });
    const file = join(dir, 'acts.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const run = telesante(['acts', 'import', file, '--concurrency', '3'], { FHIR_BASE_URL: baseUrl });
    t.equal(run.status, 1, `exit 1: some lines rejected\n${run.stderr}`);
    t.match(run.stderr, /import terminé : 12 lignes lues, 10 actes importé\(e\)s, 2 rejetée\(s\) .*\[import-done\]/);
    const rejects = readFileSync(`${file}.rejects.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; actId?: string; outcome: { issue: { expression?: string[] }[] } });
    t.same(rejects.map((r) => r.line).sort((a, b) => a - b), [4, 8]);
    t.ok(rejects.find((r) => r.line === 8)?.outcome.issue.some((i) => i.expression?.[0]?.startsWith('patient.ins')), 'line 8: the INS, named as POST /v1/acts names it');
    t.equal(rejects.find((r) => r.line === 8)?.actId, badIns.actId);
    const good = acts.filter((_, i) => i !== 3 && i !== 7);
    const counts = await encountersOf(store, acts);
    t.same(good.filter((a) => counts.get(a.actId) !== 1).map((a) => a.actId), [], 'every good act is on HAPI, once');
    t.equal(counts.get(badIns.actId), 0, 'the rejected act is not');
    const again = telesante(['acts', 'import', file, '--rejects', join(dir, 'again.ndjson'), '--quiet'], { FHIR_BASE_URL: baseUrl });
    t.equal(again.status, 1, again.stderr);
    const after = await encountersOf(store, good);
    t.same(good.filter((a) => after.get(a.actId) !== 1).map((a) => a.actId), [], 'imported twice: still once each');
    const resumed = telesante(['acts', 'import', file, '--resume'], { FHIR_BASE_URL: baseUrl });
    t.match(resumed.stderr, /déjà importé en entier .*\[import-already-done\]/);
  });

  t.test('seed: offers, then acts of their structures performed by the professionals they publish', async (t) => {
    // A seed whose two structures both have two physicians or more: then everyone who acts is on an offer's team
    // (every kind of structure has nurses; a team without a physician would get newcomers).
    // A team that lacks a profession an act needs gets a newcomer (src/synthetic): the seed is one whose first
    // eight acts, as generated here, need none, so that what HAPI holds can be held to the offers' teams.
    const onTeams = (seed: number): boolean => {
      const structures = offerStructures(8, { seed });
      if (!structures.every((s) => (s.team ?? []).filter((m) => m.profession === 'medecin').length >= 2)) return false;
      const published = new Set([...generateOffers(8, { seed, prefix: `SEED${seed}` })].flatMap((o) => (o.professionals ?? []).map((p) => p.rpps)));
      const acts = [...generateActs({ count: 24, seed, idPrefix: `SEED${seed}-ACT`, structures })].slice(0, 8);
      return acts.every((a) => [...a.performers, ...(a.requester ? [a.requester] : [])].every((p) => published.has(p.rpps)));
    };
    let seed = 100_000 + Math.floor(Math.random() * 800_000);
    while (!onTeams(seed)) seed += 1;
    const run = telesante(['seed', '--offers', '8', '--acts', '24', '--seed', String(seed), '--quiet'], { FHIR_BASE_URL: baseUrl });
    t.equal(run.status, 0, run.stderr);
    t.match(run.stderr, new RegExp(`jeu de données SEED${seed} écrit sur .* : 8 offres de 2 structures, 24 actes, 0 refusé\\(s\\), en .*\\[seed-done\\]`));
    const offers = [...generateOffers(8, { seed, prefix: `SEED${seed}` })];
    const structures = new Set(offers.map((o) => o.structure.finess));
    const published = new Set(offers.flatMap((o) => (o.professionals ?? []).map((p) => p.rpps)));
    for (const offer of offers) {
      const found = await store.search<HealthcareService>('HealthcareService', { identifier: `${OFFER_IDENTIFIER_SYSTEM}|${offer.identifiantOffre}` });
      t.equal(found.entry?.length, 1, `offer ${offer.identifiantOffre} on HAPI`);
    }
    const acts = [...generateActs({ count: 24, seed, idPrefix: `SEED${seed}-ACT`, structures: offerStructures(8, { seed }) })];
    const counts = await encountersOf(store, acts);
    t.same(acts.filter((a) => counts.get(a.actId) !== 1).map((a) => a.actId), [], 'every act on HAPI, once');
    // As HAPI holds them: each act's structure publishes offers, and its performers are on the offers' teams.
    const strangers: string[] = [];
    for (const act of acts.slice(0, 8)) {
      const stored = resourcesOf(await store.search('Encounter', paramsOfQuery(`${actSearch(act.source, act.actId)}&_include=Encounter:service-provider&_include=Encounter:participant&_include:iterate=PractitionerRole:practitioner`)));
      const providers = stored.filter((r) => r.resourceType === 'Organization').flatMap((r) => ('identifier' in r ? (r.identifier ?? []) : []).map((i) => i.value));
      if (!providers.some((value) => value !== undefined && structures.has(value))) strangers.push(`${act.actId}: structure ${providers.join(', ')}`);
      const roles = stored.filter((r): r is PractitionerRole => r.resourceType === 'PractitionerRole');
      if (roles.length === 0) strangers.push(`${act.actId}: no performer found`);
      for (const role of roles) {
        const practitioner = stored.find((r): r is Practitioner => r.resourceType === 'Practitioner' && `Practitioner/${r.id}` === role.practitioner?.reference);
        const rpps = practitioner?.identifier?.find((i) => i.system === 'https://rpps.esante.gouv.fr')?.value;
        if (rpps === undefined || !published.has(rpps)) strangers.push(`${act.actId}: performer ${rpps ?? '?'}`);
      }
    }
    t.same(strangers, [], 'every act at an offer structure, by professionals its offers publish');
  });
}
