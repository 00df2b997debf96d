import type { FastifyPluginAsync } from 'fastify';
import type { FhirStore } from '../fhir/index.ts';

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    store: { type: 'string', description: 'hapi or embedded' },
    reason: { type: 'string' },
  },
  required: ['status'],
} as const;

/** Liveness (the process answers) and readiness (the FHIR store answers), for orchestrators and people. */
export const healthRoutes: FastifyPluginAsync<{ store: FhirStore }> = async (app, { store }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the service process answers',
        response: { 200: healthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: the FHIR store answers (HAPI /metadata says FHIR 4.0.1, or the embedded store is up)',
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (request, reply) => {
      const state = await store.ready({ requestId: String(request.id), signal: AbortSignal.timeout(5_000) });
      return reply.code(state.ok ? 200 : 503).send({ status: state.ok ? 'ok' : 'unavailable', store: store.kind, reason: state.reason });
    },
  );
};
