import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Validator } from './validator.ts';
import type { ValidationIssue } from './walker.ts';

export interface ValidationResult {
  /** No issue of severity error. */
  readonly valid: boolean;
  readonly issues: readonly ValidationIssue[];
  /** What POST /v1/$validate answers and `telesante validate` prints. */
  readonly outcome: OperationOutcome;
}

const ISSUE_TYPES = new Set<OperationOutcomeIssue['code']>([
  'invalid', 'structure', 'required', 'value', 'invariant', 'security', 'login', 'unknown', 'expired', 'forbidden',
  'suppressed', 'processing', 'not-supported', 'duplicate', 'multiple-matches', 'not-found', 'deleted', 'too-long',
  'code-invalid', 'extension', 'too-costly', 'business-rule', 'conflict', 'transient', 'lock-error', 'no-store',
  'exception', 'timeout', 'incomplete', 'throttled', 'informational',
]);

/** One OperationOutcome issue per validation issue; `expression` is the path in the resource. */
export function toOperationOutcome(issues: readonly ValidationIssue[]): OperationOutcome {
  if (issues.length === 0) {
    return {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', details: { text: 'Aucune anomalie / no issues found' } }],
    };
  }
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: ISSUE_TYPES.has(i.code as OperationOutcomeIssue['code']) ? (i.code as OperationOutcomeIssue['code']) : 'invalid',
      details: { text: i.message },
      ...(i.expression ? { expression: [i.expression] } : {}),
    })),
  };
}

/**
 * Validates JSON that should be a FHIR resource (a request body, a file): anything that is not an object
 * with a resourceType is one error issue, never an exception.
 */
export function validateJson(validator: Validator, input: unknown): ValidationResult {
  let issues: ValidationIssue[];
  if (typeof input !== 'object' || input === null || Array.isArray(input) || typeof (input as { resourceType?: unknown }).resourceType !== 'string') {
    issues = [{ severity: 'error', code: 'structure', expression: '', message: "Ce n'est pas une ressource FHIR : resourceType manquant / not a FHIR resource: no resourceType" }];
  } else {
    try {
      issues = validator.validate(input as Resource);
    } catch (error) {
      // The validator walks what it is given and can trip on shapes no FHIR resource has (found by the
      // fuzz test: a property named like an Object method, `{"gender": {"valueOf": null}}`): that is
      // the document's fault, said as such, never a 500.
      issues = [
        {
          severity: 'error',
          code: 'structure',
          expression: '',
          message: `Document FHIR invalide : sa structure empêche la validation / invalid FHIR document: it cannot be validated (${error instanceof Error ? error.message : String(error)})`,
        },
      ];
    }
  }
  return { valid: !issues.some((i) => i.severity === 'error'), issues, outcome: toOperationOutcome(issues) };
}

/** Validates the text of a JSON document (a file for `telesante validate`): bad JSON is an error issue. */
export function validateText(validator: Validator, text: string): ValidationResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    const issues: ValidationIssue[] = [
      { severity: 'error', code: 'structure', expression: '', message: `JSON illisible / unreadable JSON: ${error instanceof Error ? error.message : String(error)}` },
    ];
    return { valid: false, issues, outcome: toOperationOutcome(issues) };
  }
  return validateJson(validator, input);
}
