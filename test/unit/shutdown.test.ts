import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

// The service as a real process: it starts on the embedded store, answers, and on SIGTERM stops
// accepting, finishes, and exits 0.
t.test('SIGTERM stops the service cleanly', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'telesante-shutdown-'));
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', FHIR_BASE_URL: '', DELIVERY_SQLITE_PATH: join(data, 'outbox.sqlite') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in time:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const health = await fetch(`${address}/health`);
  t.equal(health.status, 200);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0');
  t.match(output, /"msg":"stopped"/);
  await t.rejects(fetch(`${address}/health`), 'no longer listening');
});
