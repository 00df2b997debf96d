// Keys named like Object.prototype's members ("valueOf", "toString", "constructor"…) once crashed the
// offer check with a 500: Ajv's uniqueItems compares objects with fast-deep-equal, which calls the
// object's own "valueOf". CI's fuzz found it; these cases keep it found.
import t from 'tap';
import { validateAct, validateOffer } from '../../../src/mapping/index.ts';
import { example as actExample } from '../mapping/act-examples.ts';
import { example as offerExample } from '../mapping/offer-examples.ts';

const INHERITED = Object.getOwnPropertyNames(Object.prototype).filter((name) => name !== '__proto__');

/** `value` as JSON text with `key` added to the object at `path`, then parsed: the way a request body arrives. */
function withKey(value: unknown, path: readonly (string | number)[], key: string): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let target: Record<string | number, unknown> = copy;
  for (const step of path) target = target[step] as Record<string | number, unknown>;
  const marker = '"__marker__":0';
  target.__marker__ = 0;
  return JSON.parse(JSON.stringify(copy).replace(marker, `${JSON.stringify(key)}:{}`)) as unknown;
}

t.test('offers: an inherited name is an unknown field, named, never a crash', async (t) => {
  const offer = offerExample('multisite-cardiologie');
  t.ok((offer.specificActs?.length ?? 0) >= 2, 'the example has two specific acts, so uniqueItems compares objects');
  for (const key of INHERITED) {
    for (const [path, field] of [
      [['specificActs', 1], `specificActs[1].${key}`],
      [[], key],
      [['structure'], `structure.${key}`],
    ] as const) {
      const result = validateOffer(withKey(offer, path, key));
      t.equal(result.ok, false, `${field}: refused`);
      if (result.ok) continue;
      t.equal(result.status, 400, `${field}: 400`);
      t.ok(result.issues.some((i) => i.field === field && i.severity === 'error'), `${field}: named (${JSON.stringify(result.issues.map((i) => i.field))})`);
    }
  }
});

t.test('acts: an inherited name is an unknown field, named, never a crash', async (t) => {
  const act = actExample('');
  for (const key of INHERITED) {
    for (const [path, field] of [
      [[], key],
      [['patient'], `patient.${key}`],
    ] as const) {
      const result = validateAct(withKey(act, path, key));
      t.equal(result.ok, false, `${field}: refused`);
      if (result.ok) continue;
      t.equal(result.status, 400, `${field}: 400`);
      t.ok(result.issues.some((i) => i.field === field), `${field}: named (${JSON.stringify(result.issues.map((i) => i.field))})`);
    }
  }
});
