// docker/hapi/hapi.sh as `npm test` and `npm run hapi:start` meet it: several callers at once, a caller
// holding pipes, a second start while the server runs. The real script runs in a copy of the repository
// layout where `java` and `psql` are stand-ins on PATH (a small HTTP server answering /fhir/metadata, a psql
// that says yes), so that what is tested is the script's own process handling, in seconds, without a JVM.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const LAUNCHER = 'docker/hapi/hapi.sh';
// Generous: the machine may be loaded; a launcher that hangs on a lock or a pipe never closes at all.
const PATIENCE_MS = 120_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A repository skeleton holding the real launcher, an up-to-date jar and stand-ins for java and psql. */
function sandbox(): { root: string; bin: string } {
  const root = mkdtempSync(join(tmpdir(), 'hapi-launcher-'));
  const hapi = join(root, 'docker/hapi');
  mkdirSync(join(hapi, 'target'), { recursive: true });
  copyFileSync(LAUNCHER, join(hapi, 'hapi.sh'));
  writeFileSync(join(hapi, 'pom.xml'), '<project/>\n');
  writeFileSync(join(hapi, 'target/telesante-hapi.jar'), '');
  const past = new Date(Date.now() - 60_000);
  utimesSync(join(hapi, 'pom.xml'), past, past);
  const bin = join(root, 'bin');
  mkdirSync(bin);
  // The server answers after a second, as HAPI answers after its start-up: callers arriving meanwhile
  // must wait for it, not start a second one.
  writeFileSync(
    join(bin, 'fake-hapi.mjs'),
    `import { createServer } from 'node:http';
const port = Number(process.argv.find((a) => a.startsWith('--server.port=')).split('=')[1]);
setTimeout(() => createServer((req, res) => {
  res.setHeader('content-type', 'application/fhir+json');
  res.end(JSON.stringify({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' }));
}).listen(port, '127.0.0.1'), 1000);
`,
  );
  writeFileSync(join(bin, 'java'), `#!/bin/sh\nexec "${process.execPath}" "${join(bin, 'fake-hapi.mjs')}" "$@"\n`);
  writeFileSync(join(bin, 'psql'), '#!/bin/sh\necho 1\n');
  chmodSync(join(bin, 'java'), 0o755);
  chmodSync(join(bin, 'psql'), 0o755);
  return { root, bin };
}

interface Run {
  readonly status: number | null;
  readonly out: string;
}

/**
 * Runs the launcher with two more pipes than stdio (fd 3, and fd 11, which a POSIX shell cannot even
 * name) and resolves when the process has exited AND every pipe it was given is closed: a server that
 * inherited one of them keeps this from resolving, as it kept `npm test` from ending.
 */
function launcher(sandboxed: { root: string; bin: string }, port: number, command: string): Promise<Run> {
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe', 'pipe', ...Array<'ignore'>(7).fill('ignore'), 'pipe'];
  const child = spawn('sh', [join(sandboxed.root, 'docker/hapi/hapi.sh'), command], {
    stdio,
    env: { ...process.env, PATH: `${sandboxed.bin}:${process.env.PATH ?? ''}`, HAPI_PORT: String(port), HAPI_START_TIMEOUT: '60' },
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hapi.sh ${command} did not end (or left a pipe open) within ${PATIENCE_MS} ms: ${out}`)), PATIENCE_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

function descriptorsOf(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

/** Runs, zombies excepted (an exited process its parent has not reaped yet). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

t.test('parallel starts all get the one server, which holds no descriptor of its callers; a second start returns at once; stop ends it', { skip: !existsSync('/proc/self/fd') && 'needs /proc' }, async (t) => {
  const box = sandbox();
  const port = await freePort();
  let pid = 0;
  t.teardown(() => {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(box.root, { recursive: true, force: true });
  });

  const parallel = await Promise.all([1, 2, 3].map(() => launcher(box, port, 'start')));
  t.same(parallel.map((run) => run.status), [0, 0, 0], parallel.map((run) => run.out).join('\n'));
  t.equal(parallel.filter((run) => /started in/.test(run.out)).length, 1, 'one server started');
  t.equal(parallel.filter((run) => /already running/.test(run.out)).length, 2, 'the others found it running');

  pid = Number(readFileSync(join(box.root, `.hapi/hapi-${port}.pid`), 'utf8'));
  t.ok(alive(pid), 'the server runs after its launchers ended');
  const held = descriptorsOf(pid);
  t.notOk(held.some((link) => link.endsWith('start.lock')), `no descriptor on .hapi/start.lock: ${held.join(', ')}`);
  t.equal(readlinkSync(`/proc/${pid}/fd/0`), '/dev/null', 'stdin is /dev/null');
  t.equal(readlinkSync(`/proc/${pid}/fd/1`), join(box.root, `.hapi/hapi-${port}.log`), 'output goes to its log');
  const session = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[3];
  t.equal(Number(session), pid, 'runs in a session of its own');

  for (const attempt of [1, 2]) {
    const again = await launcher(box, port, 'start');
    t.equal(again.status, 0, `start #${attempt} while running: ${again.out}`);
    t.match(again.out, new RegExp(`already running \\(pid ${pid}\\)`));
  }

  const stopped = await launcher(box, port, 'stop');
  t.equal(stopped.status, 0, stopped.out);
  t.notOk(alive(pid), 'stop ended the server');
  const status = await launcher(box, port, 'status');
  t.equal(status.status, 1);
  t.match(status.out, /not running/);
});
