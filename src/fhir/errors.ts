import type { OperationOutcome } from '@medplum/fhirtypes';

// What went wrong on the FHIR side, in terms the rest of the service can act on. The HTTP face maps
// each kind to one status (api/errors.ts); the outbox decides from `transient` whether to retry.
export type FhirErrorKind =
  | 'invalid' // the server refused the content (400, 422)
  | 'not-found' // 404, 410
  | 'conflict' // 409: version conflict or concurrent write
  | 'precondition-failed' // 412: a conditional write matched several resources, or If-Match failed
  | 'rate-limited' // 429
  | 'unavailable' // 502, 503, or no connection at all
  | 'timeout' // no answer in time
  | 'server-error'; // any other 5xx

const TRANSIENT: ReadonlySet<FhirErrorKind> = new Set(['conflict', 'rate-limited', 'unavailable', 'timeout', 'server-error']);

export class FhirStoreError extends Error {
  readonly kind: FhirErrorKind;
  /** The status the FHIR server answered, when it answered. */
  readonly status: number | undefined;
  /** The server's own OperationOutcome, when it sent one (as keptOutcome keeps it). */
  readonly outcome: OperationOutcome | undefined;
  /** HAPI's message code, e.g. HAPI-0958, when the diagnostics carry one. */
  readonly hapiCode: string | undefined;

  constructor(kind: FhirErrorKind, message: string, options: { status?: number; outcome?: OperationOutcome; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'FhirStoreError';
    this.kind = kind;
    this.status = options.status;
    this.outcome = options.outcome === undefined ? undefined : keptOutcome(options.outcome);
    this.hapiCode = hapiCodeOf(options.outcome);
  }

  /** True when trying again later may succeed. */
  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }

  /** A conditional create or update matched more than one resource (HAPI-0958, or the embedded store's word for it). */
  get multipleMatches(): boolean {
    if (this.kind !== 'precondition-failed') return false;
    return this.hapiCode === 'HAPI-0958' || /multiple|several|plusieurs/i.test(outcomeText(this.outcome));
  }
}

function hapiCodeOf(outcome: OperationOutcome | undefined): string | undefined {
  for (const issue of outcome?.issue ?? []) {
    const match = /^(HAPI-\d{4})/.exec(issue.diagnostics ?? '');
    if (match) return match[1];
  }
  return undefined;
}

export function kindOfStatus(status: number): FhirErrorKind {
  if (status === 404 || status === 410) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 412) return 'precondition-failed';
  if (status === 429) return 'rate-limited';
  if (status === 502 || status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  if (status >= 500) return 'server-error';
  return 'invalid';
}

/** The text of an OperationOutcome's issues, for error messages and logs (never patient data: servers echo none). */
export function outcomeText(outcome: OperationOutcome | undefined): string {
  const parts = (outcome?.issue ?? []).map((issue) => issue.diagnostics ?? issue.details?.text ?? issue.code);
  return parts.filter((part) => part !== undefined && part !== '').join('; ');
}

/** Issues of a server's OperationOutcome kept with its error (and on a dead letter), and characters of each diagnostics. */
export const KEPT_ISSUES = 20;
const KEPT_DIAGNOSTICS_CHARS = 1_000;

/**
 * A FHIR server's OperationOutcome as the service keeps it: on the error, then durably on a dead letter
 * and in GET /v1/deliveries. HAPI's validation of a large transaction can answer hundreds of issues and a
 * narrative that repeats them: the first KEPT_ISSUES issues are kept (severity, code, expression,
 * diagnostics cut to KEPT_DIAGNOSTICS_CHARS, details.text), the rest counted in one last issue.
 */
function keptOutcome(outcome: OperationOutcome): OperationOutcome {
  const issues = outcome.issue ?? [];
  const cut = (text: string | undefined): string | undefined => (text === undefined || text.length <= KEPT_DIAGNOSTICS_CHARS ? text : `${text.slice(0, KEPT_DIAGNOSTICS_CHARS - 1)}…`);
  const kept = issues.slice(0, KEPT_ISSUES).map((issue) => {
    const diagnostics = cut(issue.diagnostics);
    const details = cut(issue.details?.text);
    return {
      severity: issue.severity,
      code: issue.code,
      ...(issue.expression === undefined ? {} : { expression: issue.expression.slice(0, 5) }),
      ...(diagnostics === undefined ? {} : { diagnostics }),
      ...(details === undefined ? {} : { details: { text: details } }),
    };
  });
  if (issues.length > KEPT_ISSUES) {
    kept.push({ severity: 'information', code: 'informational', diagnostics: `${issues.length - KEPT_ISSUES} more issue(s) not kept` });
  }
  return { resourceType: 'OperationOutcome', ...(outcome.id === undefined ? {} : { id: outcome.id }), issue: kept };
}

/**
 * Why an OperationOutcome refused something, in one short line: its errors, each as `expression:
 * diagnostics`, at most `maxChars` long (an AuditEvent's outcomeDesc, a span's status).
 */
export function outcomeSummary(outcome: OperationOutcome, maxChars = 300): string {
  const issues = outcome.issue ?? [];
  const errors = issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
  const text = (errors.length > 0 ? errors : issues)
    .map((issue) => {
      const why = issue.diagnostics ?? issue.details?.text ?? issue.code;
      return issue.expression?.[0] === undefined ? why : `${issue.expression[0]}: ${why}`;
    })
    .join('; ');
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}
