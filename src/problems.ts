// The problems every room may throw, in the words of the room that found them and without an HTTP
// status: a route, the outbox's worker and the command line all meet the same types. api/errors.ts is
// the one place that turns them into statuses; the worker records the same answer through it.
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

type IssueSeverity = OperationOutcomeIssue['severity'];
type IssueCode = OperationOutcomeIssue['code'];

/** One problem: becomes one issue of an OperationOutcome. */
export interface Problem {
  readonly severity?: IssueSeverity;
  readonly code?: IssueCode;
  /** Path in the request body (`patient.ins`, `participants[1].rpps`) or in a FHIR resource. */
  readonly expression?: string;
  /** What a person can act on; French first. */
  readonly message: string;
  /** The technical cause, or the stable code of the rule that was broken. */
  readonly diagnostics?: string;
}

/** The OperationOutcome of some problems: one issue each, `details.text` the message a person reads. */
export function operationOutcome(problems: readonly Problem[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: problems.map((problem) => {
      const issue: OperationOutcomeIssue = {
        severity: problem.severity ?? 'error',
        code: problem.code ?? 'invalid',
        details: { text: problem.message },
      };
      if (problem.diagnostics !== undefined) issue.diagnostics = problem.diagnostics;
      if (problem.expression !== undefined) issue.expression = [problem.expression];
      return issue;
    }),
  };
}

/** A finding of the business rules of model/ or mapping/ (ActIssue, OfferIssue share this shape). */
interface RuleIssue {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

/** The problems of rule findings; `errorCode` is the issue code of an error (a warning is informational). */
export function problemsOfIssues(issues: readonly RuleIssue[], errorCode: IssueCode): Problem[] {
  return issues.map((issue) => ({
    severity: issue.severity,
    code: issue.severity === 'error' ? errorCode : 'informational',
    expression: issue.field,
    message: issue.message,
    diagnostics: issue.code,
  }));
}

export type ProblemKind =
  | 'invalid-input'
  | 'business-rule'
  | 'not-found'
  | 'conflict'
  | 'access-denied'
  | 'authentication-failed'
  | 'too-many-requests'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'service-busy';

/** What every problem type carries: its kind (for the HTTP face) and the problems it names. */
export abstract class ProblemError extends Error {
  abstract readonly kind: ProblemKind;
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[] | Problem) {
    const list = Array.isArray(problems) ? problems : [problems as Problem];
    super(list.map((problem) => problem.message).join(' | '));
    this.problems = list;
  }
}

/** The input is malformed: a field missing, of the wrong type or shape. */
export class InvalidInput extends ProblemError {
  readonly kind = 'invalid-input';
  override readonly name = 'InvalidInput';
}

/** The input is well formed but breaks a business rule (a bad INS key, an unknown code). */
export class BusinessRuleBroken extends ProblemError {
  readonly kind = 'business-rule';
  override readonly name = 'BusinessRuleBroken';
}

/** What the request names does not exist (an act, an offer, a delivery). */
export class NotFound extends ProblemError {
  readonly kind = 'not-found';
  override readonly name = 'NotFound';
}

/** The request contradicts the state of what it names (a replay of a delivery that is not dead…). */
export class Conflict extends ProblemError {
  readonly kind = 'conflict';
  override readonly name = 'Conflict';
}

export class PayloadTooLarge extends ProblemError {
  readonly kind = 'payload-too-large';
  override readonly name = 'PayloadTooLarge';
}

export class UnsupportedMediaType extends ProblemError {
  readonly kind = 'unsupported-media-type';
  override readonly name = 'UnsupportedMediaType';
}

/** The client sent more requests than its share; `retryAfterS` says when to try again. */
export class TooManyRequests extends ProblemError {
  readonly kind = 'too-many-requests';
  override readonly name = 'TooManyRequests';
  readonly retryAfterS: number;

  /** `problem` says which budget ran out when it is not the client's per minute (the anonymous one, per address). */
  constructor(limitPerMinute: number, retryAfterS: number, problem?: Problem) {
    super(problem ?? { code: 'throttled', message: `Trop de requêtes : au plus ${limitPerMinute} par minute ; réessayez dans ${retryAfterS} s.`, diagnostics: 'rate limit' });
    this.retryAfterS = retryAfterS;
  }
}

/** The service cannot take this work now (every validation worker busy); `retryAfterS` says when to try again. */
export class ServiceBusy extends ProblemError {
  readonly kind = 'service-busy';
  override readonly name = 'ServiceBusy';
  readonly retryAfterS: number;

  constructor(problem: Problem, retryAfterS: number) {
    super({ code: 'transient', ...problem });
    this.retryAfterS = retryAfterS;
  }
}

/**
 * No credentials, or credentials that do not hold (bad signature, expired, wrong issuer or audience,
 * unknown API key). The answer never says more than the RFC 6750 error code: the details go to
 * `diagnostics` only as a fixed reason, never the token.
 */
export class AuthenticationFailed extends ProblemError {
  readonly kind = 'authentication-failed';
  override readonly name = 'AuthenticationFailed';
  /** RFC 6750: absent when no credentials were sent, `invalid_token` when they do not hold. */
  readonly error: 'invalid_token' | 'invalid_request' | undefined;
  readonly reason: string;

  constructor(reason: string, error?: 'invalid_token' | 'invalid_request') {
    super({
      code: 'login',
      message: 'Authentification requise : envoyez un jeton (Authorization: Bearer …) ou une clé d’API (X-API-Key) valides.',
      diagnostics: reason,
    });
    this.reason = reason;
    this.error = error;
  }
}

/** Authenticated, but the route needs a scope the client lacks, or a structure it is not bound to. */
export class AccessDenied extends ProblemError {
  readonly kind = 'access-denied';
  override readonly name = 'AccessDenied';
  /** The scopes the route accepts, for WWW-Authenticate (insufficient_scope). */
  readonly scopes: readonly string[] | undefined;

  constructor(problem: Problem, scopes?: readonly string[]) {
    super({ code: 'forbidden', ...problem });
    this.scopes = scopes;
  }
}
