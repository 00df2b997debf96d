// What the profile walk and the slice matching read of an element definition (its types, fixed[x] and
// pattern[x]) and of an instance's values (objects, arrays, codes), with FHIR's equality and pattern rules.
import type { ElementDefinition, ElementDefinitionType } from '@medplum/fhirtypes';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const arrayify = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function typeCode(type: ElementDefinitionType): string {
  // Primitive `value` elements carry their FHIRPath type in an extension; their code is a System type.
  const fhirType = type.extension?.find(
    (e) => e.url === 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type',
  )?.valueUrl;
  return fhirType ?? type.code ?? '';
}

/** What the walk reads of an element definition on every value, worked out once per definition. */
interface Prepared {
  /** `fixed[x]` and `pattern[x]`. */
  readonly fixed: unknown;
  readonly pattern: unknown;
  /** The type codes, in order (typeCode of each). */
  readonly types: readonly string[];
}
const preparedDefinitions = new WeakMap<ElementDefinition, Prepared>();

export function prepared(def: ElementDefinition): Prepared {
  let found = preparedDefinitions.get(def);
  if (found === undefined) {
    let fixed: unknown;
    let pattern: unknown;
    for (const [key, value] of Object.entries(def)) {
      if (fixed === undefined && key.startsWith('fixed') && key.length > 'fixed'.length) fixed = value;
      if (pattern === undefined && key.startsWith('pattern') && key.length > 'pattern'.length) pattern = value;
    }
    found = { fixed, pattern, types: (def.type ?? []).map(typeCode) };
    preparedDefinitions.set(def, found);
  }
  return found;
}

/** `fixed[x]` / `pattern[x]` of an element definition. */
export function specifiedValue(def: ElementDefinition, kind: 'fixed' | 'pattern'): unknown {
  return prepared(def)[kind];
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** FHIR pattern semantics: every property of the pattern is in the value; arrays match item by item. */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const values = arrayify(value);
    return pattern.every((p) => values.some((v) => matchesPattern(v, p)));
  }
  if (isObject(pattern)) {
    if (!isObject(value)) return false;
    return Object.entries(pattern).every(([k, p]) => matchesPattern(value[k], p));
  }
  return value === pattern;
}

export interface Coded {
  readonly system?: string;
  readonly code: string;
}

export function codingsOf(value: unknown, type: string): Coded[] | undefined {
  switch (type) {
    case 'code':
    case 'string':
    case 'uri':
      return typeof value === 'string' ? [{ code: value }] : [];
    case 'Coding':
    case 'Quantity':
      return isObject(value) && typeof value.code === 'string'
        ? [{ code: value.code, ...(typeof value.system === 'string' ? { system: value.system } : {}) }]
        : [];
    case 'CodeableConcept':
      return isObject(value) ? arrayify(value.coding).flatMap((c) => codingsOf(c, 'Coding') ?? []) : [];
    default:
      return undefined;
  }
}
