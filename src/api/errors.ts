// The ONE place where errors become HTTP answers. Every error is a FHIR OperationOutcome: one issue per
// problem, `expression` = the path in the request body, `details.text` = what a person should do
// (French first), `diagnostics` = the technical cause. Never a stack trace; a 500 only for our own bugs.
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Failure } from '../delivery/index.ts';
import { FhirStoreError } from '../fhir/index.ts';
import type { FhirErrorKind } from '../fhir/index.ts';
import { FhirValidationError } from '../fhir/validation/index.ts';
import { AccessDenied, AuthenticationFailed, operationOutcome, ProblemError, ServiceBusy, TooManyRequests } from '../problems.ts';
import type { Problem, ProblemKind } from '../problems.ts';

export const FHIR_JSON = 'application/fhir+json';

/** The status each problem type answers with: the only table of it. */
const STATUS_OF_PROBLEM: Readonly<Record<ProblemKind, number>> = {
  'invalid-input': 400,
  'authentication-failed': 401,
  'access-denied': 403,
  'not-found': 404,
  conflict: 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'business-rule': 422,
  'too-many-requests': 429,
  'service-busy': 503,
};

/** The HTTP status of a problem type. */
export function statusOf(problem: ProblemError): number {
  return STATUS_OF_PROBLEM[problem.kind];
}

const REALM = 'telesante-fhir';

function challengeOf(error: AuthenticationFailed | AccessDenied): string {
  if (error instanceof AccessDenied) {
    return error.scopes === undefined ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="insufficient_scope", scope="${error.scopes.join(' ')}"`;
  }
  return error.error === undefined ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="${error.error}"`;
}

export function sendOutcome(reply: FastifyReply, status: number, problems: readonly Problem[]): FastifyReply {
  return reply.code(status).type(FHIR_JSON).send(operationOutcome(problems));
}

/** A problem answered over HTTP, with the headers its type calls for (WWW-Authenticate, Retry-After). */
function sendProblem(reply: FastifyReply, error: ProblemError): FastifyReply {
  if (error instanceof TooManyRequests || error instanceof ServiceBusy) reply.header('retry-after', String(error.retryAfterS));
  if (error instanceof AuthenticationFailed || (error instanceof AccessDenied && error.scopes !== undefined)) reply.header('www-authenticate', challengeOf(error));
  return sendOutcome(reply, statusOf(error), error.problems);
}

// --- request validation (Ajv, through Fastify's route schemas) -------------------------------------

interface AjvIssue {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

/** `/participants/1/rpps` → `participants[1].rpps`; the body root is `(body)`. */
export function pathOf(instancePath: string, extra?: string): string {
  const segments = instancePath.split('/').slice(1);
  if (extra !== undefined) segments.push(extra);
  let path = '';
  for (const raw of segments) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path;
}

function frenchMessageOf(issue: AjvIssue): string {
  const params = issue.params;
  switch (issue.keyword) {
    case 'required':
      return `Le champ ${String(params.missingProperty)} est obligatoire.`;
    case 'additionalProperties':
      return `Le champ ${String(params.additionalProperty)} n'est pas prévu par le contrat : retirez-le (ou vérifiez son orthographe).`;
    case 'type':
      return `Type attendu : ${String(params.type)}.`;
    case 'enum':
      return `Valeur non permise : attendue l'une de ${(params.allowedValues as unknown[] | undefined)?.map(String).join(', ') ?? '(liste)'}.`;
    case 'const':
      return `Valeur attendue : ${String(params.allowedValue)}.`;
    case 'format':
      return `Format attendu : ${String(params.format)}.`;
    case 'pattern':
      return `Format invalide : la valeur doit suivre le motif ${String(params.pattern)}.`;
    case 'minLength':
      return `Trop court : au moins ${String(params.limit)} caractère(s).`;
    case 'maxLength':
      return `Trop long : au plus ${String(params.limit)} caractère(s).`;
    case 'minItems':
      return `Au moins ${String(params.limit)} élément(s) attendu(s).`;
    case 'maxItems':
      return `Au plus ${String(params.limit)} élément(s) permis.`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `Valeur trop petite : ${String(params.comparison)} ${String(params.limit)} attendu.`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `Valeur trop grande : ${String(params.comparison)} ${String(params.limit)} attendu.`;
    case 'oneOf':
    case 'anyOf':
      return 'La valeur ne correspond à aucune des formes permises.';
    default:
      return `Valeur invalide (${issue.keyword}).`;
  }
}

function locationPrefix(context: string | undefined): string {
  if (context === 'querystring') return 'query.';
  if (context === 'params') return 'path.';
  if (context === 'headers') return 'header.';
  return '';
}

export function problemsOfValidation(issues: readonly AjvIssue[], context: string | undefined): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const issue of issues) {
    // A oneOf failure also reports each branch's own failure: keep the precise ones when present.
    if ((issue.keyword === 'oneOf' || issue.keyword === 'anyOf') && issues.length > 1) continue;
    const extra =
      issue.keyword === 'required'
        ? String(issue.params.missingProperty)
        : issue.keyword === 'additionalProperties'
          ? String(issue.params.additionalProperty)
          : undefined;
    const path = pathOf(issue.instancePath, extra);
    const expression = `${locationPrefix(context)}${path === '' ? '(body)' : path}`;
    const key = `${expression}|${issue.keyword}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({
      code: issue.keyword === 'required' ? 'required' : issue.keyword === 'additionalProperties' ? 'structure' : 'value',
      expression,
      message: frenchMessageOf(issue),
      diagnostics: `schema rule "${issue.keyword}"${issue.message ? `: ${issue.message}` : ''}`,
    });
  }
  return problems;
}

// --- the FHIR side ---------------------------------------------------------------------------------

const STATUS_OF_KIND: Readonly<Record<FhirErrorKind, number>> = {
  invalid: 422,
  'not-found': 404,
  conflict: 409,
  'precondition-failed': 409,
  'rate-limited': 503,
  unavailable: 503,
  timeout: 504,
  'server-error': 502,
};

const MESSAGE_OF_KIND: Readonly<Record<FhirErrorKind, string>> = {
  invalid: 'Le serveur FHIR a refusé les données : corrigez-les selon le diagnostic.',
  'not-found': "La ressource demandée n'existe pas sur le serveur FHIR.",
  conflict: 'Écriture concurrente sur le serveur FHIR : renvoyez la même requête, elle est sans risque.',
  'precondition-failed':
    'Plusieurs ressources du serveur FHIR portent le même identifiant métier : la donnée doit être dédoublonnée avant toute écriture.',
  'rate-limited': 'Le serveur FHIR est surchargé : renvoyez la requête plus tard.',
  unavailable: 'Le serveur FHIR est indisponible : renvoyez la requête plus tard.',
  timeout: "Le serveur FHIR n'a pas répondu à temps : renvoyez la requête, elle est sans risque.",
  'server-error': 'Le serveur FHIR a rencontré une erreur : renvoyez la requête plus tard.',
};

function problemsOfStoreError(error: FhirStoreError): Problem[] {
  const serverIssues = error.outcome?.issue?.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal') ?? [];
  const base: Problem = {
    code: error.kind === 'invalid' ? 'processing' : error.kind === 'not-found' ? 'not-found' : error.kind === 'conflict' ? 'conflict' : 'transient',
    message: MESSAGE_OF_KIND[error.kind],
    diagnostics: error.message,
  };
  if (error.kind === 'precondition-failed') return [{ ...base, code: 'multiple-matches' }];
  if (serverIssues.length === 0) return [base];
  return serverIssues.map((issue) => ({
    ...base,
    diagnostics: issue.diagnostics ?? issue.details?.text ?? error.message,
    ...(issue.expression?.[0] !== undefined ? { expression: issue.expression[0] } : {}),
  }));
}

function problemsOfFhirValidation(error: FhirValidationError): Problem[] {
  return error.issues.filter((issue) => issue.severity === 'error').map((issue) => ({
    severity: issue.severity,
    code: 'processing',
    expression: issue.expression,
    message: `Les ressources FHIR produites ne sont pas conformes : ${issue.message}`,
    diagnostics: `FHIR validation (${issue.code})`,
  }));
}

// --- delivery (the outbox's worker) ------------------------------------------------------------------

/** A write accepted into the outbox whose delivery failed for good while the client waited. */
export class DeliveryFailed extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  readonly deliveryId: string;

  constructor(deliveryId: string, status: number, outcome: OperationOutcome) {
    super(`delivery ${deliveryId} failed with ${status}`);
    this.name = 'DeliveryFailed';
    this.deliveryId = deliveryId;
    this.status = status;
    this.outcome = outcome;
  }
}

const SERVER_DOWN: ReadonlySet<FhirErrorKind> = new Set(['unavailable', 'timeout', 'server-error', 'rate-limited']);

/**
 * How the outbox's worker judges a failed delivery: the answer the client would get (status and
 * OperationOutcome), whether trying again may help, and whether it says the FHIR server is down.
 */
export function failureOf(error: unknown): Failure {
  if (error instanceof ProblemError) {
    return { status: statusOf(error), message: error.message, outcome: operationOutcome(error.problems), transient: false, serverDown: false };
  }
  if (error instanceof FhirValidationError) {
    const problems = problemsOfFhirValidation(error);
    return { status: 422, message: problems.map((p) => p.message).join(' | '), outcome: operationOutcome(problems), transient: false, serverDown: false };
  }
  if (error instanceof FhirStoreError) {
    return {
      status: STATUS_OF_KIND[error.kind],
      message: error.message,
      outcome: operationOutcome(problemsOfStoreError(error)),
      ...(error.outcome !== undefined ? { serverOutcome: error.outcome } : {}),
      transient: error.transient,
      serverDown: SERVER_DOWN.has(error.kind),
    };
  }
  // Our own bug: trying again would fail the same way. A dead letter, replayable once fixed.
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: 500,
    message,
    outcome: operationOutcome([{ code: 'exception', message: 'Erreur interne du service lors de la livraison : signalez-la avec l’identifiant de livraison.', diagnostics: message }]),
    transient: false,
    serverDown: false,
  };
}

// --- Fastify's own errors ------------------------------------------------------------------------

function problemsOfFastifyError(error: FastifyError, request: FastifyRequest, defaultBodyLimit: number): { status: number; problems: Problem[] } | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const bodyLimit = request.routeOptions.bodyLimit ?? defaultBodyLimit;
      return {
        status: 413,
        problems: [{ code: 'too-long', expression: '(body)', message: `Corps de requête trop volumineux : au plus ${bodyLimit} octets.`, diagnostics: error.message }],
      };
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        problems: [
          {
            code: 'not-supported',
            expression: 'header.content-type',
            message: `Type de contenu non pris en charge (${request.headers['content-type'] ?? 'absent'}) : envoyez application/json ou application/fhir+json.`,
            diagnostics: error.message,
          },
        ],
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, problems: [{ code: 'required', expression: '(body)', message: 'Le corps de la requête est vide : un document JSON est attendu.', diagnostics: error.message }] };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, problems: [{ code: 'structure', expression: '(body)', message: "Le corps de la requête n'est pas un JSON valide.", diagnostics: error.message }] };
    default:
      break;
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return { status: 400, problems: [{ code: 'structure', expression: '(body)', message: "Le corps de la requête n'est pas un JSON valide.", diagnostics: error.message }] };
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, problems: [{ code: 'invalid', message: 'Requête refusée.', diagnostics: error.message }] };
  }
  return undefined;
}

/** Installs the error and not-found handlers: every error answer of the service goes through here. */
export function registerErrorHandling(app: FastifyInstance, options: { bodyLimit: number }): void {
  app.setNotFoundHandler((request, reply) => {
    sendOutcome(reply, 404, [
      {
        code: 'not-found',
        expression: 'url',
        message: `Aucune ressource à cette adresse (${request.method} ${request.url.split('?')[0]}) : voyez /docs pour les routes du service.`,
        diagnostics: 'unknown route',
      },
    ]);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) return sendProblem(reply, error);
    if (error.validation) {
      return sendOutcome(reply, 400, problemsOfValidation(error.validation as AjvIssue[], error.validationContext));
    }
    if (error instanceof FhirValidationError) {
      // What we were about to write breaks FHIR R4, FR Core or our profiles: nothing was written.
      return sendOutcome(reply, 422, problemsOfFhirValidation(error));
    }
    if (error instanceof DeliveryFailed) {
      // Accepted into the outbox, then refused for good within the wait: the dead letter is named.
      if (error.status === 503) reply.header('retry-after', '5');
      return reply.code(error.status).header('location', `/v1/deliveries/${error.deliveryId}`).type(FHIR_JSON).send(error.outcome);
    }
    if (error instanceof FhirStoreError) {
      const status = STATUS_OF_KIND[error.kind];
      request.log.warn({ err: { message: error.message, kind: error.kind, status: error.status, hapiCode: error.hapiCode } }, 'FHIR store error');
      if (status === 503) reply.header('retry-after', '5');
      return sendOutcome(reply, status, problemsOfStoreError(error));
    }
    const known = problemsOfFastifyError(error, request, options.bodyLimit);
    if (known) return sendOutcome(reply, known.status, known.problems);
    request.log.error({ err: error }, 'unexpected error');
    return sendOutcome(reply, 500, [
      {
        code: 'exception',
        message: `Erreur interne du service : signalez-la avec l'identifiant de requête ${String(request.id)}.`,
        diagnostics: 'internal error (details in the service log under this request id)',
      },
    ]);
  });
}
