import t from 'tap';
import type { Bundle, Encounter, HealthcareService, Observation, Resource } from '@medplum/fhirtypes';
import { createValidator, FhirValidationError, toOperationOutcome, validateJson, validateText } from '../../src/fhir/validation/index.ts';
import type { ValidationIssue } from '../../src/fhir/validation/index.ts';
import { brokenExamples, frCoreExamples, sameElement, validExamples } from '../support/conformance-examples.ts';

const validator = await createValidator();
const errors = (issues: readonly ValidationIssue[]): ValidationIssue[] => issues.filter((i) => i.severity === 'error');
const example = <T extends Resource>(file: string): T =>
  structuredClone(validExamples().find((e) => e.file === file)?.resource) as T;
const show = (issues: readonly ValidationIssue[]): string => issues.map((i) => `${i.expression}: ${i.message}`).join('\n');

t.test('start-up is measured and our five profiles are loaded', async (t) => {
  t.ok(validator.startupMs > 0, `start-up took ${validator.startupMs} ms`);
  t.same(
    [...validator.profiles].sort(),
    ['consent', 'encounter', 'healthcareservice', 'provenance', 'report'].map((p) => `https://telesante-fhir.fr/fhir/StructureDefinition/telesante-${p}`),
  );
});

t.test('every valid example has no error', async (t) => {
  const examples = validExamples();
  t.ok(examples.length >= 6, 'one valid example per profile, and the act bundle');
  for (const { file, resource } of examples) {
    t.same(errors(validator.validate(resource)), [], file);
  }
});

t.test('every broken example fails on the element its rule is about', async (t) => {
  const examples = brokenExamples();
  t.ok(examples.length >= 10);
  for (const { file, resource, expression, rule } of examples) {
    const found = errors(validator.validate(resource));
    t.ok(found.length > 0, `${file} fails (${rule})`);
    t.ok(found.some((i) => sameElement(i.expression, expression)), `${file}: an error at ${expression}\n${show(found)}`);
  }
});

t.test('slices told apart by a value fixed below a nested slicing (FR Core blood pressure)', async (t) => {
  // fr-core-observation-bp slices component by code.coding.code and code.coding.system, whose values are
  // fixed on a slice of code.coding (SystolicBP.code.coding:SBPCode), not on code.coding itself.
  const bp = structuredClone(frCoreExamples().find((e) => e.file === 'Observation-FRCoreObservationBPExample.json')?.resource) as Observation;
  t.same(show(errors(validator.validate(bp))), '', 'the FR Core example is accepted, as the HL7 validator accepts it');

  const noSystolic = structuredClone(bp);
  const systolic = noSystolic.component?.[0]?.code.coding?.[0];
  if (systolic) systolic.code = '8478-0'; // mean blood pressure: a component of no slice
  const found = errors(validator.validate(noSystolic));
  t.ok(found.some((i) => i.expression === 'Observation.component' && /'SystolicBP': found 0, expected 1\.\.1/.test(i.message)), show(found));
  t.notOk(found.some((i) => /DiastolicBP/.test(i.message)), 'the diastolic component still fills its slice');

  const wrongSystem = structuredClone(bp);
  const diastolic = wrongSystem.component?.[1]?.code.coding?.[0];
  if (diastolic) diastolic.system = 'http://snomed.info/sct';
  t.ok(errors(validator.validate(wrongSystem)).some((i) => /'DiastolicBP': found 0/.test(i.message)), 'both discriminators must match');
});

t.test('bundle entries are validated against their own profiles, with bundle paths', async (t) => {
  const bundle = example<Bundle>('Bundle-teleconsultation-act.json');
  const encounter = bundle.entry?.[4]?.resource as Encounter;
  encounter.participant = [];
  const found = errors(validator.validate(bundle));
  t.ok(found.some((i) => i.expression === 'Bundle.entry[4].resource.participant'), show(found));
});

t.test('a reference to the wrong type of resource is an error, inside a bundle too', async (t) => {
  const encounter = example<Encounter>('Encounter-teleconsultation-with-incident.json');
  encounter.subject = { reference: 'Organization/org-ch-exemple' };
  t.ok(errors(validator.validate(encounter)).some((i) => i.expression === 'Encounter.subject.reference'));

  const bundle = example<Bundle>('Bundle-teleconsultation-act.json');
  const inBundle = bundle.entry?.[4]?.resource as Encounter;
  inBundle.subject = { reference: bundle.entry?.[1]?.fullUrl ?? '' };
  const found = errors(validator.validate(bundle));
  t.ok(found.some((i) => i.expression === 'Bundle.entry[4].resource.subject.reference' && /Organization/.test(i.message)), show(found));
});

t.test('terminology: required bindings of national value sets and our own are checked', async (t) => {
  const hs = example<HealthcareService>('HealthcareService-teleconsultation-cardiologie.json');
  (hs.type ?? [])[0] = { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R227-ChampActivite/FHIR/TRE-R227-ChampActivite', code: '99' }] };
  const found = errors(validator.validate(hs));
  t.ok(found.some((i) => i.expression === 'HealthcareService.type[0]' && i.code === 'code-invalid'), 'JDV_J20 on type');
  t.ok(found.some((i) => i.expression === 'HealthcareService.type[0].coding[0].code'), 'and 99 is not a TRE_R227 code');

  const encounter = example<Encounter>('Encounter-teleconsultation-with-incident.json');
  encounter.status = 'over' as Encounter['status'];
  t.ok(errors(validator.validate(encounter)).some((i) => i.expression === 'Encounter.status'), 'base R4 required binding');
});

t.test('a declared profile we do not hold is a warning, a profile for another type an error', async (t) => {
  const encounter = example<Encounter>('Encounter-teleconsultation-with-incident.json');
  encounter.meta = { profile: ['https://example.org/StructureDefinition/unknown'] };
  const issues = validator.validate(encounter);
  t.same(errors(issues), [], 'judged against base R4 only');
  t.ok(issues.some((i) => i.severity === 'warning' && i.expression === 'Encounter.meta.profile'));
  encounter.meta = { profile: ['https://telesante-fhir.fr/fhir/StructureDefinition/telesante-consent'] };
  t.ok(errors(validator.validate(encounter)).some((i) => i.expression === 'Encounter.meta.profile'));
});

t.test('base R4 structure comes from medplum: unknown elements and bad primitives', async (t) => {
  const encounter = example<Encounter>('Encounter-teleconsultation-with-incident.json') as Encounter & { colour?: string };
  encounter.colour = 'blue';
  (encounter.period ?? {}).start = '12/03/2026';
  const found = errors(validator.validate(encounter));
  t.ok(found.some((i) => i.expression === 'Encounter.colour'), show(found));
  t.ok(found.some((i) => i.expression === 'Encounter.period.start'), show(found));
});

t.test('assertValid throws FhirValidationError with the issues', async (t) => {
  const broken = brokenExamples()[0];
  if (!broken) throw new Error('no broken example');
  const error = t.throws(() => validator.assertValid(broken.resource));
  t.type(error, FhirValidationError);
  t.ok((error as FhirValidationError).issues.some((i) => i.severity === 'error'));
  t.doesNotThrow(() => validator.assertValid(example('Consent-teleconsultation.json')));
});

t.test('validateJson: an OperationOutcome for anything, never an exception', async (t) => {
  for (const input of [null, 42, 'Patient', [], {}, { resourceType: 7 }]) {
    const result = validateJson(validator, input);
    t.equal(result.valid, false, JSON.stringify(input));
    t.equal(result.outcome.issue[0]?.severity, 'error');
  }
  const unknownType = validateJson(validator, { resourceType: 'Teleconsultation' });
  t.equal(unknownType.valid, false);
  const ok = validateJson(validator, example('Provenance-teleconsultation.json'));
  t.equal(ok.valid, true);
  t.ok(ok.outcome.issue.length > 0);
  const bad = validateJson(validator, brokenExamples().find((e) => e.file === 'Encounter-class-not-virtual.json')?.resource);
  t.match(bad.outcome.issue.find((i) => i.severity === 'error'), { code: 'value', expression: ['Encounter.class'] });
});

t.test('validateText: unreadable JSON is an error issue, readable JSON is validated', async (t) => {
  const garbled = validateText(validator, '{"resourceType": "Encounter",');
  t.equal(garbled.valid, false);
  t.match(garbled.issues[0]?.message, /JSON/);
  t.equal(validateText(validator, JSON.stringify(example('Consent-teleconsultation.json'))).valid, true);
});

t.test('toOperationOutcome: one issue each, expression and details', async (t) => {
  t.same(toOperationOutcome([]).issue.map((i) => i.severity), ['information']);
  const outcome = toOperationOutcome([{ severity: 'error', code: 'whatever', expression: 'A.b', message: 'm' }]);
  t.same(outcome.issue, [{ severity: 'error', code: 'invalid', details: { text: 'm' }, expression: ['A.b'] }]);
});
