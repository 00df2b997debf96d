// The shipped StructureDefinitions (profiles/generated) must be what the FSH sources say: this re-runs
// SUSHI offline (no HAPI needed) and compares everything but the snapshot HAPI added.
// When it fails: `npm run profiles:build` (with HAPI running), then commit profiles/generated.
import t from 'tap';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { runSushi, SNAPSHOT_FIELDS } from '../../scripts/build-profiles.ts';
import { shippedStructureDefinitions } from '../../src/fhir/validation/sources.ts';

const STALE = 'profiles/generated is stale: run `npm run profiles:build` and commit the result';

const { definitions } = runSushi();
const shipped = new Map(shippedStructureDefinitions().map((sd) => [sd.id, sd]));

t.test('the same definitions as the FSH sources', async (t) => {
  t.same([...shipped.keys()].sort(), definitions.map((sd) => sd.id).sort(), STALE);
});

t.test('each shipped definition is SUSHI’s output plus a snapshot', async (t) => {
  for (const fresh of definitions) {
    const file = shipped.get(fresh.id);
    if (!file) continue;
    const withoutSnapshot = Object.fromEntries(
      Object.entries(file).filter(([key]) => !(SNAPSHOT_FIELDS as readonly string[]).includes(key)),
    );
    t.same(withoutSnapshot, fresh, `${fresh.id}: ${STALE}`);
  }
});

t.test('each snapshot covers its differential', async (t) => {
  const specified = (e: ElementDefinition): Record<string, unknown> =>
    Object.fromEntries(Object.entries(e).filter(([k]) => /^(fixed|pattern)/.test(k) || k === 'min' || k === 'max'));
  for (const sd of shipped.values() as Iterable<StructureDefinition>) {
    const snapshot = new Map((sd.snapshot?.element ?? []).map((e) => [e.id, e]));
    t.ok(snapshot.size > 0, `${sd.id} has a snapshot`);
    for (const element of sd.differential?.element ?? []) {
      const expanded = snapshot.get(element.id);
      t.ok(expanded, `${sd.id}: ${element.id} is in the snapshot`);
      if (expanded) t.match(specified(expanded), specified(element), `${sd.id}: ${element.id} is constrained in the snapshot as in the differential`);
    }
  }
});
