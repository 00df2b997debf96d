import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under Node's ESM its default import is the module object or the function.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** A compiled input contract: true when `data` conforms; otherwise `errors` says why. */
export interface StrictValidate {
  (data: unknown): boolean;
  errors: ErrorObject[];
}

// The names Object.prototype gives every object. A body that uses one as a key has an unknown field
// (no contract names one), and must be refused before Ajv sees it: Ajv's uniqueItems compares objects
// with fast-deep-equal, which calls `a.valueOf()` and throws when a body says `"valueOf": {}`.
const INHERITED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * The keys of `data`, at any depth, that shadow an Object.prototype member, as Ajv errors. A loop over a
 * stack of its own, not a recursion: however deep the data, it cannot overflow the call stack.
 */
function shadowingKeys(data: unknown, errors: ErrorObject[]): void {
  const pending: { value: unknown; path: string }[] = [{ value: data, path: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: `${path}/${index}` }));
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      if (INHERITED_NAMES.has(key)) {
        errors.push({ keyword: 'additionalProperties', instancePath: path, schemaPath: '#/additionalProperties', params: { additionalProperty: key }, message: 'must NOT have additional properties' });
      } else {
        pending.push({ value: child, path: `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}` });
      }
    }
  }
}

const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/**
 * Standard base64 (RFC 4648 §4), padded, no line breaks: one pass over the characters. A regular
 * expression over a string of millions of characters overflows the engine's backtracking stack.
 */
export function isBase64(value: string): boolean {
  if (value.length % 4 !== 0) return false;
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  const end = value.length - padding;
  for (let i = 0; i < end; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || BASE64_ALPHABET[code] !== 1) return false;
  }
  return true;
}

/** The formats our contracts use beyond ajv-formats, for every Ajv that compiles them (Fastify's too). */
export const CONTRACT_FORMATS = { base64: { type: 'string', validate: isBase64 } } as const;

/**
 * The validator of an input contract, compiled on first use. Stricter than Fastify's defaults on
 * purpose: every error at once, unknown fields are errors, nothing is coerced, and strictTypes throws
 * where Fastify's Ajv would only log. strictRequired stays off: the oneOf branches of a code require
 * properties that their parent defines.
 */
export function strictValidator(schema: object): () => StrictValidate {
  let compiled: ValidateFunction | undefined;
  const validate: StrictValidate = Object.assign(
    (data: unknown): boolean => {
      const shadowing: ErrorObject[] = [];
      shadowingKeys(data, shadowing);
      if (shadowing.length > 0) {
        validate.errors = shadowing;
        return false;
      }
      compiled ??= compile(schema);
      const ok = compiled(data);
      validate.errors = ok ? [] : [...(compiled.errors ?? [])];
      return ok;
    },
    { errors: [] as ErrorObject[] },
  );
  return () => validate;
}

function compile(schema: object): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strictSchema: true, strictNumbers: true, strictTypes: true, strictTuples: true, strictRequired: false });
  addFormats(ajv);
  for (const [name, format] of Object.entries(CONTRACT_FORMATS)) ajv.addFormat(name, format);
  return ajv.compile(schema);
}
