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

/** The keys of `data`, at any depth, that shadow an Object.prototype member, as Ajv errors. */
function shadowingKeys(data: unknown, instancePath: string, errors: ErrorObject[]): void {
  if (data === null || typeof data !== 'object') return;
  if (Array.isArray(data)) {
    data.forEach((item, index) => shadowingKeys(item, `${instancePath}/${index}`, errors));
    return;
  }
  for (const [key, value] of Object.entries(data)) {
    if (INHERITED_NAMES.has(key)) {
      errors.push({ keyword: 'additionalProperties', instancePath, schemaPath: '#/additionalProperties', params: { additionalProperty: key }, message: 'must NOT have additional properties' });
    } else {
      shadowingKeys(value, `${instancePath}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, errors);
    }
  }
}

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
      shadowingKeys(data, '', shadowing);
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
  return ajv.compile(schema);
}
