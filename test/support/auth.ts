// A token issuer for tests: an RS256 key pair whose public half is written as a JWKS file, and a signer
// of tokens with the claims a test wants (scope, finess, exp…). Also an API keys file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { apiKeyHash } from '../../src/security/index.ts';

const dirs: string[] = [];
process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'telesante-auth-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export const ISSUER = 'https://auth.test.telesante.example/realms/sante';
export const AUDIENCE = 'telesante-fhir';

export interface TestIssuer {
  readonly jwksFile: string;
  readonly issuer: string;
  readonly audience: string;
  /** A token signed by this issuer: iss, aud, sub, iat, exp (in 5 min) unless the claims say otherwise. */
  sign(
    claims?: JWTPayload & { scope?: string; finess?: string[] },
    options?: { expiresIn?: string | number; notBefore?: string | number; alg?: 'RS256'; /** iat in epoch seconds; null: none. */ issuedAt?: number | null },
  ): Promise<string>;
}

export async function testIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const jwksFile = join(tempDir(), 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return {
    jwksFile,
    issuer: ISSUER,
    audience: AUDIENCE,
    async sign(claims = {}, options = {}) {
      const jwt = new SignJWT({ sub: 'dpi-client', client_id: 'dpi-client', ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: 'test-key-1', typ: 'JWT' })
        .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
        .setAudience(claims.aud ?? AUDIENCE)
        .setExpirationTime(options.expiresIn ?? '5m');
      if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
      if (options.issuedAt !== null) jwt.setIssuedAt(options.issuedAt);
      return jwt.sign(privateKey);
    },
  };
}

export interface TestApiKey {
  readonly id: string;
  /** The key itself, as the client sends it in X-API-Key. */
  readonly key: string;
  readonly scopes: readonly string[];
  readonly finess?: readonly string[];
}

/** Writes the API keys file as an operator would: hashes only. */
export function apiKeysFile(keys: readonly TestApiKey[]): string {
  const file = join(tempDir(), 'api-keys.json');
  writeFileSync(file, JSON.stringify(keys.map(({ id, key, scopes, finess }) => ({ id, sha256: apiKeyHash(key), scopes, ...(finess === undefined ? {} : { finess }) }))));
  return file;
}

export interface TestAuth {
  readonly issuer?: TestIssuer;
  readonly apiKeys?: readonly TestApiKey[];
}

/** The environment that turns authentication on with these credentials. */
export function authEnv(auth: TestAuth): Record<string, string> {
  return {
    AUTH_MODE: 'required',
    ...(auth.issuer === undefined ? {} : { AUTH_JWKS_FILE: auth.issuer.jwksFile, AUTH_ISSUER: auth.issuer.issuer, AUTH_AUDIENCE: auth.issuer.audience }),
    ...(auth.apiKeys === undefined ? {} : { AUTH_API_KEYS_FILE: apiKeysFile(auth.apiKeys) }),
  };
}
