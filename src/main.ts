// Process entry: configuration → app → listen; graceful shutdown on SIGTERM and SIGINT.
import { Agent, setGlobalDispatcher } from 'undici';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { Config } from './config.ts';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`telesante-fhir: bad configuration: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

const config = configOrExit();

// One keep-alive connection pool for every call to the FHIR server (fhir-kit-client uses fetch, which
// goes through the process's undici dispatcher).
const dispatcher = new Agent({ connections: config.fhirConnections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });
setGlobalDispatcher(dispatcher);

// Building the app reads the key and certificate files: one that cannot be read stops the start too.
const app = await buildApp(config).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`telesante-fhir: bad configuration: ${error.message}`);
    process.exit(78);
  }
  throw error;
});
const storeState = await app.store.ready();
if (app.store.kind === 'embedded') {
  app.log.warn('FHIR_BASE_URL is not set: running on the embedded in-memory FHIR store (data is lost at exit)');
} else if (!storeState.ok) {
  app.log.warn({ reason: storeState.reason }, 'the FHIR server is not ready yet: /ready answers 503 until it is');
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'stopping: no new requests, finishing those in flight');
  const forced = setTimeout(() => {
    app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'requests still in flight after the grace period: exiting anyway');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  forced.unref();
  try {
    await app.close();
    await dispatcher.close();
    app.log.info('stopped');
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'error while stopping');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ port: config.port, host: config.host });
  if (app.metricsServer !== undefined && config.metricsPort !== undefined) {
    const address = await app.metricsServer.listen({ port: config.metricsPort, host: config.host });
    app.log.info({ address }, 'metrics (Prometheus) served on a port of their own, without authentication');
  }
} catch (error) {
  app.log.error({ err: error }, 'cannot listen');
  process.exit(1);
}
