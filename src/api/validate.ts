import type { FastifyPluginAsync } from 'fastify';
import { PoolBusy, ValidationTooCostly } from '../fhir/validation/index.ts';
import type { ValidationPool } from '../fhir/validation/index.ts';
import { assertJsonDepth } from '../security/index.ts';
import { PayloadTooLarge, ServiceBusy } from '../problems.ts';
import { FHIR_JSON } from './errors.ts';
import { JSON_TYPE } from './media-types.ts';

export interface ValidateRoutesOptions {
  readonly pool: ValidationPool;
  /** Largest document accepted (413 past it). */
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/**
 * POST /v1/$validate: a FHIR resource or Bundle in, the verdict of the validation gate out. The document
 * is parsed and validated by a worker thread (fhir/validation/pool.ts), never on the event loop.
 */
export const validateRoutes: FastifyPluginAsync<ValidateRoutesOptions> = async (app, { pool, maxBytes, timeoutMs }) => {
  // Here only (the plugin is encapsulated): the body stays text, after the depth check, for the worker to parse.
  app.removeContentTypeParser(['application/json', FHIR_JSON]);
  app.addContentTypeParser(['application/json', FHIR_JSON], { parseAs: 'string' }, (_request, body, done) => {
    try {
      assertJsonDepth(String(body));
      done(null, body);
    } catch (error) {
      done(error as Error);
    }
  });

  app.post(
    '/v1/$validate',
    {
      schema: {
        tags: ['conformance'],
        summary: 'Valide une ressource ou un Bundle FHIR contre FHIR R4, FR Core et nos profils (meta.profile)',
        description:
          'Répond 200 avec un OperationOutcome quand la ressource est valide, 422 quand elle a des erreurs (chaque issue nomme son chemin). ' +
          `Au plus ${maxBytes} octets (413) et ${timeoutMs / 1000} s de validation (413) ; 503 avec Retry-After quand tous les validateurs sont occupés. Portée fhir:validate.`,
        body: { type: 'object', required: ['resourceType'], properties: { resourceType: { type: 'string' } } },
      },
      // The worker judges the document; the schema above is its documentation.
      validatorCompiler: () => () => true,
      bodyLimit: maxBytes,
      config: { access: 'fhir:validate', accepts: [FHIR_JSON, JSON_TYPE] }, // FHIR first, in the OpenAPI document
    },
    async (request, reply) => {
      let verdict;
      try {
        verdict = await pool.validate(String(request.body));
      } catch (error) {
        if (error instanceof PoolBusy) {
          throw new ServiceBusy({ expression: '(body)', message: 'Tous les validateurs sont occupés : réessayez dans quelques secondes.', diagnostics: 'validation pool full' }, 5);
        }
        if (error instanceof ValidationTooCostly) {
          throw new PayloadTooLarge({
            code: 'too-costly',
            expression: '(body)',
            message: `Document trop coûteux à valider ici : plus de ${timeoutMs / 1000} s. Validez-le par parties (entrées du Bundle).`,
            diagnostics: error.message,
          });
        }
        throw error;
      }
      // Serialized by the worker: a large Bundle's outcome (thousands of issues) is not written on the event loop.
      return reply.code(verdict.valid ? 200 : 422).type(FHIR_JSON).send(verdict.outcomeJson);
    },
  );
};
