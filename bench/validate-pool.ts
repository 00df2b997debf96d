// `POST /v1/$validate` off the event loop (issue 16, D5): the service runs as a separate process; /health
// is timed alone (the baseline), then again while four large validations run at once. Before the pool a
// 4.6 MB Bundle held the whole process 14 s. Prints the figures and the ratio; asserts nothing.
//
//   sh scripts/node.sh bench/validate-pool.ts [entries=9000] [probes=200]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';

const ENTRIES = Number(process.argv[2] ?? 9_000);
const PROBES = Number(process.argv[3] ?? 200);
const PORT = 3900 + Math.floor(Math.random() * 90);
const base = `http://127.0.0.1:${PORT}`;
// The service's default pool (one worker less than the cores) unless VALIDATE_WORKERS says otherwise.
const WORKERS = loadConfig({ VALIDATE_WORKERS: process.env.VALIDATE_WORKERS }).validateWorkers;
const dir = mkdtempSync(join(tmpdir(), 'bench-validate-pool-'));

/** A collection Bundle of Patients (one in seven with a wrong gender code), about 190 bytes an entry. */
function bundleOf(count: number): string {
  const entry = Array.from({ length: count }, (_, i) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resource: { resourceType: 'Patient', gender: i % 7 === 0 ? 'femelle' : 'female', birthDate: '1970-01-01', name: [{ family: `Nom${i}`, given: ['Prénom'] }] },
  }));
  return JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry });
}

const service = spawn(process.execPath, ['src/main.ts'], {
  env: { ...process.env, PORT: String(PORT), LOG_LEVEL: 'warn', DELIVERY_SQLITE_PATH: join(dir, 'outbox.sqlite'), FHIR_BASE_URL: '', AUTH_MODE: 'none', VALIDATE_QUEUE: '4', VALIDATE_TIMEOUT_MS: '120000', VALIDATE_MAX_BYTES: String(4 * 1024 * 1024) },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const stop = (): void => {
  service.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', stop);

async function health(): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/health`);
  await response.arrayBuffer();
  return performance.now() - started;
}

function summary(samples: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}
const ms = (value: number): string => `${value.toFixed(1)} ms`;

for (let i = 0; ; i++) {
  try {
    await health();
    break;
  } catch {
    if (i > 600) throw new Error('the service did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const validate = async (body: string): Promise<{ status: number; ms: number }> => {
  const started = performance.now();
  const response = await fetch(`${base}/v1/$validate`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
};
// Warm up: the workers start on first use; one small document a worker starts them all.
await Promise.all(Array.from({ length: WORKERS }, () => validate('{"resourceType":"Patient"}')));
for (let i = 0; i < 20; i++) await health();

const baseline: number[] = [];
for (let i = 0; i < PROBES; i++) baseline.push(await health());

const large = bundleOf(ENTRIES);
let running = true;
const during: number[] = [];
const started = performance.now();
const validations = Promise.all([validate(large), validate(large), validate(large), validate(large)]).then((results) => {
  running = false;
  return results;
});
while (running) {
  during.push(await health());
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const results = await validations;
const wall = performance.now() - started;

const alone = summary(baseline);
const loaded = summary(during);
// What the machine was doing is read, not assumed: the load average over the last minute, at the end.
console.log(`machine: load average ${loadavg()[0]?.toFixed(2) ?? '?'} over the last minute, ${cpus().length} cores${process.env.BENCH_NOTE ? ` (${process.env.BENCH_NOTE})` : ''}`);
console.log(`four validations of a ${(large.length / 1024 / 1024).toFixed(2)} MB Bundle (${ENTRIES} entries), ${WORKERS} worker(s): statuses ${results.map((r) => r.status).join(', ')}, each ${results.map((r) => (r.ms / 1000).toFixed(1)).join(' s, ')} s, all in ${(wall / 1000).toFixed(1)} s`);
console.log(`/health alone (baseline, ${baseline.length} probes): p50 ${ms(alone.p50)}, p99 ${ms(alone.p99)}, max ${ms(alone.max)}`);
console.log(`/health during the validations (${during.length} probes): p50 ${ms(loaded.p50)}, p99 ${ms(loaded.p99)}, max ${ms(loaded.max)}`);
console.log(`ratio during/alone: p50 ${(loaded.p50 / alone.p50).toFixed(2)}x, max ${(loaded.max / alone.max).toFixed(2)}x; worst /health during the validations ${loaded.max < 100 ? 'under' : 'OVER'} 100 ms`);
stop();
process.exit(0);
