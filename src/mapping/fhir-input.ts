// What both FHIR doors (acts, offers) share: where each field of our model came from in the posted
// resources, and the elements of those resources that the model does not hold.
import type { Resource } from '@medplum/fhirtypes';

/** A finding about posted FHIR: the shape of ActIssue and OfferIssue, `field` a FHIRPath into what was posted. */
export interface InputIssue {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

/** Fields of the model (`performers[0].rpps`) → FHIRPaths of what was posted (`Bundle.entry[4].resource.identifier`). */
export class FieldPaths {
  private readonly paths = new Map<string, string>();
  private readonly fallback: string;

  /** `fallback`: the path of a field nothing more precise is known of (the Bundle itself). */
  constructor(fallback: string) {
    this.fallback = fallback;
  }

  from(field: string, path: string): void {
    this.paths.set(field, path);
  }

  /** The path of the field, else of its closest parent that has one: `performers[0].rpps`, `performers[0]`, `performers`. */
  pathOf(field: string): string {
    let key = field;
    for (;;) {
      const found = this.paths.get(key);
      if (found !== undefined) return found;
      const cut = Math.max(key.lastIndexOf('.'), key.lastIndexOf('['));
      if (cut <= 0) return this.paths.get('') ?? this.fallback;
      key = key.slice(0, cut);
    }
  }
}

/** Elements that carry no business data: never reported as not held. */
const HOUSEKEEPING = new Set(['resourceType', 'id', 'meta', 'text']);

/** One warning per top-level element of `resource` the model does not read (`read` names the ones it does). */
export function elementsNotHeld(resource: Resource, path: string, read: ReadonlySet<string>): InputIssue[] {
  return Object.keys(resource)
    .filter((key) => !HOUSEKEEPING.has(key) && !read.has(key))
    .map((key) => ({
      severity: 'warning',
      code: 'FHIR_ELEMENT_NOT_HELD',
      field: `${path}.${key}`,
      message: `L'élément ${resource.resourceType}.${key} n'est pas repris dans l'enregistrement.`,
    }));
}
