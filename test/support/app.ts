import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Config } from '../../src/config.ts';
import type { FhirStore } from '../../src/fhir/index.ts';
import type { Outbox } from '../../src/delivery/index.ts';
import { createValidator } from '../../src/fhir/validation/index.ts';
import type { Validator } from '../../src/fhir/validation/index.ts';
import type { Tracing } from '../../src/observability/tracing.ts';
import { authEnv } from './auth.ts';
import type { TestAuth } from './auth.ts';

// Loading the profiles takes a while: one validator per test process.
let sharedValidator: Promise<Validator> | undefined;
export function testValidator(): Promise<Validator> {
  sharedValidator ??= createValidator();
  return sharedValidator;
}

export interface TestApp {
  readonly app: FastifyInstance;
  /** Every log line the app wrote, as text. */
  readonly logs: () => string;
}

// Each app gets its own outbox file in a temporary folder, removed when the test process exits.
const outboxDirs: string[] = [];
process.once('exit', () => {
  for (const dir of outboxDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary path for an outbox file. */
export function tempOutboxPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'telesante-outbox-'));
  outboxDirs.push(dir);
  return join(dir, 'outbox.sqlite');
}

export interface TestAppOptions {
  /** Authentication on, with these credentials; without it the app runs in development mode (no auth). */
  readonly auth?: TestAuth;
  /** Traces into this (an in-memory exporter's); by default whatever `env` says (off). */
  readonly tracing?: Tracing;
  /** The service's clock (the indicators' default period); the real one without it. */
  readonly clock?: () => Date;
  /** This outbox (closed with the app) instead of one from `env`. */
  readonly outbox?: Outbox;
}

/**
 * The app as the service builds it, with its logs captured, on the embedded store unless told
 * otherwise, with its own outbox file (unless `env` names one). Audit records go to the store at once
 * (AUDIT_FLUSH_MS=0) unless `env` says otherwise, so that a test sees them when its requests are answered;
 * test/unit/security/audit-flush.test.ts tests the service's default, records gathered on a grid.
 */
export async function testApp(env: Record<string, string> = {}, store?: FhirStore, options: TestAppOptions = {}): Promise<TestApp> {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const config: Config = loadConfig({ LOG_LEVEL: 'info', DELIVERY_SQLITE_PATH: tempOutboxPath(), AUDIT_FLUSH_MS: '0', ...(options.auth === undefined ? {} : authEnv(options.auth)), ...env });
  const validator = await testValidator();
  const app = await buildApp(config, { logStream: { write: (line: string) => logStream.write(line) }, validator, ...(store ? { store } : {}), ...(options.tracing ? { tracing: options.tracing } : {}), ...(options.clock ? { clock: options.clock } : {}), ...(options.outbox ? { outbox: options.outbox } : {}) });
  await app.ready();
  return { app, logs: () => lines.join('') };
}
