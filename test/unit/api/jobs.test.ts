// POST /v1/offers/$import and GET /v1/jobs/{id} on the embedded store; an import accepted while the
// FHIR server is down, then the service restarted, is done by the next instance.
import Fastify from 'fastify';
import t from 'tap';
import { failureOf } from '../../../src/api/errors.ts';
import { jobRoutes } from '../../../src/api/jobs.ts';
import { DeliveryService, SqliteOutbox } from '../../../src/delivery/index.ts';
import { EmbeddedStore, FhirStoreError } from '../../../src/fhir/index.ts';
import type { FhirStore } from '../../../src/fhir/index.ts';
import { OFFER_IDENTIFIER_SYSTEM } from '../../../src/mapping/index.ts';
import { generateOffers } from '../../../src/synthetic/index.ts';
import { importWrites } from '../../../src/writes/index.ts';
import type { ImportProgress } from '../../../src/writes/index.ts';
import { tempOutboxPath, testApp, testValidator } from '../../support/app.ts';
import { ANONYMOUS } from '../../../src/security/index.ts';

const { app } = await testApp();
t.teardown(() => app.close());

t.test('an NDJSON import answers 202 with a job; the job shows its progress and its rejected lines', async (t) => {
  const lines = [...generateOffers(12, { seed: 9, prefix: 'JOB' })].map((o) => JSON.stringify(o));
  lines.splice(4, 0, '{"identifiantOffre":"JOB-BAD","name":"sans le reste"}');
  const posted = await app.inject({ method: 'POST', url: '/v1/offers/$import', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
  t.equal(posted.statusCode, 202, posted.body.slice(0, 300));
  const id: string = posted.json().id;
  t.equal(posted.headers.location, `/v1/jobs/${id}`);
  let job = posted.json();
  for (let i = 0; i < 200 && (job.status === 'queued' || job.status === 'running'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    job = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json();
  }
  t.equal(job.status, 'done');
  t.same(job.counts, { read: 13, imported: 12, rejected: 1 });
  t.equal(job.rejects[0].line, 5);
  t.equal(job.rejects[0].outcome.resourceType, 'OperationOutcome');
  const read = await app.inject({ method: 'GET', url: '/v1/offers/JOB-0000003' });
  t.equal(read.statusCode, 200, 'the offers are there');
});

t.test('an unknown job is a 404 OperationOutcome, a malformed id a 400; a JSON body is a 415', async (t) => {
  const missing = await app.inject({ method: 'GET', url: '/v1/jobs/6f1c2a9e-0b7d-4c3e-9a51-2d4e8f0a1b3c' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().resourceType, 'OperationOutcome');
  const malformed = await app.inject({ method: 'GET', url: '/v1/jobs/nope' });
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.json().issue[0].expression[0], 'path.id');
  const json = await app.inject({ method: 'POST', url: '/v1/offers/$import', payload: { identifiantOffre: 'X' } });
  t.equal(json.statusCode, 415);
});

/** A FHIR server that does not answer. */
function downStore(): FhirStore {
  const down = async (): Promise<never> => {
    throw new FhirStoreError('unavailable', 'the FHIR server cannot be reached (ECONNREFUSED)');
  };
  return { kind: 'hapi', location: 'http://127.0.0.1:1/fhir', transaction: down, read: down, search: down, probe: down, count: down, history: down, ready: async () => ({ ok: false, reason: 'down' }), close: async () => {} };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** The job routes and a worker over the outbox file `path`, writing to `store`. */
async function instance(path: string, store: FhirStore) {
  const deliveries = new DeliveryService(new SqliteOutbox(path), { concurrency: 2, maxAttempts: 0, backoffMs: 20, maxBackoffMs: 100, breakerThreshold: 100, breakerCooldownMs: 50 }, failureOf, quiet);
  const app = Fastify();
  // The routes without the security plugin: every request is the development mode's anonymous client.
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    request.principal = ANONYMOUS;
  });
  const running = new Map<string, ImportProgress>();
  const writes = importWrites({ store, validator: await testValidator(), running, clock: () => new Date(), log: quiet, retries: 0, backoffMs: 1 });
  for (const [kind, handler] of Object.entries(writes)) deliveries.handle(kind, handler);
  await app.register(jobRoutes, { deliveries, running });
  await app.ready();
  deliveries.start();
  return {
    app,
    job: async (id: string) => (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json(),
    stop: async () => {
      await deliveries.stop(1_000);
      await app.close();
      await deliveries.outbox.close();
    },
  };
}

// A deadline, not a timing assertion: generous, since CI runs other test files on the same two cores.
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('an import accepted while the FHIR server is down survives a restart and is done by the next instance', async (t) => {
  const path = tempOutboxPath();
  const offers = [...generateOffers(10, { seed: 21, prefix: 'DURABLE' })];
  const lines = offers.map((o) => JSON.stringify(o));
  lines.splice(2, 0, '{"identifiantOffre":"DURABLE-BAD"}');

  const first = await instance(path, downStore());
  const posted = await first.app.inject({ method: 'POST', url: '/v1/offers/$import', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
  t.equal(posted.statusCode, 202);
  const id: string = posted.json().id;
  const waiting = await until(() => first.job(id), (job) => job.attempts >= 2);
  t.equal(waiting.status, 'queued', 'the server is down: the job waits');
  t.match(waiting.error, /cannot be reached/, 'and says why');
  await first.stop();

  const store = new EmbeddedStore();
  const second = await instance(path, store);
  t.teardown(() => second.stop());
  const job = await until(() => second.job(id), (j) => j.status === 'done' || j.status === 'failed');
  t.equal(job.status, 'done');
  t.same(job.counts, { read: 11, imported: 10, rejected: 1 });
  t.same(job.rejects.map((r: { line: number }) => r.line), [3]);
  t.equal(await store.count('HealthcareService', { identifier: offers.map((o) => `${OFFER_IDENTIFIER_SYSTEM}|${o.identifiantOffre}`).join(',') }), 10, 'every valid offer is in the store');
});
