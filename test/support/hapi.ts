// Finds a real HAPI FHIR server for the integration tests:
//   1. FHIR_BASE_URL when it is set;
//   2. else the official hapiproject/hapi image through Testcontainers, when a Docker engine answers;
//   3. else the local launcher (docker/hapi/hapi.sh: HAPI built from Maven Central, on PostgreSQL).
// With REQUIRE_HAPI=1 a HAPI that cannot be had fails the run; without it the tests say loudly that
// they were skipped.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function startWithLauncher(): string | undefined {
  const port = process.env.HAPI_PORT ?? '8080';
  const result = spawnSync('sh', [join(root, 'docker/hapi/hapi.sh'), 'start'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  return result.status === 0 ? `http://127.0.0.1:${port}/fhir` : undefined;
}

let found: Promise<string | undefined> | undefined;

async function findHapi(): Promise<string | undefined> {
  const configured = process.env.FHIR_BASE_URL?.replace(/\/+$/, '');
  if (configured) return (await answersR4(configured)) ? configured : undefined;
  if (dockerEngineMayAnswer()) {
    const url = await startWithTestcontainers();
    if (url && (await answersR4(url))) return url;
  }
  const url = startWithLauncher();
  return url && (await answersR4(url)) ? url : undefined;
}

/**
 * The base URL of a real HAPI server, or undefined when none can be had and REQUIRE_HAPI is not set
 * (the caller then skips its tests; this function has already said so loudly).
 */
export async function hapiBaseUrl(): Promise<string | undefined> {
  found ??= findHapi();
  const url = await found;
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
 * Loads our conformance resources into HAPI. Test files run in parallel and may load the same
 * resources at once; HAPI then refuses one of two simultaneous writes of an id (HAPI-0550, 409, or a
 * constraint failure), which the next attempt, finding the resource, turns into a no-op update.
 * Loading is idempotent, so trying again is always safe.
 */
export async function loadConformanceOnce<T>(load: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await load();
    } catch (error) {
      if (attempt >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
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
