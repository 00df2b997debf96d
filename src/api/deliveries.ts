// Deliveries: what the service accepted and still owes (or owed) the FHIR store. Writes go through
// submitWrite: the message is stored durably, then the request waits up to DELIVERY_WAIT_MS for its
// delivery; past that it answers 202 with Location: /v1/deliveries/{id}. GET one or a list (pending,
// dead letters), and $replay a dead letter once its cause is fixed.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { fingerprintOf } from '../delivery/index.ts';
import type { Delivery, DeliveryService, DeliveryStatus } from '../delivery/index.ts';
import { ApiProblem, DeliveryFailed } from './errors.ts';
import { queryValidatorCompiler } from './query.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The answer of a write that is accepted but not yet delivered. */
export const acceptedAnswerSchema = {
  type: 'object',
  description: 'Acceptée et conservée durablement ; la livraison au serveur FHIR suit (voir Location)',
  properties: {
    deliveryId: { type: 'string' },
    status: { type: 'string', enum: ['pending'] },
    location: { type: 'string' },
  },
} as const;

export interface WriteMessage {
  readonly kind: string;
  readonly key: string;
  readonly payload: unknown;
  readonly receivedAt: Date;
}

export interface WriteOptions {
  readonly deliveries: DeliveryService;
  readonly waitMs: number;
}

function locationOf(id: string): string {
  return `/v1/deliveries/${id}`;
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new ApiProblem(400, {
      code: 'value',
      expression: 'header.idempotency-key',
      message: "L'en-tête Idempotency-Key doit compter de 1 à 255 caractères ASCII visibles (un UUID par exemple).",
      diagnostics: 'invalid Idempotency-Key',
    });
  }
  return value;
}

/**
 * Stores the (already validated) write in the outbox, waits for its delivery, and answers: the answer
 * the delivery earned (201/200 + references), the error it met for good (4xx with the dead letter's
 * Location), or 202 + Location when it is still under way. An Idempotency-Key seen before answers for
 * the first request when the body is the same, and 422 when it is not.
 */
export async function submitWrite(request: FastifyRequest, reply: FastifyReply, options: WriteOptions, message: WriteMessage): Promise<FastifyReply> {
  const idempotencyKey = idempotencyKeyOf(request);
  const fingerprint = idempotencyKey === undefined ? undefined : fingerprintOf(message.kind, { params: request.params, body: request.body });
  const { delivery, created } = await options.deliveries.submit({
    kind: message.kind,
    key: message.key,
    payload: message.payload,
    receivedAt: message.receivedAt.toISOString(),
    requestId: String(request.id),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(fingerprint !== undefined ? { fingerprint } : {}),
  });
  if (!created && (delivery.fingerprint !== fingerprint || delivery.kind !== message.kind)) {
    throw new ApiProblem(422, {
      code: 'conflict',
      expression: 'header.idempotency-key',
      message: "Cette clé Idempotency-Key a déjà servi pour une autre requête : utilisez une nouvelle clé pour un nouveau contenu.",
      diagnostics: `Idempotency-Key already used with another body (delivery ${delivery.id})`,
    });
  }
  const settled = (await options.deliveries.settle(delivery.id, options.waitMs)) ?? delivery;
  reply.header('x-delivery-id', settled.id);
  if (settled.status === 'delivered' && settled.answer) return reply.code(settled.answer.status).send(settled.answer.body);
  if (settled.status === 'dead' && settled.lastError) throw new DeliveryFailed(settled.id, settled.lastError.status, settled.lastError.outcome);
  return reply
    .code(202)
    .header('location', locationOf(settled.id))
    .send({ deliveryId: settled.id, status: 'pending', location: locationOf(settled.id) });
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A delivery as the API shows it: never the message itself (it carries personal data). */
function viewOf(delivery: Delivery): Record<string, unknown> {
  return {
    id: delivery.id,
    kind: delivery.kind,
    key: delivery.key,
    status: delivery.status,
    attempts: delivery.attempts,
    receivedAt: delivery.receivedAt,
    lastAttemptAt: iso(delivery.lastAttemptAt),
    nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAt) : undefined,
    deliveredAt: iso(delivery.deliveredAt),
    lastError: delivery.lastError,
    answer: delivery.answer,
  };
}

/** The id of a delivery in a path (a UUID): also the id of an import job. */
export const deliveryIdParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$', description: 'Identifiant de livraison (UUID)' } },
} as const;

function notFound(id: string): ApiProblem {
  return new ApiProblem(404, { code: 'not-found', expression: 'id', message: `Aucune livraison ${id}.`, diagnostics: 'unknown delivery' });
}

export const deliveryRoutes: FastifyPluginAsync<{ deliveries: DeliveryService }> = async (app, { deliveries }) => {
  app.get<{ Params: { id: string } }>(
    '/v1/deliveries/:id',
    {
      schema: {
        tags: ['deliveries'],
        summary: "L'état d'une écriture acceptée : pending, delivered (avec la réponse) ou dead (avec l'erreur du serveur FHIR)",
        params: deliveryIdParam,
      },
      // The Location of a 202: whoever may write may follow its writes.
      config: { access: ['acts:write', 'offers:write', 'deliveries:admin'] },
    },
    async (request) => {
      const delivery = await deliveries.get(request.params.id);
      if (!delivery) throw notFound(request.params.id);
      return viewOf(delivery);
    },
  );

  app.get<{ Querystring: { status?: DeliveryStatus; limit?: number; kind?: string } }>(
    '/v1/deliveries',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Les écritures en attente de livraison (pending) ou en lettres mortes (dead), les plus anciennes d’abord',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['pending', 'dead', 'delivered'], default: 'pending' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            kind: { type: 'string', pattern: '^[a-z-]{1,32}$', description: "Seulement ce genre de message (act, offer, audit…) ; sans lui, les écritures, sans les enregistrements d'audit" },
          },
        },
      },
      config: { access: 'deliveries:admin' },
      validatorCompiler: queryValidatorCompiler,
    },
    async (request) => {
      const { status = 'pending', limit = 100, kind } = request.query;
      const { total, deliveries: found } = await deliveries.list(status, limit, kind === undefined ? { exceptKinds: ['audit'] } : { kinds: [kind] });
      return { status, total, breaker: deliveries.breakerState, deliveries: found.map(viewOf) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/deliveries/:id/$replay',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Remet une lettre morte en livraison, une fois sa cause corrigée',
        params: deliveryIdParam,
      },
      config: { access: 'deliveries:admin' },
    },
    async (request, reply) => {
      const { id } = request.params;
      const result = await deliveries.replay(id);
      if (result === 'not-found') throw notFound(id);
      if (result === 'not-dead') {
        throw new ApiProblem(409, { code: 'conflict', expression: 'id', message: 'Seule une livraison en lettres mortes (dead) peut être rejouée.', diagnostics: 'not a dead letter' });
      }
      if (result === 'superseded') {
        throw new ApiProblem(409, {
          code: 'conflict',
          expression: 'id',
          message: 'Une version plus récente du même objet a déjà été livrée : rejouer celle-ci écraserait la plus récente.',
          diagnostics: 'superseded by a later delivery of the same business key',
        });
      }
      return reply.code(202).header('location', locationOf(id)).send({ deliveryId: id, status: 'pending', location: locationOf(id) });
    },
  );
};
