// GET /metrics after real requests: requests by route and status, calls to the FHIR store by operation
// and outcome, deliveries by kind and outcome, the outbox's gauges, the breaker; behind metrics:read;
// on a port of its own with METRICS_PORT (the service as a real process).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore, FhirStoreError } from '../../../src/fhir/index.ts';
import type { CallContext } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { generateOffers } from '../../../src/synthetic/index.ts';
import { testApp } from '../../support/app.ts';
import { testIssuer } from '../../support/auth.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;

/** The value of one sample of the exposition text, or undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * The exposition text once the sample is there (or after two seconds). The worker counts a delivery's
 * outcome after the outbox records it, which is when the route that waited for it answers: a scrape
 * right after that answer can come a moment before the count.
 */
async function scrapeOnce(app: { inject: (options: { method: 'GET'; url: string }) => Promise<{ body: string }> }, name: string, labels: Record<string, string>): Promise<string> {
  let text = '';
  for (let i = 0; i < 100; i++) {
    text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    if (sample(text, name, labels) !== undefined) return text;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return text;
}

t.test('requests, store calls, deliveries and the outbox after real requests', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const created = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
  t.equal(created.statusCode, 201, created.body);
  t.equal((await app.inject({ method: 'GET', url: '/v1/acts/nowhere/none' })).statusCode, 404);
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: { source: 1 } })).statusCode, 400);
  await app.inject({ method: 'GET', url: '/health' });

  await scrapeOnce(app, 'telesante_deliveries_total', { kind: 'act', outcome: 'delivered' });
  const scraped = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(scraped.statusCode, 200);
  t.match(scraped.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = scraped.body;
  const http = 'http_request_duration_seconds_count';
  t.equal(sample(text, http, { method: 'POST', route: '/v1/acts', status_code: '201' }), 1, 'the act, by route template and status');
  t.equal(sample(text, http, { method: 'POST', route: '/v1/acts', status_code: '400' }), 1, 'the malformed one apart');
  t.equal(sample(text, http, { method: 'GET', route: '/v1/acts/:source/:actId', status_code: '404' }), 1, 'a path with parameters is its template');
  t.equal(sample(text, http, { route: '/health', status_code: '200' }), 1);
  t.ok((sample(text, 'http_request_duration_seconds_bucket', { route: '/v1/acts', status_code: '201', le: '+Inf' }) ?? 0) >= 1, 'a latency histogram');
  t.notOk(text.includes('route="/metrics"'), 'scrapes are not counted');

  const calls = 'telesante_fhir_store_call_duration_seconds_count';
  t.ok((sample(text, calls, { operation: 'transaction', resource_type: 'Bundle', outcome: 'ok' }) ?? 0) >= 1, 'the act went to the store in a transaction');
  t.ok((sample(text, calls, { operation: 'search', outcome: 'ok' }) ?? 0) >= 1, 'the read of an act searches the store');
  t.equal(sample(text, 'telesante_deliveries_total', { kind: 'act', outcome: 'delivered' }), 1, 'one act delivered');
  t.equal(sample(text, 'telesante_delivery_duration_seconds_count', { kind: 'act', outcome: 'delivered' }), 1);
  t.equal(sample(text, 'telesante_delivery_breaker_state', { state: 'closed' }), 1);
  t.equal(sample(text, 'telesante_delivery_breaker_state', { state: 'open' }), 0);
  t.ok((sample(text, 'telesante_outbox_messages', { status: 'delivered' }) ?? 0) >= 1, 'the delivered act is in the outbox');
  t.equal(sample(text, 'telesante_outbox_messages', { status: 'dead' }), 0);
  t.ok((sample(text, 'telesante_outbox_size_bytes') ?? 0) > 0, 'the outbox has a size');
  t.equal(sample(text, 'telesante_outbox_up'), 1);
  t.ok(sample(text, 'process_resident_memory_bytes') !== undefined, 'process metrics too');
});

/** The embedded store whose transactions fail as the test says. */
class FailingStore extends EmbeddedStore {
  failure: FhirStoreError | undefined;
  override async transaction(bundle: Bundle, ctx?: CallContext): Promise<Bundle> {
    if (this.failure !== undefined) throw this.failure;
    return super.transaction(bundle, ctx);
  }
}

t.test('a refused write is a dead letter, a server down leaves the outbox pending and opens the breaker', async (t) => {
  const store = new FailingStore();
  // The audit records wait a minute (AUDIT_FLUSH_MS): one of them meeting the server down first would open
  // the breaker before the second act is tried, and which comes first would depend on the machine's speed.
  const { app } = await testApp({ DELIVERY_BREAKER_THRESHOLD: '1', DELIVERY_BREAKER_COOLDOWN_MS: '600000', DELIVERY_WAIT_MS: '2000', AUDIT_FLUSH_MS: '60000' }, store);
  t.teardown(() => app.close());
  store.failure = new FhirStoreError('invalid', 'HAPI refused it', { status: 422, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invariant', diagnostics: 'no' }] } });
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: act })).statusCode, 422);
  store.failure = new FhirStoreError('unavailable', 'connection refused');
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, actId: `${act.actId}-2` } })).statusCode, 202);
  const text = await scrapeOnce(app, 'telesante_deliveries_total', { kind: 'act', outcome: 'retry' });
  t.equal(sample(text, 'telesante_fhir_store_call_duration_seconds_count', { operation: 'transaction', outcome: 'invalid' }), 1);
  // The second act found the server down.
  t.ok((sample(text, 'telesante_fhir_store_call_duration_seconds_count', { operation: 'transaction', outcome: 'unavailable' }) ?? 0) >= 1);
  t.equal(sample(text, 'telesante_deliveries_total', { kind: 'act', outcome: 'dead' }), 1);
  t.equal(sample(text, 'telesante_deliveries_total', { kind: 'act', outcome: 'retry' }), 1);
  t.equal(sample(text, 'telesante_outbox_messages', { status: 'dead' }), 1);
  t.ok((sample(text, 'telesante_outbox_messages', { status: 'pending' }) ?? 0) >= 1, 'the act waits in the outbox');
  t.ok((sample(text, 'telesante_outbox_oldest_pending_age_seconds') ?? 0) > 0, 'and its age shows');
  t.equal(sample(text, 'telesante_delivery_breaker_state', { state: 'open' }), 1, 'the breaker opened');
});

t.test('an import job counts its lines by outcome', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const lines = [...generateOffers(5, { seed: 3, prefix: 'MET' })].map((o) => JSON.stringify(o));
  lines.push('{"identifiantOffre":"MET-BAD"}');
  const posted = await app.inject({ method: 'POST', url: '/v1/offers/$import', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
  t.equal(posted.statusCode, 202);
  let job = posted.json();
  for (let i = 0; i < 200 && (job.status === 'queued' || job.status === 'running'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    job = (await app.inject({ method: 'GET', url: `/v1/jobs/${String(job.id)}` })).json();
  }
  t.equal(job.status, 'done');
  // The job's record is readable once committed; the worker counts the delivery once the commit is on
  // disk (the outbox syncs it off the event loop), a moment later.
  const text = await scrapeOnce(app, 'telesante_deliveries_total', { kind: 'offer-import', outcome: 'delivered' });
  t.equal(sample(text, 'telesante_import_lines_total', { outcome: 'imported' }), 5);
  t.equal(sample(text, 'telesante_import_lines_total', { outcome: 'rejected' }), 1);
  t.equal(sample(text, 'telesante_import_jobs_running'), 0, 'none running once it is done');
  t.equal(sample(text, 'telesante_deliveries_total', { kind: 'offer-import', outcome: 'delivered' }), 1);
});

t.test('with authentication on, /metrics needs the scope metrics:read', async (t) => {
  const issuer = await testIssuer();
  const { app } = await testApp({}, new EmbeddedStore(), { auth: { issuer } });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  const other = await issuer.sign({ scope: 'acts:read deliveries:admin' });
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${other}` } })).statusCode, 403);
  const prometheus = await issuer.sign({ scope: 'metrics:read', client_id: 'prometheus' });
  const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${prometheus}` } });
  t.equal(ok.statusCode, 200);
  t.match(ok.body, /telesante_outbox_messages/);
});

t.test('METRICS_PORT: /metrics on a port of its own, without authentication, and not on the service port', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'telesante-metrics-'));
  const issuer = await testIssuer();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
      FHIR_BASE_URL: '',
      DELIVERY_SQLITE_PATH: join(data, 'outbox.sqlite'),
      AUTH_JWKS_FILE: issuer.jwksFile,
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening in time:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] && output.includes('metrics (Prometheus) served')) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  t.equal((await fetch(`${address}/health`)).status, 200);
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  t.equal(metrics.status, 200, 'no credentials needed on the metrics port');
  const text = await metrics.text();
  t.equal(sample(text, 'http_request_duration_seconds_count', { route: '/health', status_code: '200' }), 1, 'the request to the service port is counted');
  t.equal((await fetch(`${address}/metrics`)).status, 404, 'not on the service port');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'the metrics server closes with the service');
});
