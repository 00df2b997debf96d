// New acts over HTTP to the service, against the raw ceiling of the same FHIR server, in one run:
//   FHIR_BASE_URL=http://127.0.0.1:8080/fhir sh scripts/node.sh bench/acts.ts [--acts 1:40,8:160,32:320] [--rounds 2] [--pg]
// - raw: each act's transaction Bundle (toActBundle, built before the clock) posted straight to HAPI,
//   one act per transaction, by 1, 8 and 32 clients;
// - service: `POST /v1/acts` to the service started as a separate process (npm start's entry, SQLite
//   outbox, no authentication, no rate limit), by the same numbers of clients, every act new;
// - with --pg: one, then two instances on one PostgreSQL outbox (a database of its own, dropped after),
//   32 clients spread over them (the two share the batch flights one keeps: DeliveryService); afterwards
//   the Encounters are counted on HAPI by identifier: none lost, none doubled.
// Each act is example 01 with a fresh source, act id and IPP. Prints acts/s, p50, p99 and the ratios,
// and whether the issue's targets are met. Timings depend on the machine: run it on a quiet one.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Bundle } from '@medplum/fhirtypes';
import pg from 'pg';
import { Agent, request } from 'undici';
import { toActBundle } from '../src/mapping/index.ts';
import { analyzeLocalHapi } from './local-hapi.ts';
import type { Act } from '../src/model/act.ts';

const { values: args } = parseArgs({
  options: {
    acts: { type: 'string', default: '1:40,8:160,32:320' },
    rounds: { type: 'string', default: '2' },
    pg: { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
  },
});
const PLAN = args.acts.split(',').map((pair) => {
  const [clients, acts] = pair.split(':').map(Number);
  return { clients: clients as number, acts: acts as number };
});
const ROUNDS = Number(args.rounds);
const hapi = (process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir').replace(/\/$/, '');
const PG_ADMIN = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const root = new URL('..', import.meta.url).pathname;
const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 30_000, pipelining: 1 });

const template = JSON.parse(readFileSync(new URL('../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
let serial = 0;
function freshAct(label: string): Act {
  const n = serial++;
  return {
    ...template,
    source: `https://bench-${label}-${run}.example.fr`,
    actId: `TC-${n}`,
    patient: { ...template.patient, ipp: { system: template.patient.ipp.system, value: `IPP-${run}-${n}` } },
  };
}

interface Measure {
  readonly count: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly statuses: Map<number, number>;
  /** CPU milliseconds per act of each side over the measure. */
  readonly cpu: Cpu;
}

const perSecond = (m: Measure): number => m.count / m.seconds;

// CPU time, read from /proc: what each side costs per act whatever else runs on the machine (wall-clock
// ratios move with the load; CPU per act much less). HAPI is the java process whose command line names
// HAPI; PostgreSQL the postmaster with its children, live (utime + stime) and ended (its cutime + cstime).
const TICK_MS = 10; // CLK_TCK is 100 on Linux
function cpuMsOf(pid: number, withEndedChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const own = (fields[11] ?? 0) + (fields[12] ?? 0);
    return (withEndedChildren ? own + (fields[13] ?? 0) + (fields[14] ?? 0) : own) * TICK_MS;
  } catch {
    return 0;
  }
}
function pidsWhere(match: (comm: string, cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (match(comm, cmdline)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
interface Cpu {
  readonly hapi: number;
  readonly postgres: number;
  readonly service: number;
}
function postgresCpuMs(): number {
  const pids = pidsWhere((comm) => comm === 'postgres');
  const parentOf = (pid: number): number => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return 0;
    }
  };
  const all = new Set(pids);
  // The postmaster: the postgres process whose parent is not one.
  return pids.reduce((total, pid) => total + cpuMsOf(pid, !all.has(parentOf(pid))), 0);
}
let servicePids: number[] = [];
function cpuNow(): Cpu {
  const sum = (pids: number[]) => pids.reduce((total, pid) => total + cpuMsOf(pid), 0);
  return {
    hapi: sum(pidsWhere((comm, cmdline) => comm === 'java' && /hapi/i.test(cmdline))),
    postgres: postgresCpuMs(),
    service: sum(servicePids),
  };
}
const cpuPerAct = (before: Cpu, after: Cpu, count: number): Cpu => ({
  hapi: (after.hapi - before.hapi) / count,
  postgres: (after.postgres - before.postgres) / count,
  service: (after.service - before.service) / count,
});
function percentile(m: Measure, p: number): number {
  const sorted = [...m.latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** `count` tasks by `clients` clients at once; the latency of each and the wall time of all. */
async function measure(count: number, clients: number, task: (n: number) => Promise<number>): Promise<Measure> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const cpuBefore = cpuNow();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const n = next++;
        const t0 = performance.now();
        const status = await task(n);
        latencies.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { count, seconds, latencies, statuses, cpu: cpuPerAct(cpuBefore, cpuNow(), count) };
}

async function post(url: string, body: string, contentType: string): Promise<number> {
  const answer = await request(url, { method: 'POST', body, headers: { 'content-type': contentType }, dispatcher });
  await answer.body.dump();
  return answer.statusCode;
}

/** Raw: pre-built Bundles straight to HAPI, one act per transaction. */
async function raw(count: number, clients: number): Promise<Measure> {
  const receivedAt = new Date().toISOString();
  const bundles = Array.from({ length: count }, () => JSON.stringify(toActBundle(freshAct('raw'), { receivedAt, allowTestIdentities: true }).bundle));
  return measure(count, clients, (n) => post(hapi, bundles[n] as string, 'application/fhir+json'));
}

/** Service: POST /v1/acts to the given instances, round robin. */
async function service(count: number, clients: number, bases: readonly string[], label = 'svc'): Promise<Measure & { acts: Act[] }> {
  const acts = Array.from({ length: count }, () => freshAct(label));
  const bodies = acts.map((act) => JSON.stringify(act));
  const m = await measure(count, clients, (n) => post(`${bases[n % bases.length] as string}/v1/acts`, bodies[n] as string, 'application/json'));
  return { ...m, acts };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Instance {
  readonly base: string;
  readonly child: ChildProcess;
}

/** The service as `npm start` runs it, in a process of its own. */
async function startService(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-semi-space-size=64', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      FHIR_BASE_URL: hapi,
      AUTH_MODE: 'none',
      RATE_LIMIT_PER_MINUTE: '0',
      ALLOW_TEST_IDENTITIES: 'true',
      LOG_LEVEL: 'warn',
      // Every answer waits for its delivery: a 201 means the act is in HAPI, as the raw client's 200.
      DELIVERY_WAIT_MS: '120000',
      ...(args['batch-size'] === undefined ? {} : { DELIVERY_BATCH_SIZE: args['batch-size'] }),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (child.pid !== undefined) servicePids = [...servicePids, child.pid];
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      const answer = await request(`${base}/ready`, { dispatcher });
      await answer.body.dump();
      if (answer.statusCode === 200) return { base, child };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the service did not get ready within 60 s');
}

async function stopService(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGTERM');
  await exited;
}

const fmt = (value: number, digits = 1): string => value.toFixed(digits);
function line(label: string, m: Measure): string {
  const others = [...m.statuses.entries()].filter(([status]) => status !== 200 && status !== 201).map(([status, n]) => `${n}×${status}`);
  const cpu = `CPU/act: HAPI ${fmt(m.cpu.hapi)} ms, PostgreSQL ${fmt(m.cpu.postgres)} ms, service ${fmt(m.cpu.service)} ms`;
  return `${label.padEnd(34)} ${fmt(perSecond(m)).padStart(7)} acts/s  p50 ${fmt(percentile(m, 50), 0).padStart(5)} ms  p99 ${fmt(percentile(m, 99), 0).padStart(5)} ms  ${cpu}${others.length > 0 ? `  (${others.join(', ')})` : ''}`;
}

/** Encounters on HAPI for the given acts: how many acts have none, how many have more than one. */
async function countEncounters(acts: readonly Act[]): Promise<{ lost: number; doubled: number }> {
  const source = acts[0]?.source ?? '';
  const seen = new Map<string, number>();
  let url: string | undefined = `${hapi}/Encounter?identifier=${encodeURIComponent(`${source}|`)}&_elements=identifier&_count=500`;
  while (url !== undefined) {
    const answer = await request(url, { dispatcher, headers: { accept: 'application/fhir+json' } });
    const page = (await answer.body.json()) as Bundle;
    for (const entry of page.entry ?? []) {
      const identifier = (entry.resource as { identifier?: { system?: string; value?: string }[] }).identifier?.find((i) => i.system === source);
      if (identifier?.value !== undefined) seen.set(identifier.value, (seen.get(identifier.value) ?? 0) + 1);
    }
    url = page.link?.find((link) => link.relation === 'next')?.url;
  }
  return { lost: acts.filter((act) => !seen.has(act.actId)).length, doubled: [...seen.values()].filter((n) => n > 1).length };
}

const outbox = mkdtempSync(join(tmpdir(), 'bench-acts-'));
const instances: Instance[] = [];
let pgDatabase: string | undefined;
try {
  console.log(`bench/acts: HAPI ${hapi}; ${PLAN.map((p) => `${p.clients} client(s) × ${p.acts} acts`).join(', ')}; ${ROUNDS} round(s)`);
  const one = await startService({ DELIVERY_SQLITE_PATH: join(outbox, 'outbox.sqlite') });
  instances.push(one);
  // Warm-up, untimed: the JIT of both sides, HAPI's caches, the directory entries every act shares.
  await raw(40, 8);
  await service(40, 8, [one.base], 'warm');
  // A local HAPI's statistics refreshed, untimed (local-hapi.ts): with those of an emptier database, the
  // service's reads of stored acts planned badly and cost PostgreSQL twice the CPU (seen 7 Dec: 8 clients
  // at 0.50-0.54x before ANALYZE, 0.64-0.67x after; 32 clients 0.81-0.85x before, 1.27-1.30x after),
  // while raw writes, which read nothing, did not change.
  analyzeLocalHapi(hapi);

  const results: { clients: number; raw: Measure[]; svc: Measure[] }[] = [];
  for (const { clients, acts } of PLAN) {
    const row = { clients, raw: [] as Measure[], svc: [] as Measure[] };
    for (let round = 1; round <= ROUNDS; round++) {
      const r = await raw(acts, clients);
      console.log(line(`raw     ${clients} client(s), round ${round}`, r));
      const s = await service(acts, clients, [one.base]);
      console.log(line(`service ${clients} client(s), round ${round}`, s));
      row.raw.push(r);
      row.svc.push(s);
    }
    results.push(row);
  }

  console.log('\nratios (service / raw, per round):');
  for (const { clients, raw: rs, svc } of results) {
    const parts = rs.map((r, i) => {
      const s = svc[i] as Measure;
      const throughput = perSecond(s) / perSecond(r);
      const p50 = percentile(s, 50) - percentile(r, 50);
      const p99 = percentile(s, 99) / percentile(r, 99);
      const met = clients === 1 ? p50 <= 20 : throughput >= 1 && p99 <= 1;
      return `throughput ${fmt(throughput, 2)}×, p50 ${p50 >= 0 ? '+' : ''}${fmt(p50, 0)} ms, p99 ${fmt(p99, 2)}× [${met ? 'target met' : 'target NOT met'}]`;
    });
    console.log(`  ${String(clients).padStart(2)} client(s): ${parts.join(' | ')}`);
  }
  await stopService(one);
  instances.pop();

  if (args.pg) {
    pgDatabase = `house_bench_${run}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pgDatabase}`);
    await admin.end();
    const url = new URL(PG_ADMIN);
    url.pathname = `/${pgDatabase}`;
    const clients = 32;
    const acts = PLAN.find((p) => p.clients === clients)?.acts ?? 320;
    const first = await startService({ DELIVERY_DATABASE_URL: url.toString() });
    instances.push(first);
    await service(40, 8, [first.base], 'pgwarm');
    const single = await service(acts, clients, [first.base], 'pg1');
    console.log(`\n${line(`PostgreSQL outbox, 1 instance, ${clients} clients`, single)}`);
    const second = await startService({ DELIVERY_DATABASE_URL: url.toString() });
    instances.push(second);
    await service(40, 8, [second.base], 'pgwarm2');
    const both = await service(acts, clients, [first.base, second.base], 'pg2');
    console.log(line(`PostgreSQL outbox, 2 instances, ${clients} clients`, both));
    // Whatever was answered 202 is delivered meanwhile: wait for the outbox to drain before counting.
    const check = new pg.Client({ connectionString: url.toString() });
    await check.connect();
    for (let i = 0; i < 600; i++) {
      const { rows } = await check.query<{ n: string }>("SELECT count(*) AS n FROM telesante_deliveries WHERE status = 'pending'");
      if (Number(rows[0]?.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await check.end();
    const counted = await countEncounters(both.acts);
    console.log(`  two instances: ${fmt(perSecond(both) / perSecond(single), 2)}× one instance; Encounters on HAPI for the ${both.acts.length} acts: ${counted.lost} lost, ${counted.doubled} doubled`);
  }
} finally {
  for (const instance of instances) await stopService(instance);
  rmSync(outbox, { recursive: true, force: true });
  if (pgDatabase !== undefined) {
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
    await admin.end();
  }
  await dispatcher.close();
}
