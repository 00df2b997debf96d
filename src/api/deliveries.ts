// Deliveries: what the service accepted and still owes (or owed) the FHIR store. Writes go through
// submitWrite: the message is stored durably, then the request waits up to DELIVERY_WAIT_MS for its
// delivery; past that it answers 202 with Location: /v1/deliveries/{id}. GET one or a list (pending,
// dead letters; by kind, source system and time, page after page), $replay a dead letter once its cause
// is fixed, or DELETE it (discard: an operator's decision, audited as every write). The page /deliveries
// (console.ts) is the operators' face of these routes.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { fingerprintOf } from '../delivery/index.ts';
import type { Delivery, DeliveryFilter, DeliveryService, DeliveryStatus } from '../delivery/index.ts';
import { BusinessRuleBroken, Conflict, InvalidInput, NotFound } from '../problems.ts';
import { DeliveryFailed } from './errors.ts';
import { queryValidatorCompiler } from './query.ts';
import { assertSubmittedBy } from '../security/index.ts';

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
  /** The system it comes from (an act's `source`); by default the client that sent it. */
  readonly source?: string;
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
    throw new InvalidInput({
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
    ...(message.source !== undefined || request.principal !== null ? { source: message.source ?? request.principal?.clientId } : {}),
    ...(request.principal ? { submittedBy: request.principal.clientId } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(fingerprint !== undefined ? { fingerprint } : {}),
  });
  if (!created && (delivery.fingerprint !== fingerprint || delivery.kind !== message.kind)) {
    throw new BusinessRuleBroken({
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
    source: delivery.source,
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

interface DeliveryQuery {
  readonly status?: DeliveryStatus;
  readonly limit?: number;
  readonly kind?: string;
  readonly source?: string;
  readonly from?: string;
  readonly to?: string;
  readonly after?: number;
}

/** A day, or an instant with its offset (a time without one would depend on the server's zone). */
const INSTANT = '^\\d{4}-\\d\\d-\\d\\d(T\\d\\d:\\d\\d(:\\d\\d(\\.\\d{1,9})?)?(Z|[+-]\\d\\d:\\d\\d))?$';

/** The instant as the outbox keeps acceptance times (toISOString), or a 400 naming the parameter. */
function instantOf(value: string, name: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new InvalidInput({ code: 'value', expression: `query.${name}`, message: `${name} n'est pas une date valide : ${value}.`, diagnostics: 'invalid date' });
  }
  return new Date(time).toISOString();
}

function notFound(id: string): NotFound {
  return new NotFound({ code: 'not-found', expression: 'id', message: `Aucune livraison ${id}.`, diagnostics: 'unknown delivery' });
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
      assertSubmittedBy(request.principal ?? null, delivery.submittedBy, 'delivery');
      return viewOf(delivery);
    },
  );

  app.get<{ Querystring: DeliveryQuery }>(
    '/v1/deliveries',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Les écritures en attente de livraison (pending), en lettres mortes (dead) ou livrées, les plus anciennes d’abord, par genre, système source et date',
        description: 'Une page de `limit` livraisons ; `next`, quand il y en a d’autres, se passe en `after` pour lire la page suivante. `total` compte toutes les pages.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['pending', 'dead', 'delivered'], default: 'pending' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            kind: { type: 'string', pattern: '^[a-z-]{1,32}$', description: "Seulement ce genre de message (act, offer, audit…) ; sans lui, les écritures, sans les enregistrements d'audit" },
            source: { type: 'string', minLength: 1, maxLength: 256, description: "Seulement ce système source (le `source` d'un acte, sinon le client qui l'a envoyé)" },
            from: { type: 'string', pattern: INSTANT, description: 'Acceptées à partir de cet instant (inclus), par exemple 2026-11-23 ou 2026-11-23T10:00:00Z' },
            to: { type: 'string', pattern: INSTANT, description: 'Acceptées avant cet instant (exclu)' },
            after: { type: 'integer', minimum: 0, description: 'La page qui suit celle dont la réponse donnait ce `next`' },
          },
        },
      },
      config: { access: 'deliveries:admin' },
      validatorCompiler: queryValidatorCompiler,
    },
    async (request) => {
      const { status = 'pending', limit = 100, kind, source, from, to, after } = request.query;
      const filter: DeliveryFilter = {
        ...(kind === undefined ? { exceptKinds: ['audit'] } : { kinds: [kind] }),
        ...(source === undefined ? {} : { source }),
        // The outbox keeps acceptance instants as toISOString writes them: compared as such.
        ...(from === undefined ? {} : { from: instantOf(from, 'from') }),
        ...(to === undefined ? {} : { to: instantOf(to, 'to') }),
        ...(after === undefined ? {} : { afterSeq: after }),
      };
      const { total, deliveries: found } = await deliveries.list(status, limit, filter);
      const last = found.at(-1);
      return { status, total, breaker: deliveries.breakerState, deliveries: found.map(viewOf), ...(found.length === limit && last !== undefined ? { next: last.seq } : {}) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/deliveries/:id',
    {
      schema: {
        tags: ['deliveries'],
        summary: "Abandonne une lettre morte : elle est retirée de l'outbox pour de bon (l'abandon est tracé dans l'audit)",
        params: deliveryIdParam,
      },
      config: { access: 'deliveries:admin' },
    },
    async (request) => {
      const { id } = request.params;
      const result = await deliveries.outbox.discard(id);
      if (result === 'not-found') throw notFound(id);
      if (result === 'not-dead') {
        throw new Conflict({ code: 'conflict', expression: 'id', message: 'Seule une livraison en lettres mortes (dead) peut être abandonnée.', diagnostics: 'not a dead letter' });
      }
      request.log.warn({ deliveryId: id }, 'delivery: dead letter discarded by an operator');
      return { deliveryId: id, status: 'discarded' };
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
        throw new Conflict({ code: 'conflict', expression: 'id', message: 'Seule une livraison en lettres mortes (dead) peut être rejouée.', diagnostics: 'not a dead letter' });
      }
      if (result === 'superseded') {
        throw new Conflict({
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
