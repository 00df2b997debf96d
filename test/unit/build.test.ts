// `npm run build` gives a dist/ that runs: the build (scripts/build.ts, what the npm script runs) into a
// fresh folder beside src/, then `node <folder>/main.js` on the embedded store answers /ready, serves the
// pages and names the regions (read from the geography CSV by path): the files read at run time were copied.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { assetsOf, build } from '../../scripts/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('the build copies the run-time files and the built service answers', async (t) => {
  // A child of the repository, as dist/ is (the service finds profiles/ and node_modules/ above it).
  const out = mkdtempSync(join(ROOT, '.build-test-'));
  const data = mkdtempSync(join(tmpdir(), 'telesante-build-'));
  t.teardown(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });
  const copied = build(out);
  t.ok(copied.includes(join('indicators', 'departements-regions.csv')), 'the geography CSV');
  t.ok(copied.includes(join('api', 'dashboard', 'index.html')), 'the dashboard page');
  t.same(copied, assetsOf(), 'every run-time file of src/');
  for (const file of copied) t.ok(existsSync(join(out, file)), `${file} in the build`);

  const child = spawn(process.execPath, [join(out, 'main.js')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', FHIR_BASE_URL: '', DELIVERY_SQLITE_PATH: join(data, 'outbox.sqlite') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the built service did not listen in time:\n${output}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`the built service exited (${code}):\n${output}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  t.equal((await fetch(`${address}/ready`)).status, 200, '/ready');
  for (const page of ['/dashboard', '/deliveries']) t.equal((await fetch(`${address}${page}`)).status, 200, page);
  const regions = (await (await fetch(`${address}/v1/indicators?groupBy=region&from=2025-01-01&to=2026-01-01`)).json()) as { groupBy: string };
  t.equal(regions.groupBy, 'region', 'indicators by region, with the geography read at start');
});
