// Nothing accepted is lost, nothing is written twice: the service as a real process (scripts/node.sh
// src/main.ts) against a real HAPI, behind a TCP proxy that this test opens and closes to "stop HAPI"
// without touching the shared server. Counts (the issue's figures by default) can be lowered:
//   FAULT_ACTS_DOWN (200): acts posted while HAPI is unreachable;
//   FAULT_ACTS_KILL (500): acts posted to a service killed with SIGKILL while it delivers them.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Encounter } from '@medplum/fhirtypes';
import t from 'tap';
import type { Test } from 'tap';
import { loadConformance } from '../../scripts/load-conformance.ts';
import type { Act } from '../../src/model/act.ts';
import { tempOutboxPath } from '../support/app.ts';
import { hapiBaseUrl, loadConformanceOnce, runId } from '../support/hapi.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ACTS_DOWN = Number(process.env.FAULT_ACTS_DOWN ?? 200);
const ACTS_KILL = Number(process.env.FAULT_ACTS_KILL ?? 500);
const template = JSON.parse(readFileSync(join(root, 'examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json'), 'utf8')) as Act;

const baseUrl = await hapiBaseUrl();

/** A TCP proxy in front of HAPI: close() refuses every connection (and cuts the open ones), open() lets them through again. */
class Proxy {
  readonly port: number;
  readonly #target: URL;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(port: number, target: URL) {
    this.port = port;
    this.#target = target;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.#target.port), this.#target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

interface Service {
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

async function startService(env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const child = spawn('sh', ['scripts/node.sh', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await until('the service to answer', async () => ((await fetch(`${url}/health`)).ok ? true : undefined), 60_000);
  return { url, child, exited, stderr: () => stderr };
}

function actOf(source: string, n: number, ipp?: string): Act {
  return { ...template, source, actId: `TC-${n}`, patient: { ...template.patient, ipp: { system: template.patient.ipp.system, value: ipp ?? `IPP-${new URL(source).hostname.split('.')[0]}-${n}` } } };
}

async function post(service: Service, act: Act): Promise<{ status: number; location: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}/v1/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(act) });
  return { status: response.status, location: response.headers.get('location'), body: (await response.json()) as Record<string, unknown> };
}

/** Posts acts n = from…to-1, ten at a time; answers their statuses. */
async function postAll(service: Service, source: string, from: number, to: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let n = from; n < to; n += 10) {
    const batch = Array.from({ length: Math.min(10, to - n) }, (_, i) => post(service, actOf(source, n + i)));
    statuses.push(...(await Promise.all(batch)).map((answer) => answer.status));
  }
  return statuses;
}

async function total(service: Service, status: 'pending' | 'dead' | 'delivered'): Promise<number> {
  const response = await fetch(`${service.url}/v1/deliveries?status=${status}&limit=1`);
  return ((await response.json()) as { total: number }).total;
}

async function hapi(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${baseUrl}/${path}`, { ...init, headers: { accept: 'application/fhir+json', 'content-type': 'application/fhir+json', 'cache-control': 'no-cache', ...(init.headers ?? {}) } });
}

/** Every Encounter HAPI holds for this source, as actIds (one per resource: a double shows twice). */
async function encounterActIds(source: string): Promise<string[]> {
  const ids: string[] = [];
  let next: string | undefined = `Encounter?identifier=${encodeURIComponent(`${source}|`)}&_count=500&_elements=identifier`;
  while (next !== undefined) {
    const bundle = (await (await hapi(next)).json()) as Bundle<Encounter>;
    for (const entry of bundle.entry ?? []) {
      const value = entry.resource?.identifier?.find((identifier) => identifier.system === source)?.value;
      if (value !== undefined) ids.push(value);
    }
    const link = bundle.link?.find((l) => l.relation === 'next')?.url;
    next = link === undefined ? undefined : link.slice(link.indexOf('/fhir/') + '/fhir/'.length);
  }
  return ids;
}

async function provenanceCount(source: string): Promise<number> {
  const bundle = (await (await hapi(`Provenance?target:Encounter.identifier=${encodeURIComponent(`${source}|`)}&_summary=count`)).json()) as Bundle;
  return bundle.total ?? -1;
}

async function exactlyOnce(t: Test, source: string, count: number): Promise<void> {
  const ids = await encounterActIds(source);
  t.equal(ids.length, count, `${count} Encounters on HAPI: none lost, none doubled`);
  t.equal(new Set(ids).size, count, 'each act once');
  t.equal(await provenanceCount(source), count, 'one Provenance per act');
}

if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  await loadConformanceOnce(() => loadConformance(baseUrl));
  const target = new URL(baseUrl);
  const proxy = new Proxy(await freePort(), target);
  await proxy.open();
  t.teardown(() => proxy.close());
  const fhirBaseUrl = `http://127.0.0.1:${proxy.port}${target.pathname}`;
  const common = { FHIR_BASE_URL: fhirBaseUrl, FHIR_RETRIES: '1', DELIVERY_BREAKER_COOLDOWN_MS: '1000', DELIVERY_MAX_BACKOFF_MS: '2000', DELIVERY_BACKOFF_MS: '200' };
  const services: Service[] = [];
  t.teardown(async () => {
    for (const service of services) if (service.child.exitCode === null) service.child.kill('SIGKILL');
  });

  t.test(`HAPI unreachable: ${ACTS_DOWN} acts accepted (202), all delivered exactly once when it is back`, async (t) => {
    const source = `https://dpi-down-${runId()}.example.fr`;
    const service = await startService({ ...common, DELIVERY_SQLITE_PATH: tempOutboxPath(), DELIVERY_WAIT_MS: '2000' });
    services.push(service);
    // One act first with HAPI up: the shared directory entries (Practitioner, Organization) exist before the rush.
    t.equal((await post(service, actOf(source, 0))).status, 201, 'HAPI up: 201 within the wait');
    await proxy.close();
    const statuses = await postAll(service, source, 1, ACTS_DOWN + 1);
    t.same([...new Set(statuses)], [202], `HAPI down: all ${ACTS_DOWN} answered 202`);
    t.equal(await total(service, 'pending'), ACTS_DOWN, 'all pending in the outbox');
    await sleep(1_500);
    await proxy.open();
    const started = Date.now();
    await until('the outbox to drain', async () => ((await total(service, 'pending')) === 0 ? true : undefined), 150_000);
    t.comment(`drained ${ACTS_DOWN} acts in ${((Date.now() - started) / 1000).toFixed(1)} s once HAPI was back`);
    t.equal(await total(service, 'dead'), 0, 'no dead letter');
    await exactlyOnce(t, source, ACTS_DOWN + 1);
    service.child.kill('SIGTERM');
    t.equal(await service.exited, 0, 'SIGTERM: the service stops cleanly');
  });

  t.test(`SIGKILL while delivering ${ACTS_KILL} acts, then a restart: none lost, none doubled`, async (t) => {
    const source = `https://dpi-kill-${runId()}.example.fr`;
    const outbox = tempOutboxPath();
    const env = { ...common, DELIVERY_SQLITE_PATH: outbox, DELIVERY_WAIT_MS: '0', DELIVERY_CONCURRENCY: '4' };
    const first = await startService(env);
    services.push(first);
    t.equal((await post(first, actOf(source, 0))).status, 202, 'DELIVERY_WAIT_MS=0: 202 at once');
    await until('the first act', async () => ((await total(first, 'pending')) === 0 ? true : undefined), 30_000);
    const statuses = await postAll(first, source, 1, ACTS_KILL);
    t.same([...new Set(statuses)], [202], `all ${ACTS_KILL} accepted`);
    const delivered = await until('some deliveries', async () => {
      const done = await total(first, 'delivered');
      return done >= ACTS_KILL / 4 ? done : undefined;
    }, 120_000);
    const pending = await total(first, 'pending');
    first.child.kill('SIGKILL');
    await first.exited;
    t.ok(pending > 0, `killed with SIGKILL while delivering: ${delivered} delivered, ${pending} pending`);
    const second = await startService(env);
    services.push(second);
    await until('the outbox to drain after the restart', async () => ((await total(second, 'pending')) === 0 ? true : undefined), 150_000);
    t.equal(await total(second, 'delivered'), ACTS_KILL, 'every accepted act delivered');
    t.equal(await total(second, 'dead'), 0, 'no dead letter');
    await exactlyOnce(t, source, ACTS_KILL);
    second.child.kill('SIGTERM');
    t.equal(await second.exited, 0);
  });

  t.test('a message HAPI rejects goes to the dead letters without holding back the others; replayed once fixed, it is delivered', async (t) => {
    const run = runId();
    const source = `https://dpi-dead-${run}.example.fr`;
    const service = await startService({ ...common, DELIVERY_SQLITE_PATH: tempOutboxPath(), DELIVERY_WAIT_MS: '10000' });
    services.push(service);
    t.equal((await post(service, actOf(source, 0))).status, 201);
    // The cause: two Patients on HAPI carry the IPP the act names, so its conditional update matches
    // two resources and HAPI refuses the transaction (412, HAPI-0958).
    const ipp = `IPP-dup-${run}`;
    const patientIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const created = await hapi('Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: template.patient.ipp.system, value: ipp }], name: [{ family: 'DOUBLON' }] }) });
      patientIds.push(((await created.json()) as { id: string }).id);
    }
    const rejected = await post(service, actOf(source, 1, ipp));
    t.equal(rejected.status, 409, 'refused within the wait, with the status of the FHIR error');
    t.match(JSON.stringify(rejected.body), /HAPI-0958|multiple|plusieurs/i, "HAPI's diagnostics are in the answer");
    t.match(rejected.location, /^\/v1\/deliveries\//, 'the answer names the dead letter');
    const others = await Promise.all([2, 3, 4, 5].map((n) => post(service, actOf(source, n))));
    t.same(others.map((answer) => answer.status), [201, 201, 201, 201], 'the other acts are not held back');
    const dead = (await (await fetch(`${service.url}/v1/deliveries?status=dead`)).json()) as { total: number; deliveries: { id: string; lastError: { status: number; serverOutcome?: unknown } }[] };
    t.equal(dead.total, 1);
    t.equal(`/v1/deliveries/${dead.deliveries[0]?.id}`, rejected.location);
    t.ok(dead.deliveries[0]?.lastError.serverOutcome, "the dead letter keeps HAPI's OperationOutcome");
    // The fix: the duplicate goes; then the replay.
    t.equal((await hapi(`Patient/${patientIds[1]}`, { method: 'DELETE' })).ok, true);
    const replay = await fetch(`${service.url}${rejected.location}/$replay`, { method: 'POST' });
    t.equal(replay.status, 202);
    const state = await until('the replayed delivery', async () => {
      const view = (await (await fetch(`${service.url}${rejected.location}`)).json()) as { status: string; attempts: number };
      return view.status === 'pending' ? undefined : view;
    }, 60_000);
    t.equal(state.status, 'delivered', 'replayed after the fix: delivered');
    t.equal(state.attempts, 2);
    await exactlyOnce(t, source, 6);
    service.child.kill('SIGTERM');
    t.equal(await service.exited, 0);
  });
}
