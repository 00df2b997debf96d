export interface UnknownCodeInit {
  /** Path of the field in the request body that carried the code, when the caller knows it. */
  readonly field?: string;
  /** The code system, value set or ConceptMap source the code was looked up in. */
  readonly system: string;
  readonly code: string;
}

/** A code that no shipped CodeSystem, ValueSet or ConceptMap knows: the API answers 422. */
export class UnknownCodeError extends Error {
  readonly field?: string;
  readonly system: string;
  readonly code: string;

  constructor(init: UnknownCodeInit) {
    super(
      `Code inconnu « ${init.code} » pour ${init.system}${init.field ? ` (champ ${init.field})` : ''} / ` +
        `unknown code '${init.code}' in ${init.system}`,
    );
    this.name = 'UnknownCodeError';
    if (init.field !== undefined) this.field = init.field;
    this.system = init.system;
    this.code = init.code;
  }
}
