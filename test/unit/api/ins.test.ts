import t from 'tap';
import { nirKey } from '../../../src/ins/index.ts';
import { testApp } from '../../support/app.ts';

const thirteen = '1840375123456';
const valid = `${thirteen}${String(nirKey(thirteen)).padStart(2, '0')}`;
const wrongKey = `${thirteen}${String((nirKey(thirteen) % 97) + 1).padStart(2, '0')}`;

t.test('POST /v1/ins/check: a valid NIR coherent with its traits', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const response = await app.inject({
    method: 'POST',
    url: '/v1/ins/check',
    payload: { ins: valid, oid: 'urn:oid:1.2.250.1.213.1.4.8', traits: { sex: 'male', birthDate: '1984-03-12', birthplaceCode: '75123' } },
  });
  t.equal(response.statusCode, 200);
  const body = response.json();
  t.equal(body.valid, true);
  t.equal(body.kind, 'INS-NIR');
  t.equal(body.test, false);
  t.same(body.issues, []);
});

t.test('POST /v1/ins/check: a wrong key and an incoherent sex are named, with 200 and valid=false', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'POST', url: '/v1/ins/check', payload: { ins: wrongKey, traits: { sex: 'female' } } });
  t.equal(response.statusCode, 200);
  const body = response.json();
  t.equal(body.valid, false);
  const codes = body.issues.map((issue: { code: string }) => issue.code);
  t.ok(codes.includes('INS_KEY_MISMATCH'), `key mismatch among ${codes.join(', ')}`);
  t.ok(body.issues.some((issue: { field: string; severity: string }) => issue.field === 'traits.sex' && issue.severity === 'error'));
});

t.test('POST /v1/ins/check: test identities are refused unless the configuration allows them', async (t) => {
  const refused = await testApp();
  t.teardown(() => refused.app.close());
  const payload = { ins: valid, oid: '1.2.250.1.213.1.4.10' };
  const no = await refused.app.inject({ method: 'POST', url: '/v1/ins/check', payload });
  t.equal(no.json().valid, false);
  t.equal(no.json().kind, 'INS-NIR-TEST');
  const allowed = await testApp({ ALLOW_TEST_IDENTITIES: 'true' });
  t.teardown(() => allowed.app.close());
  const yes = await allowed.app.inject({ method: 'POST', url: '/v1/ins/check', payload });
  t.equal(yes.json().valid, true);
  t.equal(yes.json().test, true);
});

t.test('POST /v1/ins/check: a malformed body is a 400 OperationOutcome naming each field', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const response = await app.inject({
    method: 'POST',
    url: '/v1/ins/check',
    payload: { oid: 42, traits: { sex: 'M', birthDate: '12/03/1984' }, extra: true },
  });
  t.equal(response.statusCode, 400);
  const outcome = response.json();
  t.equal(outcome.resourceType, 'OperationOutcome');
  const expressions = outcome.issue.map((issue: { expression: string[] }) => issue.expression[0]).sort();
  t.same(expressions, ['extra', 'ins', 'oid', 'traits.birthDate', 'traits.sex']);
  for (const issue of outcome.issue) t.ok(issue.details.text.length > 10, 'a message a person can act on');
});

t.test('POST /v1/ins/patient: a qualified identity carries the INS per FR Core, a provisional one does not', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const identity = {
    ins: valid,
    identityStatus: 'QUAL',
    traits: { birthFamilyName: 'DUPONT', birthGivenNames: ['Jean', 'Pierre'], birthDate: '1984-03-12', sex: 'male', birthplaceCode: '75123' },
    ipp: { system: 'urn:oid:1.2.250.1.999.1.1', value: 'IPP-42' },
  };
  const qualified = await app.inject({ method: 'POST', url: '/v1/ins/patient', payload: identity });
  t.equal(qualified.statusCode, 200, qualified.body.slice(0, 400));
  const q = qualified.json();
  t.equal(q.insIncluded, true);
  t.same(q.patient.meta.profile, ['https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins']);
  const insIdentifier = q.patient.identifier.find((identifier: { system: string }) => identifier.system === 'urn:oid:1.2.250.1.213.1.4.8');
  t.equal(insIdentifier?.value, valid);
  t.equal(insIdentifier?.use, 'official');

  const provisional = await app.inject({ method: 'POST', url: '/v1/ins/patient', payload: { ...identity, identityStatus: 'PROV' } });
  t.equal(provisional.statusCode, 200);
  const p = provisional.json();
  t.equal(p.insIncluded, false);
  t.match(p.insExclusionReason, /qualifi/i);
  t.same(p.patient.meta.profile, ['https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient']);
  t.notOk(JSON.stringify(p.patient).includes(valid), 'the INS is nowhere in the provisional patient');

  const incomplete = await app.inject({ method: 'POST', url: '/v1/ins/patient', payload: { ...identity, traits: { birthFamilyName: 'DUPONT' } } });
  t.equal(incomplete.statusCode, 400);
  t.ok(incomplete.json().issue.some((issue: { expression: string[] }) => issue.expression[0] === 'traits.birthDate'));
});
