// The real HAPI that the launcher started for this run (as `npm test` on a fresh machine, and CI, get it):
// a second `hapi:start` returns at once, and the Java process holds neither the start lock nor the
// standard input of whoever started it. (test/unit/hapi-launcher.test.ts tests the same script's process
// handling with a stand-in server, on every run.)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import t from 'tap';
import { hapiBaseUrl, hapiSource, launcherPort } from '../support/hapi.ts';

const baseUrl = await hapiBaseUrl();
const source = await hapiSource();
const pidfile = `.hapi/hapi${launcherPort === '8080' ? '' : `-${launcherPort}`}.pid`;
const ours = source === 'launcher' && existsSync(pidfile);
const PATIENCE_MS = 120_000;

function start(): Promise<{ status: number | null; out: string }> {
  const child = spawn('sh', ['docker/hapi/hapi.sh', 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hapi.sh start did not end within ${PATIENCE_MS} ms: ${out}`)), PATIENCE_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

const why =
  baseUrl === undefined
    ? 'no HAPI'
    : source !== 'launcher'
      ? `HAPI came from ${source}, not from the launcher`
      : `the server on port ${launcherPort} was not started by this checkout's launcher (no ${pidfile})`;

t.test('a second start while HAPI runs returns at once; Java holds no descriptor of its starter', { skip: !ours && why }, async (t) => {
  const pid = Number(readFileSync(pidfile, 'utf8'));
  for (const attempt of [1, 2]) {
    const again = await start();
    t.equal(again.status, 0, `start #${attempt}: ${again.out}`);
    t.match(again.out, new RegExp(`already running \\(pid ${pid}\\)`));
  }
  const held = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  t.notOk(held.some((link) => link.endsWith('.hapi/start.lock')), `no descriptor on .hapi/start.lock: ${held.join(', ')}`);
  t.equal(readlinkSync(`/proc/${pid}/fd/0`), '/dev/null', 'stdin is /dev/null');
  const answer = await fetch(`${baseUrl}/metadata`, { headers: { accept: 'application/fhir+json' } });
  t.equal(answer.status, 200, 'and it still answers');
});
