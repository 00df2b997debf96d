import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';

t.test('defaults run on the embedded store', async (t) => {
  const config = loadConfig({});
  t.equal(config.fhirBaseUrl, undefined);
  t.equal(config.port, 3000);
  t.equal(config.bodyLimitBytes, 5 * 1024 * 1024);
});

t.test('FHIR_BASE_URL is checked and normalised', async (t) => {
  t.equal(loadConfig({ FHIR_BASE_URL: 'http://127.0.0.1:8080/fhir/' }).fhirBaseUrl, 'http://127.0.0.1:8080/fhir');
  t.throws(() => loadConfig({ FHIR_BASE_URL: 'ftp://x/fhir' }), /FHIR_BASE_URL/);
  t.throws(() => loadConfig({ FHIR_BASE_URL: 'not a url' }), /FHIR_BASE_URL/);
});

t.test('each bad value names its variable', async (t) => {
  const cases: Record<string, string> = {
    PORT: 'abc',
    FHIR_TIMEOUT_MS: '-5',
    FHIR_RETRIES: '99',
    LOG_LEVEL: 'loud',
    BODY_LIMIT_BYTES: '1.5',
    ALLOW_TEST_IDENTITIES: 'maybe',
    HOST: 'a host',
  };
  for (const [name, value] of Object.entries(cases)) {
    try {
      loadConfig({ [name]: value });
      t.fail(`${name}=${value} was accepted`);
    } catch (error) {
      t.ok(error instanceof ConfigError, name);
      t.equal((error as ConfigError).variable, name);
    }
  }
});

t.test('the process refuses to start on a bad value, with one line naming it', async (t) => {
  const result = spawnSync(process.execPath, ['src/main.ts'], { env: { ...process.env, PORT: 'abc' }, encoding: 'utf8', timeout: 120_000 });
  t.not(result.status, 0);
  t.match(result.stderr, /PORT/);
  t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
});

t.test('authentication: development runs without it; production refuses to start without it', async (t) => {
  t.equal(loadConfig({}).authMode, 'none', 'development: no authentication');
  t.equal(loadConfig({ AUTH_API_KEYS_FILE: 'keys.json' }).authMode, 'required', 'keys configured: required');
  const refused: [Record<string, string>, string][] = [
    [{ NODE_ENV: 'production' }, 'AUTH_JWKS_URL'],
    [{ NODE_ENV: 'production', AUTH_MODE: 'none', AUTH_API_KEYS_FILE: 'keys.json' }, 'AUTH_MODE'],
    [{ AUTH_MODE: 'required' }, 'AUTH_MODE'],
    [{ AUTH_MODE: 'maybe' }, 'AUTH_MODE'],
    [{ AUTH_JWKS_FILE: 'jwks.json', AUTH_AUDIENCE: 'x' }, 'AUTH_ISSUER'],
    [{ AUTH_JWKS_URL: 'https://idp/jwks', AUTH_ISSUER: 'x' }, 'AUTH_AUDIENCE'],
    [{ AUTH_JWKS_URL: 'ftp://idp/jwks', AUTH_ISSUER: 'x', AUTH_AUDIENCE: 'y' }, 'AUTH_JWKS_URL'],
    [{ AUTH_CLOCK_SKEW_S: '-1' }, 'AUTH_CLOCK_SKEW_S'],
    [{ RATE_LIMIT_PER_MINUTE: 'lots' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ TLS_CERT_FILE: 'cert.pem' }, 'TLS_KEY_FILE'],
    [{ TLS_REQUIRE_CLIENT_CERT: 'true', TLS_CERT_FILE: 'c', TLS_KEY_FILE: 'k' }, 'TLS_REQUIRE_CLIENT_CERT'],
  ];
  for (const [env, variable] of refused) {
    try {
      loadConfig(env);
      t.fail(`${JSON.stringify(env)} was accepted`);
    } catch (error) {
      t.equal((error as ConfigError).variable, variable, JSON.stringify(env));
    }
  }
  t.equal(loadConfig({ NODE_ENV: 'production', AUTH_API_KEYS_FILE: 'keys.json' }).authMode, 'required');
});

t.test('the process refuses to start in production without authentication, or with an unreadable key file, in one line', async (t) => {
  for (const env of [{ NODE_ENV: 'production' }, { AUTH_API_KEYS_FILE: '/nonexistent/keys.json' }]) {
    const result = spawnSync(process.execPath, ['src/main.ts'], { env: { ...process.env, PORT: '0', FHIR_BASE_URL: '', ...env }, encoding: 'utf8', timeout: 30_000 });
    t.not(result.status, 0, JSON.stringify(env));
    t.match(result.stderr, /AUTH_/);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
});
