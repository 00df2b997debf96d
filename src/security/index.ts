// The security room: authentication (bearer JWT, API keys), scopes per route, FINESS binding, rate
// limits, security headers, TLS, and the audit trail of every write. Routes declare their access in
// their config (`config: { access: 'acts:write' }`); the hooks here enforce it.
export { ANONYMOUS, apiKeyHash, Authenticator, createAuthenticator, parseApiKeys, SCOPES, TOKEN_ALGORITHMS } from './credentials.ts';
export type { Principal, Scope } from './credentials.ts';
export { assertStructureAllowed, registerSecurity } from './plugin.ts';
export type { RouteAccess, SecurityOptions } from './plugin.ts';
export { auditedAccess, auditEventOf } from './audit.ts';
export { assertActReadable, assertSubmittedBy, readableActs } from './reading.ts';
export type { ReadableActs } from './reading.ts';
export { httpsOptionsOf } from './tls.ts';
export { isSafeRequestId, requestIdOf } from './request-id.ts';
export { assertJsonDepth, jsonDepth, MAX_JSON_DEPTH, registerJsonParsers } from './body.ts';
export type { HttpsOptions } from './tls.ts';
