import type { FastifyPluginAsync } from 'fastify';
import type { Validator } from '../fhir/validation/index.ts';
import { validateJson } from '../fhir/validation/index.ts';
import { FHIR_JSON } from './errors.ts';

/** POST /v1/$validate: a FHIR resource or Bundle in, the verdict of the validation gate out. */
export const validateRoutes: FastifyPluginAsync<{ validator: Validator }> = async (app, { validator }) => {
  app.post(
    '/v1/$validate',
    {
      schema: {
        tags: ['conformance'],
        summary: 'Valide une ressource ou un Bundle FHIR contre FHIR R4, FR Core et nos profils (meta.profile)',
        description: 'Répond 200 avec un OperationOutcome quand la ressource est valide, 422 quand elle a des erreurs (chaque issue nomme son chemin).',
        body: { type: 'object', required: ['resourceType'], properties: { resourceType: { type: 'string' } } },
      },
      // Checks a document against the profiles; reads and writes nothing: any authenticated client.
      config: { access: 'authenticated' },
    },
    async (request, reply) => {
      const result = validateJson(validator, request.body);
      return reply.code(result.valid ? 200 : 422).type(FHIR_JSON).send(result.outcome);
    },
  );
};
