import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under Node's ESM its default import is the module object or the function.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/**
 * The validator of an input contract, compiled on first use. Stricter than Fastify's defaults on
 * purpose: every error at once, unknown fields are errors, nothing is coerced, and strictTypes throws
 * where Fastify's Ajv would only log. strictRequired stays off: the oneOf branches of a code require
 * properties that their parent defines.
 */
export function strictValidator(schema: object): () => ValidateFunction {
  let compiled: ValidateFunction | undefined;
  return () => {
    if (compiled === undefined) {
      const ajv = new Ajv({ allErrors: true, strictSchema: true, strictNumbers: true, strictTypes: true, strictTuples: true, strictRequired: false });
      addFormats(ajv);
      compiled = ajv.compile(schema);
    }
    return compiled;
  };
}
