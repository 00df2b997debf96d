// The synthetic acts generator: every act passes validateAct (the POST /v1/acts gate), the same seed
// gives the same acts, and the spread is the one the generator promises.
import t from 'tap';
import { validateAct } from '../../../src/mapping/act-check.ts';
import { generateActs, syntheticStructures } from '../../../src/synthetic/index.ts';
import type { Act } from '../../../src/model/act.ts';

const acts: Act[] = [...generateActs({ count: 500, seed: 42, year: 2025 })];

t.test('500 generated acts all pass validateAct', async (t) => {
  const refused = acts.filter((a) => !validateAct(a).ok);
  t.same(refused.map((a) => [a.actId, validateAct(a)]), []);
});

t.test('deterministic: same seed, same acts; another seed, other acts', async (t) => {
  t.same([...generateActs({ count: 500, seed: 42, year: 2025 })], acts);
  t.not(JSON.stringify([...generateActs({ count: 50, seed: 43 })]), JSON.stringify(acts.slice(0, 50)));
});

t.test('a realistic spread over one year', async (t) => {
  const share = (f: (a: Act) => boolean) => acts.filter(f).length / acts.length;
  t.ok(share((a) => a.type === 'teleconsultation') > 0.45 && share((a) => a.type === 'teleconsultation') < 0.65, 'téléconsultation about 55 %');
  t.ok(share((a) => a.type === 'teleexpertise') > 0.12, 'téléexpertise about 20 %');
  t.ok(acts.every((a) => a.start.startsWith('2025-')), 'every act in the year asked for');
  t.equal(new Set(acts.map((a) => a.start.slice(5, 7))).size, 12, 'every month has acts');
  t.ok(acts.some((a) => a.consent?.decision === 'refused' && a.status === 'cancelled'), 'some refusals');
  t.ok(acts.some((a) => (a.incidents ?? []).length > 0), 'some incidents');
  t.ok(acts.some((a) => a.status === 'finished' && a.report === undefined), 'some finished acts without report');
  t.ok(acts.some((a) => a.onSiteAssistant !== undefined), 'some assisted téléconsultations');
  const departments = new Set(acts.map((a) => a.performers[0]?.finess?.slice(0, 2)));
  t.ok(departments.size >= 6, 'acts in most departments of the region');
  t.ok(acts.every((a) => a.end === undefined || a.end.slice(0, 10) === a.start.slice(0, 10)), 'no act crosses midnight');
  t.equal(new Set(syntheticStructures(1).map((s) => s.finess)).size, syntheticStructures(1).length);
});

t.test('a coherent data set: the acts of offerStructures are performed by the teams the offers publish, at their structures', async (t) => {
  const { generateOffers, offerStructures } = await import('../../../src/synthetic/index.ts');
  const offers = [...generateOffers(40, { seed: 9 })];
  const structures = offerStructures(40, { seed: 9 });
  t.equal(structures.length, 10, 'four offers per structure');
  t.same(new Set(structures.map((s) => s.finess)), new Set(offers.map((o) => o.structure.finess)), 'the same structures');
  const published = new Map<string, string>();
  for (const offer of offers) for (const pro of offer.professionals ?? []) published.set(pro.rpps, offer.structure.finess);
  const coherent = [...generateActs({ count: 300, seed: 9, structures })];
  t.same(coherent.filter((a) => !validateAct(a).ok).map((a) => a.actId), [], 'every act passes validateAct');
  const finess = new Set(structures.map((s) => s.finess));
  t.same(coherent.flatMap((a) => a.performers.filter((p) => p.finess !== undefined && !finess.has(p.finess)).map((p) => p.finess)), [], 'every performer works at a structure that publishes offers');
  const physicians = coherent.flatMap((a) => a.performers.filter((p) => p.profession === 'medecin'));
  const fromTeams = physicians.filter((p) => published.has(p.rpps));
  t.ok(fromTeams.length > physicians.length * 0.8, `physicians come from the published teams (${fromTeams.length} of ${physicians.length}; a team with fewer than two gets newcomers)`);
  t.same(fromTeams.filter((p) => published.get(p.rpps) !== p.finess).map((p) => p.rpps), [], 'each acts at the structure whose offer publishes them');
});
