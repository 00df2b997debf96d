import type { OperationOutcome } from '@medplum/fhirtypes';
import t from 'tap';
import { testApp } from '../../support/app.ts';

interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>>;
}

const WRITE_METHODS = ['post', 'put', 'patch', 'delete'];
// The OpenAPI document lists the body types of a route with a body schema; the others' are said here.
const WITHOUT_BODY_SCHEMA: Record<string, string[]> = {
  'POST /v1/offers/$import': ['application/x-ndjson', 'application/ndjson', 'application/fhir+ndjson'],
};

t.test('every write route answers 415 with an OperationOutcome to a body type it does not take, and reads the types it takes', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const openapi = app.swagger() as unknown as OpenApi;
  const routes = Object.entries(openapi.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => WRITE_METHODS.includes(method))
      .map(([method, operation]) => {
        const name = `${method.toUpperCase()} ${path}`;
        const accepts = operation.requestBody?.content ? Object.keys(operation.requestBody.content) : (WITHOUT_BODY_SCHEMA[name] ?? ['application/json']);
        return { method: method.toUpperCase() as 'POST' | 'PUT' | 'PATCH' | 'DELETE', path, accepts };
      }),
  );
  // The write routes of the README's table, at least: offers, import, acts (post, report, cancel), replay, INS, $validate.
  t.ok(routes.length >= 10, `write routes found in the OpenAPI document: ${routes.map((route) => `${route.method} ${route.path}`).join(', ')}`);

  for (const route of routes) {
    const url = route.path.replace(/\{[^}]+\}/g, 'x1');
    const name = `${route.method} ${route.path}`;
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      if (route.accepts.includes(type)) continue;
      const refused = await app.inject({ method: route.method, url, headers: { 'content-type': type }, payload: 'a=1' });
      t.equal(refused.statusCode, 415, `${name} with ${type}`);
      t.match(refused.headers['content-type'], /^application\/fhir\+json/, `${name}: an OperationOutcome`);
      const outcome = refused.json<OperationOutcome>();
      t.equal(outcome.resourceType, 'OperationOutcome');
      t.same(outcome.issue[0]?.expression, ['header.content-type'], `${name}: names the header`);
      t.match(outcome.issue[0]?.details?.text, new RegExp(`non pris en charge \\(${type.replace('+', '\\+')}\\).*${(route.accepts[0] ?? '').replace('+', '\\+')}`), `${name}: says what to send`);
    }
    const noType = await app.inject({ method: route.method, url, payload: Buffer.from('{}') });
    t.equal(noType.statusCode, 415, `${name} with a body and no content type`);
    for (const type of route.accepts) {
      const taken = await app.inject({ method: route.method, url, headers: { 'content-type': `${type}; charset=utf-8` }, payload: type.includes('ndjson') ? '{}\n' : '{}' });
      t.not(taken.statusCode, 415, `${name} takes ${type}`);
    }
  }
});

t.test('a route without a body is not asked for a content type', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const withdraw = await app.inject({ method: 'DELETE', url: '/v1/offers/no-such-offer' });
  t.not(withdraw.statusCode, 415);
  const search = await app.inject({ method: 'GET', url: '/v1/offers', headers: { 'content-type': 'text/plain' } });
  t.equal(search.statusCode, 200, 'a GET is never refused for its content type');
});

t.test('POST /v1/acts with text/plain: 415, not the schema\'s "must be object"', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'POST', url: '/v1/acts', headers: { 'content-type': 'text/plain' }, payload: '{"source":"x"}' });
  t.equal(response.statusCode, 415);
  t.notMatch(response.body, /must be object/);
});
