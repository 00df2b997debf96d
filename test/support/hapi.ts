// Finds a real HAPI FHIR server for the integration tests:
//   1. FHIR_BASE_URL when it is set;
//   2. else the official hapiproject/hapi image through Testcontainers, when a Docker engine answers;
//   3. else the local launcher (docker/hapi/hapi.sh: HAPI built from Maven Central, on PostgreSQL, on
//      HAPI_PORT and HAPI_DB_NAME), which starts it once for all the test files asking at once and leaves it
//      running afterwards (`npm run hapi:stop` stops it).
// With REQUIRE_HAPI=1 a HAPI that cannot be had fails the run; without it the tests say loudly that
// they were skipped.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HAPI_IMAGE = 'hapiproject/hapi:v8.8.0-1';

export const hapiRequired = process.env.REQUIRE_HAPI === '1';

async function answersR4(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/metadata`, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/fhir+json' } });
    if (!response.ok) return false;
    const statement = (await response.json()) as { fhirVersion?: string };
    return statement.fhirVersion === '4.0.1';
  } catch {
    return false;
  }
}

function dockerEngineMayAnswer(): boolean {
  return process.env.DOCKER_HOST !== undefined || existsSync('/var/run/docker.sock');
}

async function startWithTestcontainers(): Promise<string | undefined> {
  const { GenericContainer, Wait } = await import('testcontainers');
  try {
    const container = await new GenericContainer(HAPI_IMAGE)
      .withExposedPorts(8080)
      .withEnvironment({ 'hapi.fhir.client_id_strategy': 'ALPHANUMERIC', 'hapi.fhir.allow_external_references': 'false' })
      .withWaitStrategy(Wait.forHttp('/fhir/metadata', 8080).forStatusCode(200))
      .withStartupTimeout(240_000)
      .withReuse()
      .start();
    return `http://${container.getHost()}:${container.getMappedPort(8080)}/fhir`;
  } catch (error) {
    console.error(`testcontainers could not start ${HAPI_IMAGE}: ${(error as Error).message}`);
    return undefined;
  }
}

export const launcherPort = process.env.HAPI_PORT ?? '8080';

// The first start builds HAPI (Maven) and creates its schema in an empty database: minutes, many of them on
// a loaded machine. Test files asking at the same moment wait for it behind the launcher's lock.
const LAUNCHER_START_TIMEOUT_S = 900;
const LAUNCHER_TIMEOUT_MS = 1_500_000;

/**
 * Starts HAPI through docker/hapi/hapi.sh; its lines go to stderr, out of the TAP stream. Getting the server
 * is not this test file's run time: tap's timeout for the file is put aside meanwhile, then started afresh.
 */
async function startWithLauncher(): Promise<string | undefined> {
  const fileTimeoutMs = Number(process.env.TAP_TIMEOUT ?? '30') * 1000;
  t.setTimeout(LAUNCHER_TIMEOUT_MS + fileTimeoutMs);
  const launcher = spawn('sh', [join(root, 'docker/hapi/hapi.sh'), 'start'], {
    stdio: ['ignore', 2, 2],
    timeout: LAUNCHER_TIMEOUT_MS,
    env: { ...process.env, HAPI_START_TIMEOUT: process.env.HAPI_START_TIMEOUT ?? String(LAUNCHER_START_TIMEOUT_S) },
  });
  const status = await new Promise<number | null>((resolve) => {
    launcher.on('error', () => resolve(null));
    launcher.on('exit', (code) => resolve(code));
  });
  if (fileTimeoutMs > 0) t.setTimeout(fileTimeoutMs);
  return status === 0 ? `http://127.0.0.1:${launcherPort}/fhir` : undefined;
}

/** Which of the three ways gave the server (the launcher's own test runs only when the launcher did). */
export type HapiSource = 'FHIR_BASE_URL' | 'testcontainers' | 'launcher';

let found: Promise<{ url: string; source: HapiSource } | undefined> | undefined;

async function findHapi(): Promise<{ url: string; source: HapiSource } | undefined> {
  const configured = process.env.FHIR_BASE_URL?.replace(/\/+$/, '');
  if (configured) return (await answersR4(configured)) ? { url: configured, source: 'FHIR_BASE_URL' } : undefined;
  if (dockerEngineMayAnswer()) {
    const url = await startWithTestcontainers();
    if (url && (await answersR4(url))) return { url, source: 'testcontainers' };
  }
  const url = await startWithLauncher();
  return url && (await answersR4(url)) ? { url, source: 'launcher' } : undefined;
}

/** How the server of hapiBaseUrl() was had (undefined when none was). */
export async function hapiSource(): Promise<HapiSource | undefined> {
  await hapiBaseUrl();
  return (await found)?.source;
}

/**
 * The base URL of a real HAPI server, or undefined when none can be had and REQUIRE_HAPI is not set
 * (the caller then skips its tests; this function has already said so loudly).
 */
export async function hapiBaseUrl(): Promise<string | undefined> {
  found ??= findHapi();
  const url = (await found)?.url;
  if (url !== undefined) return url;
  const why = process.env.FHIR_BASE_URL
    ? `FHIR_BASE_URL=${process.env.FHIR_BASE_URL} does not answer as a FHIR R4 server`
    : 'no HAPI FHIR server could be started (no Docker engine, and docker/hapi/hapi.sh failed: is PostgreSQL up?)';
  if (hapiRequired) throw new Error(`REQUIRE_HAPI=1 but ${why}`);
  console.error(`\n*** INTEGRATION TESTS SKIPPED: ${why}. Set REQUIRE_HAPI=1 to make this a failure. ***\n`);
  return undefined;
}

/** A suffix that makes business identifiers unique to one test run, so runs never see each other's data. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Loads our conformance resources into HAPI, one test file at a time. Test files run in parallel, and
 * two loads at once on a fresh server make HAPI refuse one of two simultaneous writes of an id (HAPI-0550,
 * 409, or a constraint failure); a CI run where that happened had HAPI's validator answer "unknown or
 * unrecognized resource name" to every $validate for the rest of the run. So a load waits for any other
 * one (a lock folder under .hapi/, shared by the test processes), and is still tried again on a refusal:
 * loading is idempotent (PUT by id), so trying again is always safe.
 */
export async function loadConformanceOnce<T>(load: () => Promise<T>): Promise<T> {
  return withConformanceLock(async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await load();
      } catch (error) {
        if (attempt >= 4) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  });
}

/** A lock older than this was left by a test process that died holding it. */
const STALE_LOCK_MS = 10 * 60_000;

/** Runs `work` while no other test process loads conformance resources (mkdir is atomic). */
export async function withConformanceLock<T>(work: () => Promise<T>): Promise<T> {
  const folder = join(root, '.hapi');
  mkdirSync(folder, { recursive: true });
  const lock = join(folder, `conformance-${launcherPort}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmdirSync(lock);
      } catch {
        // released meanwhile
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmdirSync(lock);
  }
}

/**
 * The environment of an app under test against HAPI. A write answers 201 once delivered, or 202 when its
 * delivery takes longer than DELIVERY_WAIT_MS (5 s by default) and goes on in the background. On a CI
 * machine under load, ten concurrent posts retrying HAPI's 409s can take longer than that: these tests are
 * about what lands on HAPI, not about latency, so they wait for the delivery (the 202 path has tests of
 * its own, test/integration/delivery-faults.test.ts).
 */
export const HAPI_APP_ENV: Readonly<Record<string, string>> = { DELIVERY_WAIT_MS: '120000' };
