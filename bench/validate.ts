// Validations per second of a typical act Bundle (Patient, Organization, two Practitioners, the Encounter,
// its report, its Provenance and the patient's Consent), on one core, with the start-up cost.
//   sh scripts/node.sh bench/validate.ts [seconds per measure, default 3]
// Baseline, measured in the same run: the same Bundle against base FHIR R4 only (@medplum/core's
// validateResource, no profiles, no terminology), which is what the gate would cost without profiles.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateResource } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { createValidator } from '../src/fhir/validation/index.ts';
import { PATHS } from '../src/fhir/validation/sources.ts';

const SECONDS = Number(process.argv[2] ?? 3);

const startup = performance.now();
const validator = await createValidator();
const startupWall = performance.now() - startup;

const bundle = JSON.parse(readFileSync(join(PATHS.examples, 'valid', 'Bundle-teleconsultation-act.json'), 'utf8')) as Bundle;
const entries = bundle.entry?.length ?? 0;
const errors = validator.validate(bundle).filter((i) => i.severity === 'error');
if (errors.length > 0) throw new Error(`the bench bundle must be valid: ${errors.map((e) => e.expression).join(', ')}`);

// Each round validates a fresh parse, as a request body would be: no cached object identity helps.
const text = JSON.stringify(bundle);

function measure(label: string, validate: (resource: Resource) => unknown): number {
  for (let i = 0; i < 20; i++) validate(JSON.parse(text) as Resource); // warm-up
  let count = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  while (performance.now() < deadline) {
    validate(JSON.parse(text) as Resource);
    count++;
  }
  const perSecond = count / ((performance.now() - t0) / 1000);
  console.log(`${label.padEnd(50)} ${perSecond.toFixed(0).padStart(7)} bundles/s  ${(1000 / perSecond).toFixed(2).padStart(7)} ms/bundle`);
  return perSecond;
}

console.log(`start-up (createValidator): ${validator.startupMs} ms (${startupWall.toFixed(0)} ms wall, first call in this process)`);
console.log(`act bundle: ${entries} entries, ${text.length} bytes; ${SECONDS} s per measure\n`);
const parseOnly = measure('JSON.parse only (floor)', () => undefined);
const base = measure('baseline: base R4 only (medplum)', (r) => validateResource(r));
const full = measure('gate: R4 + FR Core + our profiles + terminology', (r) => validator.validate(r));
console.log(
  `\nratio gate / baseline: ${(base / full).toFixed(2)}x slower; ` +
    `gate = ${(full * entries).toFixed(0)} resources/s; parse floor ${parseOnly.toFixed(0)}/s`,
);
