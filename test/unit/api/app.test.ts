import type { OperationOutcome } from '@medplum/fhirtypes';
import t from 'tap';
import { example as actExample } from '../mapping/act-examples.ts';
import { HapiStore } from '../../../src/fhir/index.ts';
import { testApp } from '../../support/app.ts';

function outcomeOf(body: string): OperationOutcome {
  const parsed = JSON.parse(body) as OperationOutcome;
  if (parsed.resourceType !== 'OperationOutcome') throw new Error(`not an OperationOutcome: ${body}`);
  return parsed;
}

t.test('liveness and readiness on the embedded store', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const health = await app.inject({ method: 'GET', url: '/health' });
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok' });
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(ready.statusCode, 200);
  t.equal(ready.json().store, 'embedded');
  t.same(ready.json().deliveries, { pending: 0, dead: 0, breaker: 'closed' }, 'nothing waiting');
});

t.test('readiness is 503 with the reason when the FHIR server does not answer', async (t) => {
  const store = new HapiStore({ baseUrl: 'http://127.0.0.1:9/fhir', timeoutMs: 1_000, retries: 0 });
  const { app } = await testApp({}, store);
  t.teardown(() => app.close());
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(ready.statusCode, 503);
  t.equal(ready.json().status, 'unavailable');
  t.match(ready.json().reason, /127\.0\.0\.1:9.*does not answer/);
});

t.test('readiness shows the writes waiting for the FHIR server', async (t) => {
  const store = new HapiStore({ baseUrl: 'http://127.0.0.1:9/fhir', timeoutMs: 1_000, retries: 0 });
  const { app } = await testApp({ DELIVERY_WAIT_MS: '0' }, store);
  t.teardown(() => app.close());
  // HAPI does not answer, the act is accepted all the same: it waits in the outbox.
  const posted = await app.inject({ method: 'POST', url: '/v1/acts', payload: actExample('01') });
  t.equal(posted.statusCode, 202, posted.body.slice(0, 300));
  // The audit record is stored after the answer is sent (the client never waits for it): a moment later.
  let ready = await app.inject({ method: 'GET', url: '/ready' });
  for (let i = 0; i < 50 && ready.json().deliveries.pending < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    ready = await app.inject({ method: 'GET', url: '/ready' });
  }
  t.equal(ready.statusCode, 503);
  t.equal(ready.json().deliveries.pending, 2, 'the act and its AuditEvent wait');
  t.equal(ready.json().deliveries.dead, 0);
  t.match(ready.json().deliveries.breaker, /^(closed|open|half-open)$/);
});

t.test('the OpenAPI 3 document and the docs page', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const doc = await app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(doc.statusCode, 200);
  t.match(doc.json().openapi, /^3\./);
  t.ok(doc.json().paths['/health'], 'routes come from their schemas');
  t.notOk(doc.json().paths['/openapi.json'], 'the document does not describe itself');
  const docs = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(docs.statusCode, 200);
  t.match(docs.body, /swagger/i);
});

t.test('an unknown route is a 404 OperationOutcome', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'GET', url: '/v1/nothing-here?x=1' });
  t.equal(response.statusCode, 404);
  t.match(response.headers['content-type'], /application\/fhir\+json/);
  const outcome = outcomeOf(response.body);
  t.equal(outcome.issue[0]?.code, 'not-found');
  t.match(outcome.issue[0]?.details?.text, /GET \/v1\/nothing-here/);
});

t.test('malformed JSON is a 400 OperationOutcome naming the body', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  for (const contentType of ['application/json', 'application/fhir+json']) {
    const response = await app.inject({ method: 'POST', url: '/v1/ins/check', headers: { 'content-type': contentType }, payload: '{"ins": ' });
    t.equal(response.statusCode, 400, contentType);
    const outcome = outcomeOf(response.body);
    t.same(outcome.issue[0]?.expression, ['(body)']);
    t.match(outcome.issue[0]?.details?.text, /JSON/);
  }
});

t.test('a body over the limit is a 413 OperationOutcome', async (t) => {
  const { app } = await testApp({ BODY_LIMIT_BYTES: '2048' });
  t.teardown(() => app.close());
  const response = await app.inject({
    method: 'POST',
    url: '/v1/ins/check',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ ins: 'x'.repeat(4096) }),
  });
  t.equal(response.statusCode, 413);
  t.match(outcomeOf(response.body).issue[0]?.details?.text, /2048 octets/);
});

t.test('an unsupported content type is a 415 OperationOutcome', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'POST', url: '/v1/ins/check', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
  t.equal(response.statusCode, 415);
  t.same(outcomeOf(response.body).issue[0]?.expression, ['header.content-type']);
});

t.test('the request id is taken from X-Request-ID, or made, and sent back', async (t) => {
  const { app, logs } = await testApp();
  t.teardown(() => app.close());
  const given = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'dpi-42.abc' } });
  t.equal(given.headers['x-request-id'], 'dpi-42.abc');
  t.match(logs(), /dpi-42\.abc/, 'the logs carry it');
  const made = await app.inject({ method: 'GET', url: '/health' });
  t.match(made.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  const hostile = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'a b\u0007<script>' } });
  t.not(hostile.headers['x-request-id'], 'a b\u0007<script>', 'an unsafe id is replaced');
});

t.test('the request id travels with the call to the FHIR store', async (t) => {
  const seen: (string | undefined)[] = [];
  const store = new HapiStore({ baseUrl: 'http://127.0.0.1:9/fhir', timeoutMs: 500, retries: 0 });
  const spy = Object.assign(Object.create(store) as HapiStore, {
    ready: async (ctx?: { requestId?: string }) => {
      seen.push(ctx?.requestId);
      return { ok: true, reason: 'spy' };
    },
  });
  const { app } = await testApp({}, spy);
  t.teardown(() => app.close());
  await app.inject({ method: 'GET', url: '/ready', headers: { 'x-request-id': 'trace-7' } });
  t.same(seen, ['trace-7']);
});

t.test('the authorization header never reaches the logs', async (t) => {
  const { app, logs } = await testApp({ LOG_LEVEL: 'trace' });
  t.teardown(() => app.close());
  // Whatever part of the service logs a request's headers, the logger itself censors the credentials.
  app.log.info({ headers: { authorization: 'Bearer secret-token-value', 'x-api-key': 'key-value-123', accept: 'text/plain' } }, 'headers seen');
  t.notMatch(logs(), /secret-token-value/);
  t.notMatch(logs(), /key-value-123/);
  t.match(logs(), /"authorization":"\[redacted\]"/);
  t.match(logs(), /"accept":"text\/plain"/, 'the other headers are kept');
});
