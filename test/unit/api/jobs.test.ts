// POST /v1/offers/$import and GET /v1/jobs/{id} on the embedded store.
import t from 'tap';
import { generateOffers } from '../../../src/synthetic/index.ts';
import { testApp } from '../../support/app.ts';

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
  for (let i = 0; i < 200 && job.status === 'running'; i++) {
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

t.test('an unknown job is a 404 OperationOutcome; a JSON body is a 415', async (t) => {
  const missing = await app.inject({ method: 'GET', url: '/v1/jobs/nope' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().resourceType, 'OperationOutcome');
  const json = await app.inject({ method: 'POST', url: '/v1/offers/$import', payload: { identifiantOffre: 'X' } });
  t.equal(json.statusCode, 415);
});
