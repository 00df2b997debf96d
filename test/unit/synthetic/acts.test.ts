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
