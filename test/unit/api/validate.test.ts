import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { testApp } from '../../support/app.ts';

t.test('POST /v1/$validate: 200 for a valid resource, 422 naming the path for a broken one', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const good = readdirSync('profiles/examples/valid').find((file) => file.endsWith('.json')) ?? '';
  const ok = await app.inject({ method: 'POST', url: '/v1/$validate', headers: { 'content-type': 'application/fhir+json' }, payload: readFileSync(`profiles/examples/valid/${good}`, 'utf8') });
  t.equal(ok.statusCode, 200, ok.body.slice(0, 300));
  t.equal(ok.json().resourceType, 'OperationOutcome');
  const broken = readdirSync('profiles/examples/invalid').find((file) => file.endsWith('.json') && file !== 'expected.json') ?? '';
  const bad = await app.inject({ method: 'POST', url: '/v1/$validate', headers: { 'content-type': 'application/fhir+json' }, payload: readFileSync(`profiles/examples/invalid/${broken}`, 'utf8') });
  t.equal(bad.statusCode, 422);
  t.ok(bad.json().issue.some((issue: { severity: string; expression?: string[] }) => issue.severity === 'error' && (issue.expression?.[0] ?? '').length > 0));
});

t.test('POST /v1/$validate: a shape that trips the validator is a 422, not a 500 (found by the fuzz test)', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'POST', url: '/v1/$validate', payload: { resourceType: 'Patient', gender: { valueOf: null }, birthDate: '1970-01-01' } });
  t.equal(response.statusCode, 422);
  t.equal(response.json().resourceType, 'OperationOutcome');
  t.match(response.json().issue[0].details.text, /cannot be validated/);
});
