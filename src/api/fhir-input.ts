// The FHIR doors of the write routes (POST /v1/acts, POST /v1/offers with application/fhir+json): how a
// route knows it was posted FHIR, and how its answer carries, as an OperationOutcome on the posted
// resources, what was not kept (the warnings a JSON client reads in `warnings`, with our field names).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InputIssue } from '../mapping/index.ts';
import { operationOutcome, problemsOfIssues } from '../problems.ts';
import { OPERATION_OUTCOME_SCHEMA } from './answer-schemas.ts';
import { FHIR_JSON } from './errors.ts';
import { mediaTypeOf } from './media-types.ts';

/** Posted as FHIR (the routes' accepted types are in config.accepts, media-types.ts): the body is a Bundle, not our JSON. */
export const isFhirRequest = (request: FastifyRequest): boolean => mediaTypeOf(request.headers['content-type']) === FHIR_JSON;

/** The `outcome` of a write answer to a FHIR post. */
export const fhirInputOutcomeSchema = {
  ...OPERATION_OUTCOME_SCHEMA,
  description: 'Envoi en FHIR : OperationOutcome des avertissements (éléments non repris, règles), expression = chemin FHIRPath dans ce qui a été envoyé',
} as const;

/** A 2xx answer schema that may also carry the outcome. */
export function withFhirOutcome<S extends { properties: object }>(schema: S): S {
  return { ...schema, properties: { ...schema.properties, outcome: fhirInputOutcomeSchema } };
}

/** Keeps the warnings of a FHIR post for its answer; `hook` is the route's preSerialization. */
export function fhirWarnings(): {
  keep(request: FastifyRequest, warnings: readonly InputIssue[]): void;
  hook(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown>;
} {
  const kept = new WeakMap<FastifyRequest, readonly InputIssue[]>();
  return {
    keep: (request, warnings) => kept.set(request, warnings),
    hook: async (request, _reply, payload) => {
      const warnings = kept.get(request);
      if (warnings === undefined || typeof payload !== 'object' || payload === null) return payload;
      return { ...payload, outcome: operationOutcome(problemsOfIssues(warnings, 'informational')) };
    },
  };
}
