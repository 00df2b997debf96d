// The validation gate: every resource is validated in process, against FHIR R4, FR Core and our profiles,
// before it is written. The same definitions are loaded into HAPI (scripts/load-conformance.ts).
export { createValidator, FhirValidationError } from './validator.ts';
export type { Severity, ValidationIssue, Validator, ValidatorOptions } from './validator.ts';
export { toOperationOutcome, validateJson, validateText } from './outcome.ts';
export type { ValidationResult } from './outcome.ts';
export { CANONICAL_BASE } from './sources.ts';
export { PoolBusy, ValidationPool, ValidationTooCostly } from './pool.ts';
export type { PoolVerdict, ValidationPoolOptions } from './pool.ts';
