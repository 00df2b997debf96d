// `docker compose -f docker/compose.yml up`, proved without a Docker engine: the service is started on this
// machine exactly as its container would start, from what docker/compose.yml and docker/Dockerfile say —
// the image's files (the Dockerfile's COPY lines) under a root of its own, the image's environment (ENV)
// and compose's (NODE_ENV=production, AUTH_*), the bind-mounted key file, the named volume as a data folder
// owned as the image makes it, the image's user, the image's command — and it must answer /ready.
// Only what cannot be the same here differs, and says so: the port (a free one), the address (loopback),
// FHIR_BASE_URL (the test's HAPI, for compose's `hapi`), `node` (this Node 24 binary, the image's Node).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { hapiBaseUrl } from '../support/hapi.ts';

const root = resolve(import.meta.dirname, '..', '..');
const docker = join(root, 'docker');
const EXAMPLE_KEY = 'exemple-cle-telesante-a-remplacer';
// The official node images' `node` user.
const IMAGE_USERS: Readonly<Record<string, number>> = { node: 1000, root: 0 };

interface ImageSpec {
  readonly env: Record<string, string>;
  readonly workdir: string;
  readonly user: string;
  readonly cmd: string[];
  /** [source in the repository, or `--from=stage` source, destination in the image]. */
  readonly copies: { from: string | undefined; source: string; destination: string }[];
  /** Directories the image creates with an owner (`RUN install -d -o USER -g GROUP DIR`). */
  readonly owned: { path: string; user: string }[];
}

/** The final stage of a Dockerfile: what the running container gets from the image. */
function readDockerfile(text: string): ImageSpec {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stage = lines.slice(lines.findLastIndex((line) => /^FROM /i.test(line)));
  const spec: ImageSpec = { env: {}, workdir: '/', user: 'root', cmd: [], copies: [], owned: [] };
  let workdir = '/';
  let user = 'root';
  let cmd: string[] = [];
  for (const line of stage) {
    const [instruction = '', ...words] = line.split(/\s+/);
    const rest = line.slice(instruction.length).trim();
    switch (instruction.toUpperCase()) {
      case 'ENV':
        for (const pair of words) {
          const [name = '', ...value] = pair.split('=');
          spec.env[name] = value.join('=');
        }
        break;
      case 'WORKDIR':
        workdir = resolve(workdir, rest);
        break;
      case 'USER':
        user = rest;
        break;
      case 'CMD':
        cmd = JSON.parse(rest) as string[];
        break;
      case 'COPY': {
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((word) => !word.startsWith('--'));
        const target = paths.at(-1) ?? '.';
        const destination = resolve(workdir, target);
        // COPY a b dir/ (or several sources) puts each source by its name into the folder.
        const intoFolder = paths.length > 2 || target.endsWith('/');
        for (const source of paths.slice(0, -1)) spec.copies.push({ from, source, destination: intoFolder ? join(destination, source.split('/').at(-1) ?? source) : destination });
        break;
      }
      case 'RUN': {
        for (const match of rest.matchAll(/install -d -o (\S+) -g \S+ (\S+)/g)) spec.owned.push({ user: match[1] ?? '', path: resolve(workdir, match[2] ?? '') });
        break;
      }
    }
  }
  return { ...spec, workdir, user, cmd };
}

interface ComposeService {
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: string[];
  command?: string[];
  user?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[]; retries?: number };
  image?: string;
}

function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) return Object.fromEntries(environment.map((pair) => [pair.split('=')[0] ?? '', pair.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)]));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

async function answer(url: string, init?: RequestInit): Promise<number | undefined> {
  try {
    return (await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })).status;
  } catch {
    return undefined;
  }
}

const compose = parse(readFileSync(join(docker, 'compose.yml'), 'utf8')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
const image = readDockerfile(readFileSync(join(docker, 'Dockerfile'), 'utf8'));
const service = compose.services.telesante;

t.test('the stack: official HAPI image, every dependency waits for a health check, the outbox on a named volume', async (t) => {
  t.ok(service, 'a telesante service');
  t.match(compose.services.hapi?.image, /^hapiproject\/hapi:/, 'HAPI from its official image');
  for (const [name, each] of Object.entries(compose.services)) {
    const needs = each.depends_on ?? {};
    t.notOk(Array.isArray(needs), `${name}: depends_on names conditions`);
    for (const [needed, how] of Object.entries(needs)) {
      t.equal(how.condition, 'service_healthy', `${name} waits for ${needed} to be healthy`);
      t.ok(compose.services[needed]?.healthcheck?.test, `${needed} has a health check`);
    }
  }
  t.ok(service?.healthcheck?.test, 'the service has a health check');
  const outbox = service?.volumes?.find((volume) => volume.split(':')[1] === dirname(resolve(image.workdir, environmentOf(service).DELIVERY_SQLITE_PATH ?? 'data/outbox.sqlite')));
  t.ok(outbox, 'a volume holds the outbox');
  t.ok(outbox && compose.volumes && (outbox.split(':')[0] ?? '') in compose.volumes, 'a named volume');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  t.ok(readme.includes(EXAMPLE_KEY), 'the README gives the example key');
  t.match(readme, /printf %s [A-Z-]+ \| sha256sum/, 'and how to make one');
});

const hapi = await hapiBaseUrl();

t.test('the service starts as its container would, answers /ready, and the mounted key file authenticates', { skip: hapi === undefined && 'no HAPI' }, async (t) => {
  if (!service || hapi === undefined) return t.fail('no telesante service');
  const box = mkdtempSync(join(tmpdir(), 'telesante-compose-'));
  chmodSync(box, 0o755);
  const fs = (path: string): string => join(box, path);
  const running: { child?: ChildProcess } = {};
  t.teardown(() => {
    running.child?.kill('SIGKILL');
    rmSync(box, { recursive: true, force: true });
  });

  // The image's files, as its COPY lines put them (the deps stage's node_modules: this checkout's).
  for (const copy of image.copies) {
    mkdirSync(dirname(fs(copy.destination)), { recursive: true });
    if (copy.from !== undefined) {
      t.equal(copy.source, '/app/node_modules', `only node_modules comes from another stage (${copy.source})`);
      symlinkSync(join(root, 'node_modules'), fs(copy.destination));
    } else {
      cpSync(join(root, copy.source), fs(copy.destination), { recursive: true });
    }
  }
  const runAs = IMAGE_USERS[service.user ?? image.user];
  t.not(runAs, undefined, `the image's user ${image.user} is known`);
  t.not(runAs, 0, 'the image does not run as root');
  const asRoot = process.getuid?.() === 0;
  // Compose's volumes: bind mounts (read-only files of docker/) and named volumes (as the image has the folder).
  for (const volume of service.volumes ?? []) {
    const [source = '', target = ''] = volume.split(':');
    mkdirSync(dirname(fs(target)), { recursive: true });
    if (source.startsWith('.') || source.startsWith('/')) {
      cpSync(resolve(docker, source), fs(target));
      chmodSync(fs(target), 0o444);
      continue;
    }
    mkdirSync(fs(target), { recursive: true });
    const owner = image.owned.find((dir) => dir.path === target)?.user ?? 'root';
    if (asRoot) chownSync(fs(target), IMAGE_USERS[owner] ?? 0, IMAGE_USERS[owner] ?? 0);
    else if (owner !== (service.user ?? image.user)) chmodSync(fs(target), 0o555);
  }
  mkdirSync(fs('/home/node'), { recursive: true });

  // The container's environment: the image's, then compose's; absolute paths are the container's.
  const port = await freePort();
  const declared = { ...image.env, ...environmentOf(service) };
  t.equal(declared.NODE_ENV, 'production', 'NODE_ENV=production');
  t.ok(declared.AUTH_API_KEYS_FILE, 'AUTH_API_KEYS_FILE is set');
  const inContainer = (value: string): string => (value.startsWith('/') && existsSync(dirname(fs(value))) ? fs(value) : value);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: fs('/home/node'),
    ...Object.fromEntries(Object.entries(declared).map(([name, value]) => [name, inContainer(value)])),
    // What cannot be the same on a shared machine (see the top of this file).
    PORT: String(port),
    HOST: '127.0.0.1',
    FHIR_BASE_URL: hapi,
  };
  t.equal(declared.FHIR_BASE_URL, 'http://hapi:8080/fhir', "compose points the service at its hapi service (here: the test's HAPI)");
  const command = service.command ?? image.cmd;
  const withNode = (argv: string[]): string[] => (argv[0] === 'node' ? [process.execPath, ...argv.slice(1)] : argv);
  const [program = '', ...args] = withNode(command);
  const ids = asRoot && runAs !== undefined ? { uid: runAs, gid: runAs } : {};
  // The image's user must reach the code and Node as it does in the image (/app, readable by all). A
  // checkout in a private temporary folder (mktemp -d: 0700) is not: its folders under the temporary
  // directory are opened to traversal for the test (o+x), and closed again after it.
  if (asRoot) {
    for (const dir of [root, dirname(process.execPath)].flatMap(ancestorsOf)) {
      const { mode } = statSync(dir);
      if ((mode & 0o001) !== 0) continue;
      if (!dir.startsWith(`${tmpdir()}/`)) return t.fail(`${dir} is closed to the image's user (mode ${(mode & 0o777).toString(8)}): run the test from a checkout it can reach`);
      chmodSync(dir, mode | 0o001);
      t.teardown(() => chmodSync(dir, mode & 0o7777));
    }
  }
  let output = '';
  const child = spawn(program, args, { cwd: fs(image.workdir), env, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  running.child = child;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  let ready: number | undefined;
  while (exited === undefined && Date.now() < deadline) {
    ready = await answer(`${base}/ready`);
    if (ready === 200) break;
    await new Promise((done) => setTimeout(done, 500));
  }
  const log = (): string => `: ${output.slice(-2000)}`;
  t.equal(exited, undefined, `the service runs${exited === undefined ? '' : ` (exit ${exited})${log()}`}`);
  t.equal(ready, 200, `/ready answers 200${ready === 200 ? '' : log()}`);

  const check = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ins: '184037512345690', traits: { sex: 'male', birthDate: '1984-03-12' } }) };
  t.equal(await answer(`${base}/v1/ins/check`, check), 401, 'authentication is on');
  t.equal(await answer(`${base}/v1/ins/check`, { ...check, headers: { ...check.headers, 'x-api-key': EXAMPLE_KEY } }), 200, "the mounted key file's example key authenticates");
  t.equal(await answer(`${base}/v1/ins/check`, { ...check, headers: { ...check.headers, 'x-api-key': `${EXAMPLE_KEY}x` } }), 401, 'another key does not');

  const outbox = inContainer(declared.DELIVERY_SQLITE_PATH ?? join(image.workdir, 'data/outbox.sqlite'));
  t.ok(existsSync(outbox), `the outbox was created in the data folder (${outbox})`);
  if (asRoot) t.equal(statSync(outbox).uid, runAs, "by the image's user");

  // The health check compose runs in the container.
  const [kind, ...healthcheck] = service.healthcheck?.test ?? [];
  t.equal(kind, 'CMD');
  const [probe = '', ...probeArgs] = withNode(healthcheck);
  // Docker tries it `retries` times before it calls the service unhealthy (/ready gives the FHIR server 5 s).
  const tries = service.healthcheck?.retries ?? 3;
  let probed = spawnSync(probe, probeArgs, { env, timeout: 30_000, encoding: 'utf8', ...ids });
  for (let attempt = 1; probed.status !== 0 && attempt < tries; attempt++) {
    await new Promise((done) => setTimeout(done, 2_000));
    probed = spawnSync(probe, probeArgs, { env, timeout: 30_000, encoding: 'utf8', ...ids });
  }
  t.equal(probed.status, 0, `compose's health check passes${probed.status === 0 ? '' : `: ${probed.stderr}`}`);
});

/** `path` and the folders above it, up to the root. */
function ancestorsOf(path: string): string[] {
  const found: string[] = [];
  for (let dir = path; dir !== dirname(dir); dir = dirname(dir)) found.push(dir);
  return found;
}
