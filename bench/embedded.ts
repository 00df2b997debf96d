// The embedded store as it fills (issue 15): generated acts posted to the service on the embedded store,
// 8 at a time, as `npm start` without FHIR_BASE_URL receives them; the rate of each 1,000 is printed, and
// the last 1,000 against the first (the baseline, measured in the same run: target ≥ 80 %).
//   sh scripts/node.sh --max-semi-space-size=64 bench/embedded.ts [acts, default 20000] [per slice, default 1000]
// (the V8 flag npm start runs the service with: without it, this process would not be the service as run)
// In process (app.inject): no network between client and service, so what grows is the service's cost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createValidator } from '../src/fhir/validation/index.ts';
import { generateActs } from '../src/synthetic/index.ts';

if (!process.execArgv.some((flag) => flag.startsWith('--max-semi-space-size'))) {
  console.error('bench/embedded: run it as the service runs (sh scripts/node.sh --max-semi-space-size=64 bench/embedded.ts): without the flag, these are not its figures');
}
const TOTAL = Number(process.argv[2] ?? 20_000);
const SLICE = Number(process.argv[3] ?? 1_000);
const CONCURRENCY = 8;

const dir = mkdtempSync(join(tmpdir(), 'bench-embedded-'));
// ALLOW_TEST_IDENTITIES: the generated patients carry test INS. RATE_LIMIT_PER_MINUTE=0: the one in-process
// client would pass the per-client limit (600 a minute) within seconds, and 429s are not the store's cost.
const config = loadConfig({
  LOG_LEVEL: 'silent',
  DELIVERY_SQLITE_PATH: join(dir, 'outbox.sqlite'),
  DELIVERY_WAIT_MS: '120000',
  ALLOW_TEST_IDENTITIES: 'true',
  RATE_LIMIT_PER_MINUTE: '0',
});
const app = await buildApp(config, { validator: await createValidator() });
const acts = generateActs({ count: TOTAL, seed: 15, idPrefix: `EMB${Date.now().toString(36)}` });

const rates: number[] = [];
let posted = 0;
let failed = 0;
let sliceStart = performance.now();
let sliceDone = 0;
const started = performance.now();

async function worker(): Promise<void> {
  for (let next = acts.next(); !next.done; next = acts.next()) {
    const answer = await app.inject({ method: 'POST', url: '/v1/acts', payload: next.value });
    if (answer.statusCode !== 201 && answer.statusCode !== 200) {
      failed += 1;
      if (failed <= 3) console.error(`act refused: ${answer.statusCode} ${answer.body.slice(0, 300)}`);
    }
    posted += 1;
    sliceDone += 1;
    if (sliceDone === SLICE) {
      const now = performance.now();
      const rate = (SLICE / (now - sliceStart)) * 1000;
      rates.push(rate);
      console.log(`acts ${String(posted - SLICE + 1).padStart(6)}–${String(posted).padStart(6)}: ${rate.toFixed(1)} acts/s`);
      sliceStart = now;
      sliceDone = 0;
    }
  }
}

await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
const seconds = (performance.now() - started) / 1000;
await app.close();
rmSync(dir, { recursive: true, force: true });

const first = rates[0] ?? 0;
const last = rates.at(-1) ?? 0;
console.log(`${posted} acts in ${seconds.toFixed(1)} s (${(posted / seconds).toFixed(1)} acts/s), ${failed} refused`);
if (failed > 0) {
  // A refused act costs the service almost nothing: a run with refusals measures the wrong thing.
  console.error(`${failed} acts refused: this run says nothing of the store's cost as it fills`);
  process.exit(1);
}
console.log(`last ${SLICE} at ${last.toFixed(1)} acts/s against the first ${SLICE} at ${first.toFixed(1)}: ${((last / first) * 100).toFixed(0)} % (target ≥ 80 %)`);
