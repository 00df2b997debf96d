// asStored: the resources as the server will store them (meta.lastUpdated set), for the validation gate,
// without touching what is sent, and without copying what does not change: so the gate must only read.
import { readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { asStored } from '../../../src/fhir/index.ts';
import { toActBundle } from '../../../src/mapping/index.ts';
import { validateAct } from '../../../src/mapping/act-check.ts';
import { testValidator } from '../../support/app.ts';

const example = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as unknown;

function actBundle(): Bundle {
  const checked = validateAct(example, { allowTestIdentities: true });
  if (!checked.ok) throw new Error('the example act must be valid');
  return toActBundle(checked.act, { receivedAt: '2026-12-07T10:00:00Z', allowTestIdentities: true, checked: checked.warnings }).bundle;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

t.test('every resource of a Bundle gets meta.lastUpdated; what is sent is left as it was', async (t) => {
  const bundle = actBundle();
  const before = JSON.stringify(bundle);
  const stored = asStored(bundle, new Date('2026-12-07T10:00:01Z'));
  t.equal(JSON.stringify(bundle), before, 'the Bundle that is sent is unchanged');
  t.equal(stored.meta?.lastUpdated, '2026-12-07T10:00:01.000Z');
  for (const entry of stored.entry ?? []) t.equal(entry.resource?.meta?.lastUpdated, '2026-12-07T10:00:01.000Z', `${entry.resource?.resourceType ?? ''} stamped`);
  t.same(stored.entry?.[0]?.resource?.meta?.profile, bundle.entry?.[0]?.resource?.meta?.profile, 'its other meta kept');
});

t.test('the validation gate only reads what it validates (asStored shares what it does not stamp)', async (t) => {
  const validator = await testValidator();
  const stored = deepFreeze(asStored(actBundle(), new Date()));
  const issues = validator.validate(stored);
  t.same(issues.filter((issue) => issue.severity === 'error'), [], 'a frozen act Bundle validates, nothing written into it');
});
