// The validator reads its FHIR R4 and FR Core definitions through a digest: the same resources without
// what only people read. These tests check that the digest is written once and read back as built, that
// a damaged digest is rebuilt rather than trusted, and that nothing a validator reads was dropped.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StructureDefinition } from '@medplum/fhirtypes';
import t from 'tap';
import { validationDefinitions } from '../../../src/fhir/validation/digest.ts';
import { r4StructureDefinitions } from '../../../src/fhir/validation/sources.ts';

const dir = mkdtempSync(join(tmpdir(), 'telesante-digest-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('built once, then read back as it was built', async (t) => {
  const built = validationDefinitions(dir);
  const files = readdirSync(dir);
  t.equal(files.length, 1, 'one digest file');
  t.match(files[0], /^validation-definitions-[0-9a-f]{16}\.json$/);
  const read = validationDefinitions(dir);
  t.same(read, JSON.parse(JSON.stringify(built)), 'the digest holds what was built');
  t.ok(built.r4.length > 600 && built.frCore.length > 100 && built.r4Terminology.length > 1000, 'R4, FR Core and R4 terminology are all there');
});

t.test('a damaged digest is rebuilt, not trusted', async (t) => {
  const [file] = readdirSync(dir);
  const path = join(dir, file as string);
  writeFileSync(path, '{"r4": [');
  const rebuilt = validationDefinitions(dir);
  t.ok(rebuilt.r4.length > 600, 'definitions built from the sources');
  t.doesNotThrow(() => JSON.parse(readFileSync(path, 'utf8')), 'and the digest written again');
});

t.test('documentation is dropped, structure is kept', async (t) => {
  const whole = new Map(r4StructureDefinitions().map((sd) => [sd.url, sd]));
  for (const slim of validationDefinitions(dir).r4) {
    const full = whole.get(slim.url) as StructureDefinition;
    const elements = slim.snapshot?.element ?? [];
    t.equal(elements.length, full.snapshot?.element?.length ?? 0, `${slim.url}: every element`);
    const kept = (sd: StructureDefinition) =>
      (sd.snapshot?.element ?? []).map((e) => JSON.stringify([e.path, e.id, e.min, e.max, e.type, e.binding?.strength, e.binding?.valueSet, e.slicing, e.sliceName, e.contentReference, e.base, e.fixedCode, e.patternCodeableConcept, (e.constraint ?? []).map((c) => [c.key, c.severity, c.expression, c.human])]));
    if (JSON.stringify(kept(slim)) !== JSON.stringify(kept(full))) t.fail(`${slim.url}: what validation reads is unchanged`);
    if (elements.some((e) => e.definition !== undefined || e.comment !== undefined || e.mapping !== undefined)) t.fail(`${slim.url}: documentation dropped`);
  }
  t.pass('every R4 definition compared');
});
