import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import t from 'tap';
import { ACT_CANCELLATION_SCHEMA, ACT_REPORT_SCHEMA, ACT_SCHEMA, type Act } from '../../../src/model/act.ts';
import { CONTRACT_FORMATS } from '../../../src/model/strict-validator.ts';
import { ACT_ISSUE_CODES, checkAct, validateAct } from '../../../src/mapping/index.ts';
import { example, exampleBody, exampleFiles, invalidExpectations, must } from '../mapping/act-examples.ts';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

t.test('the schemas compile as Fastify compiles route schemas', async (t) => {
  // Fastify 5's defaults: coerceTypes array, removeAdditional, useDefaults, allErrors off, ajv-formats; plus
  // the contract's own formats, which src/app.ts gives Fastify's Ajv (base64, checked by a linear scan).
  const ajv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, allErrors: false, formats: { ...CONTRACT_FORMATS } });
  addFormats(ajv);
  for (const schema of [ACT_SCHEMA, ACT_REPORT_SCHEMA, ACT_CANCELLATION_SCHEMA]) t.doesNotThrow(() => ajv.compile(schema), schema.$id);
});

t.test('every example is accepted without error', async (t) => {
  t.ok(exampleFiles.length >= 6, 'at least six examples');
  for (const file of exampleFiles) {
    const result = validateAct(exampleBody(file));
    t.ok(result.ok, file);
    if (result.ok) t.same(result.warnings, [], `${file}: no warning`);
  }
});

t.test('every invalid example gives its status and codes', async (t) => {
  t.ok(Object.keys(invalidExpectations).length >= 8);
  for (const [file, expected] of Object.entries(invalidExpectations)) {
    const result = validateAct(exampleBody(file, 'invalid/'));
    const status = result.ok ? 201 : result.status;
    const codes = (result.ok ? result.warnings : result.issues).map((i) => i.code);
    t.equal(status, expected.status, `${file}: status`);
    t.same([...new Set(codes)].sort(), [...expected.codes].sort(), `${file}: codes`);
  }
});

t.test('schema errors name the field, in the body path form', async (t) => {
  const act = example('01');
  const body = {
    ...act,
    extra: true,
    performers: [{ ...act.performers[0], rpps: '1000099001' }],
    report: { ...act.report, pdfBase64: 'JVBERi0xLjQK' },
  };
  const result = validateAct(body);
  t.equal(result.ok, false);
  if (result.ok) return;
  t.equal(result.status, 400);
  t.same(result.issues.map((i) => i.field).sort(), ['extra', 'performers[0].rpps', 'report']);
  for (const issue of result.issues) t.equal(issue.code, 'ACT_SCHEMA');
});

t.test('INS checks report under patient.*, test identities only when allowed', async (t) => {
  const act = example('01');
  const testIdentity: Act = { ...act, patient: { ...act.patient, insOid: 'urn:oid:1.2.250.1.213.1.4.10' } };
  t.same(checkAct(testIdentity).map((i) => `${i.code} ${i.field}`), ['INS_TEST_IDENTITY_REFUSED patient.insOid']);
  t.same(checkAct(testIdentity, { allowTestIdentities: true }), []);
  const recup: Act = { ...act, patient: { ...act.patient, identityStatus: 'RECUP' } };
  t.same(checkAct(recup).map((i) => `${i.severity} ${i.code}`), ['warning ACT_INS_NOT_SHARED'], 'a valid INS that may not be shared is a warning');
  const wrongSex: Act = { ...act, patient: { ...act.patient, traits: { ...act.patient.traits, sex: 'female' } } };
  t.same(checkAct(wrongSex).map((i) => `${i.code} ${i.field}`), ['INS_SEX_MISMATCH patient.traits.sex']);
});

t.test('business rules, one by one', async (t) => {
  const act = example('01');
  const codes = (a: Act) => checkAct(a).map((i) => `${i.severity} ${i.code} ${i.field}`);
  t.same(codes({ ...act, end: undefined }), ['warning ACT_END_MISSING end']);
  t.same(codes({ ...act, incidents: [{ type: 'other', time: '2025-03-11T16:00:00+01:00', effect: 'none' }] }), ['warning ACT_INCIDENT_OUTSIDE_ACT incidents[0].time']);
  t.same(codes({ ...act, report: { ...must(act.report), authorRpps: '10000990035' } }), ['error ACT_PROFESSIONAL_UNKNOWN report.authorRpps']);
  t.same(codes({ ...act, performers: [must(act.performers[0]), must(act.performers[0])] }), ['error ACT_PERFORMER_DUPLICATE performers[1].rpps']);
  t.same(codes({ ...act, performers: [{ ...must(act.performers[0]), finess: '750990013' }] }), ['error ACT_FINESS_KEY_INVALID performers[0].finess']);
  const teleexpertise = example('02');
  t.same(codes({ ...teleexpertise, teleexpertiseDelay: undefined }), ['error ACT_TELEEXPERTISE_DELAY_MISSING teleexpertiseDelay']);
  const telesurveillance = example('03');
  t.same(codes({ ...telesurveillance, telesurveillanceProgram: undefined }), ['error ACT_TELESURVEILLANCE_PROGRAM_MISSING telesurveillanceProgram']);
  // A sage-femme is a medical profession: a téléconsultation by her is télémédecine.
  t.same(codes({ ...act, performers: [{ ...must(act.performers[0]), profession: 'sage-femme' }], billingCode: undefined }), []);
  // Converted to in-person: a refused remote consent no longer blocks a finished act.
  const converted: Act = {
    ...act,
    consent: { ...must(act.consent), decision: 'refused' },
    incidents: [{ type: 'other', time: '2025-03-11T14:35:00+01:00', effect: 'converted-in-person' }],
  };
  t.same(codes(converted), []);
  for (const issue of checkAct({ ...act, end: '2025-01-01T00:00:00Z', billingCode: 'XX' })) {
    t.equal(issue.severity, ACT_ISSUE_CODES[issue.code as keyof typeof ACT_ISSUE_CODES], `${issue.code}: severity belongs to the code`);
    t.match(issue.message, /[a-zé]/, 'a French message');
  }
});
