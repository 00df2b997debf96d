// The keys of conditional writes and of content, one copy each: FHIR token queries on business
// identifiers, name-based UUIDs for the fullUrls of a transaction, canonical JSON for content hashes.
import { createHash } from 'node:crypto';

// FHIR token search: `\`, `|`, `,` and `$` are escaped with a backslash, then the value is made safe for
// a query string; `:` and `/` are legal there and kept readable.
function tokenPart(value: string): string {
  const escaped = value.replace(/[\\|,$]/g, (c) => `\\${c}`);
  return encodeURIComponent(escaped).replace(/%3A/gi, ':').replace(/%2F/gi, '/');
}

/** `<name>=<system>|<code>,<system>|<code>…`, escaped: a token search matching any of the pairs. */
export function tokenQuery(name: string, tokens: readonly { readonly system: string; readonly code: string }[]): string {
  return `${name}=${tokens.map((token) => `${tokenPart(token.system)}|${tokenPart(token.code)}`).join(',')}`;
}

/** `identifier=<system>|<value>`, escaped, for a search or a conditional write. */
export function identifierQuery(system: string, value: string): string {
  return tokenQuery('identifier', [{ system, code: value }]);
}

// A name-based UUID (version 5 layout over SHA-1) so that the same write always carries the same fullUrl.
export function stableUuid(name: string): string {
  const hash = createHash('sha1').update(`telesante-fhir:${name}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** JSON with object keys sorted at every level: the same content gives the same text whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** First 16 hex digits of the SHA-256 of the canonical JSON: a content fingerprint. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}
