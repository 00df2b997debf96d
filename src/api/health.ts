import type { FastifyPluginAsync } from 'fastify';
import type { DeliveryService } from '../delivery/index.ts';
import type { FhirStore } from '../fhir/index.ts';

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    store: { type: 'string', description: 'hapi or embedded' },
    reason: { type: 'string' },
    deliveries: {
      type: 'object',
      description: 'Accepted writes not yet on the FHIR server: an operator watches these grow',
      properties: {
        pending: { type: 'integer', description: 'waiting for delivery or for a retry' },
        dead: { type: 'integer', description: 'dead letters: refused by the FHIR server, waiting for a replay' },
        breaker: { type: 'string', enum: ['closed', 'open', 'half-open'], description: 'open: the FHIR server failed repeatedly, deliveries pause' },
      },
      required: ['pending', 'dead', 'breaker'],
    },
  },
  required: ['status'],
} as const;

/**
 * Liveness (the process answers) and readiness (the FHIR store answers), for orchestrators and people.
 * Readiness also shows the delivery backlog: it does not decide readiness (the service accepts writes
 * while HAPI is down, that is what the outbox is for), it tells an operator what is waiting.
 */
export const healthRoutes: FastifyPluginAsync<{ store: FhirStore; deliveries: DeliveryService }> = async (app, { store, deliveries }) => {
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
        summary: 'Readiness: the FHIR store answers (HAPI /metadata says FHIR 4.0.1, or the embedded store is up); the delivery backlog',
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (request, reply) => {
      const [state, pending, dead] = await Promise.all([
        store.ready({ requestId: String(request.id), signal: AbortSignal.timeout(5_000) }),
        deliveries.list('pending', 0),
        deliveries.list('dead', 0),
      ]);
      return reply.code(state.ok ? 200 : 503).send({
        status: state.ok ? 'ok' : 'unavailable',
        store: store.kind,
        reason: state.reason,
        deliveries: { pending: pending.total, dead: dead.total, breaker: deliveries.breakerState },
      });
    },
  );
};
