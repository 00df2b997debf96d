// The outbox against direct writes, on a real HAPI (FHIR_BASE_URL, default http://127.0.0.1:8080/fhir):
//   sh scripts/node.sh bench/delivery.ts [acts per measure, default 300]
// 1. baseline: direct writes, as before the outbox (map, validate, one HAPI transaction; 8 at a time);
// 2. acts per second accepted into the outbox (202) while HAPI is unreachable (a closed TCP proxy);
// 3. the drain rate once HAPI is back (the proxy opens).
// Every act is new (fresh source per run), so that each measure writes as much as the others.
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, setGlobalDispatcher } from 'undici';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { asStored, HapiStore } from '../src/fhir/index.ts';
import { createValidator } from '../src/fhir/validation/index.ts';
import { toActBundle } from '../src/mapping/index.ts';
import type { Act } from '../src/model/act.ts';

const N = Number(process.argv[2] ?? 300);
const CONCURRENCY = 8;
const hapiUrl = new URL(process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir');
setGlobalDispatcher(new Agent({ connections: 16, keepAliveTimeout: 30_000 }));

const template = JSON.parse(readFileSync(new URL('../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const actOf = (label: string, n: number): Act => ({
  ...template,
  source: `https://bench-${label}-${run}.example.fr`,
  actId: `TC-${n}`,
  patient: { ...template.patient, ipp: { system: template.patient.ipp.system, value: `IPP-${label}-${run}-${n}` } },
});

async function pool(count: number, task: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) await task(next++);
  }));
}

let proxyServer: Server | undefined;
const sockets = new Set<Socket>();
const proxyPort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const address = probe.address();
    probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
  });
});
async function openProxy(): Promise<void> {
  proxyServer = createServer((client) => {
    const upstream = connect(Number(hapiUrl.port), hapiUrl.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxyServer?.listen(proxyPort, '127.0.0.1', resolve));
}

const validator = await createValidator();
const rate = (count: number, ms: number): string => `${(count / (ms / 1000)).toFixed(1).padStart(7)} acts/s  (${count} acts in ${(ms / 1000).toFixed(1)} s)`;

// Warm-up, so that the shared directory entries exist and HAPI's caches are warm.
const direct = new HapiStore({ baseUrl: hapiUrl.toString().replace(/\/$/, ''), timeoutMs: 60_000, retries: 2 });
async function writeDirect(act: Act): Promise<void> {
  const now = new Date();
  const { bundle } = toActBundle(act, { receivedAt: now.toISOString(), allowTestIdentities: false });
  validator.assertValid(asStored(bundle, now));
  await direct.transaction(bundle);
}
for (let n = 0; n < 10; n++) await writeDirect(actOf('warm', n));

let t0 = performance.now();
await pool(N, (n) => writeDirect(actOf('direct', n)));
const directMs = performance.now() - t0;

const dir = mkdtempSync(join(tmpdir(), 'bench-outbox-'));
const config = loadConfig({ FHIR_BASE_URL: `http://127.0.0.1:${proxyPort}${hapiUrl.pathname}`, LOG_LEVEL: 'silent', DELIVERY_SQLITE_PATH: join(dir, 'outbox.sqlite'), DELIVERY_WAIT_MS: '0', DELIVERY_BREAKER_COOLDOWN_MS: '500', DELIVERY_MAX_BACKOFF_MS: '1000', FHIR_RETRIES: '0' });
const app = await buildApp(config, { validator });
await app.ready();
t0 = performance.now();
let accepted = 0;
await pool(N, async (n) => {
  const answer = await app.inject({ method: 'POST', url: '/v1/acts', payload: actOf('outbox', n) });
  if (answer.statusCode !== 202) throw new Error(`expected 202, got ${answer.statusCode}: ${answer.body.slice(0, 200)}`);
  accepted++;
});
const acceptMs = performance.now() - t0;

await openProxy();
t0 = performance.now();
for (;;) {
  const { total } = await app.deliveries.list('pending', 1);
  if (total === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const drainMs = performance.now() - t0;
const dead = (await app.deliveries.list('dead', 1)).total;
await app.close();
for (const socket of sockets) socket.destroy();
proxyServer?.close();
rmSync(dir, { recursive: true, force: true });

console.log(`delivery bench: ${N} new acts per measure, ${CONCURRENCY} at a time, HAPI at ${hapiUrl}`);
console.log(`baseline  direct writes to HAPI (map, validate, transaction)   ${rate(N, directMs)}`);
console.log(`outbox    accepted (202) while HAPI is unreachable               ${rate(accepted, acceptMs)}   ×${(directMs / acceptMs).toFixed(1)} the baseline`);
console.log(`outbox    drained once HAPI is back (DELIVERY_CONCURRENCY=${config.deliveryConcurrency})        ${rate(N, drainMs)}   ×${(directMs / drainMs).toFixed(2)} the baseline${dead > 0 ? `; ${dead} DEAD` : ''}`);
process.exit(0);
