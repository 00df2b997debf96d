// Who is calling: OAuth 2.0 bearer tokens (JWT signed with RS256, ES256 or PS256, checked against a JWKS
// for issuer, audience, expiry and not-before) and API keys of machine clients (kept as SHA-256 hashes,
// compared in constant time). The answer is a Principal, or an AuthenticationFailed the HTTP face turns
// into a 401. Nothing here logs or echoes a credential.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { AuthenticationFailed } from '../problems.ts';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';

export const SCOPES = ['offers:write', 'offers:read', 'acts:write', 'acts:read', 'acts:read:all', 'ins:check', 'fhir:validate', 'deliveries:admin', 'metrics:read'] as const;
export type Scope = (typeof SCOPES)[number];

/** Only asymmetric signatures: `none` and HMAC (which a public key would "verify") are refused. */
export const TOKEN_ALGORITHMS = ['RS256', 'ES256', 'PS256'] as const;

export interface Principal {
  /** The client application: `client_id` (or `azp`, else `sub`) of a token, `id` of an API key. */
  readonly clientId: string;
  /** The person or system the token was issued to (`sub`), when it differs from nothing. */
  readonly subject: string | undefined;
  readonly scopes: ReadonlySet<string>;
  /** FINESS of the structures the client may write for; undefined: not bound (every structure). */
  readonly finess: readonly string[] | undefined;
  readonly method: 'jwt' | 'api-key' | 'none';
}

/** Development mode (AUTH_MODE=none): every route is open, and the audit trail says so. */
export const ANONYMOUS: Principal = { clientId: 'anonymous', subject: undefined, scopes: new Set(SCOPES), finess: undefined, method: 'none' };

interface ApiKey {
  readonly id: string;
  readonly hash: Buffer;
  readonly scopes: ReadonlySet<string>;
  readonly finess: readonly string[] | undefined;
}

const FINESS = /^(?:[0-9]{9}|2[AB][0-9]{7})$/;
const SHA256_HEX = /^[0-9a-f]{64}$/i;
const CLIENT_ID = /^[A-Za-z0-9._:@/-]{1,128}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function scopesOf(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((scope): scope is string => typeof scope === 'string')) throw new Error(`${where}: scopes must be an array of strings`);
  const unknown = value.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0) throw new Error(`${where}: unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
  return value;
}

function finessListOf(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((finess): finess is string => typeof finess === 'string' && FINESS.test(finess))) {
    throw new Error(`${where}: finess must be an array of FINESS numbers (9 characters)`);
  }
  return value;
}

/** Reads the API keys file: `[{ "id", "sha256" (hex of the key), "scopes": [...], "finess"?: [...] }]`. */
export function parseApiKeys(text: string): ApiKey[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('expected a JSON array of { id, sha256, scopes, finess? }');
  const ids = new Set<string>();
  return parsed.map((entry: unknown, index) => {
    const where = `entry ${index}`;
    if (!isRecord(entry)) throw new Error(`${where}: expected an object`);
    const extra = Object.keys(entry).filter((key) => !['id', 'sha256', 'scopes', 'finess'].includes(key));
    if (extra.length > 0) throw new Error(`${where}: unknown field ${extra.join(', ')}`);
    const { id, sha256, scopes, finess } = entry;
    if (typeof id !== 'string' || !CLIENT_ID.test(id)) throw new Error(`${where}: id must be 1 to 128 characters [A-Za-z0-9._:@/-]`);
    if (ids.has(id)) throw new Error(`${where}: id ${id} appears twice`);
    ids.add(id);
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) throw new Error(`${where}: sha256 must be the 64 hex digits of the key's SHA-256`);
    return { id, hash: Buffer.from(sha256.toLowerCase(), 'hex'), scopes: new Set(scopesOf(scopes, where)), finess: finessListOf(finess, where) };
  });
}

/** The hex SHA-256 an API keys file holds for a key (what an operator computes with `sha256sum`). */
export function apiKeyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function claimScopes(payload: JWTPayload): Set<string> {
  const scope = payload.scope;
  const scp = payload.scp;
  const list = typeof scope === 'string' ? scope.split(' ') : Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : typeof scp === 'string' ? scp.split(' ') : [];
  return new Set(list.filter((s) => s !== ''));
}

function claimFiness(payload: JWTPayload): string[] | undefined {
  const claim = payload.finess;
  if (claim === undefined) return undefined;
  const list = typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
  // A malformed binding binds to nothing rather than to everything.
  return list.filter((finess): finess is string => typeof finess === 'string' && FINESS.test(finess));
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return error.claim === 'iat' ? 'token issued longer ago than its maximum lifetime' : 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${error.claim}" rejected (${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return `token algorithm not allowed (accepted: ${TOKEN_ALGORITHMS.join(', ')})`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the JWKS matches the token';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JOSENotSupported) return 'token cannot be verified';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'malformed token';
  return 'token cannot be verified';
}

export interface AuthenticatorOptions {
  readonly jwks?: JWTVerifyGetKey;
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockSkewS: number;
  /** Longest life of a token (exp − iat) and its oldest age (now − iat), in seconds. */
  readonly maxTokenLifetimeS: number;
  readonly apiKeys: readonly ApiKey[];
}

export class Authenticator {
  readonly #options: AuthenticatorOptions;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  /** What kinds of credentials this service takes, for the start-up log line. */
  get methods(): string[] {
    return [...(this.#options.jwks ? ['bearer JWT'] : []), ...(this.#options.apiKeys.length > 0 ? [`${this.#options.apiKeys.length} API key(s)`] : [])];
  }

  /** The principal the request's credentials name; throws AuthenticationFailed. */
  async authenticate(headers: { authorization?: string | string[] | undefined; 'x-api-key'?: string | string[] | undefined }): Promise<Principal> {
    const authorization = headers.authorization;
    const apiKey = headers['x-api-key'];
    if (Array.isArray(authorization) || Array.isArray(apiKey)) throw new AuthenticationFailed('credentials sent twice', 'invalid_request');
    if (authorization !== undefined && apiKey !== undefined) throw new AuthenticationFailed('send a bearer token or an API key, not both', 'invalid_request');
    if (apiKey !== undefined) return this.#byApiKey(apiKey);
    if (authorization === undefined) throw new AuthenticationFailed('no credentials');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization.trim());
    if (match?.[1] === undefined) throw new AuthenticationFailed('Authorization is not "Bearer <token>"', 'invalid_request');
    return this.#byToken(match[1]);
  }

  #byApiKey(key: string): Principal {
    const presented = createHash('sha256').update(key, 'utf8').digest();
    let found: ApiKey | undefined;
    // Every stored hash is compared, whatever matches, so that timing says nothing of which key is near.
    for (const candidate of this.#options.apiKeys) {
      if (timingSafeEqual(presented, candidate.hash) && found === undefined) found = candidate;
    }
    if (found === undefined) throw new AuthenticationFailed('unknown API key', 'invalid_token');
    return { clientId: found.id, subject: undefined, scopes: found.scopes, finess: found.finess, method: 'api-key' };
  }

  async #byToken(token: string): Promise<Principal> {
    const { jwks, issuer, audience, clockSkewS, maxTokenLifetimeS } = this.#options;
    if (jwks === undefined || issuer === undefined || audience === undefined) throw new AuthenticationFailed('bearer tokens are not accepted here (no JWKS configured)', 'invalid_token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: [...TOKEN_ALGORITHMS],
        issuer,
        audience,
        clockTolerance: clockSkewS,
        // iat required: issued ahead of the clock beyond the skew, or longer ago than a token may live, is refused.
        maxTokenAge: maxTokenLifetimeS,
        requiredClaims: ['exp', 'sub', 'iat'],
      }));
    } catch (error) {
      throw new AuthenticationFailed(reasonOf(error), 'invalid_token');
    }
    // A token valid for a year is a password: none lives longer than the configured lifetime.
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > maxTokenLifetimeS + clockSkewS) {
      throw new AuthenticationFailed(`token lifetime (exp - iat) longer than ${maxTokenLifetimeS} s`, 'invalid_token');
    }
    const clientClaim = [payload.client_id, payload.azp, payload.sub].find((value): value is string => typeof value === 'string' && value !== '');
    if (clientClaim === undefined) throw new AuthenticationFailed('token names no client', 'invalid_token');
    return { clientId: clientClaim.slice(0, 128), subject: payload.sub, scopes: claimScopes(payload), finess: claimFiness(payload), method: 'jwt' };
  }
}

function readConfigFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The authenticator the configuration describes, or undefined in development mode (AUTH_MODE=none). */
export function createAuthenticator(config: Config): Authenticator | undefined {
  if (config.authMode === 'none') return undefined;
  let jwks: JWTVerifyGetKey | undefined;
  if (config.authJwksUrl !== undefined) {
    jwks = createRemoteJWKSet(new URL(config.authJwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  } else if (config.authJwksFile !== undefined) {
    let set: JSONWebKeySet;
    try {
      set = JSON.parse(readConfigFile('AUTH_JWKS_FILE', config.authJwksFile)) as JSONWebKeySet;
      if (!Array.isArray(set.keys)) throw new Error('no "keys" array');
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError('AUTH_JWKS_FILE', `not a JWKS (${(error as Error).message})`);
    }
    jwks = createLocalJWKSet(set);
  }
  let apiKeys: ApiKey[] = [];
  if (config.authApiKeysFile !== undefined) {
    try {
      apiKeys = parseApiKeys(readConfigFile('AUTH_API_KEYS_FILE', config.authApiKeysFile));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError('AUTH_API_KEYS_FILE', (error as Error).message);
    }
  }
  return new Authenticator({
    ...(jwks === undefined ? {} : { jwks }),
    ...(config.authIssuer === undefined ? {} : { issuer: config.authIssuer }),
    ...(config.authAudience === undefined ? {} : { audience: config.authAudience }),
    clockSkewS: config.authClockSkewS,
    maxTokenLifetimeS: config.authMaxTokenLifetimeS,
    apiKeys,
  });
}
