// Bulk import over HTTP (issue 8): POST /v1/offers/$import takes an NDJSON body (one offer per line, as
// POST /v1/offers takes it) and answers 202 with a job once the body is stored durably; GET /v1/jobs/{id}
// shows its progress and its rejected lines. The same engine as `telesante offers import` (src/import).
//
// A job is a message of the outbox (kind offer-import; the job id is its delivery id), so that an
// accepted import is never lost: the worker runs it, a restart or a FHIR server down for a while only
// delays it (an interrupted import starts again from its first line, which rewrites nothing, every write
// being a conditional update), and its outcome (counts, rejected lines) stays in the outbox once it is
// done, for any instance to answer. Files larger than the route's body limit (4 × BODY_LIMIT_BYTES,
// 20 MB by default) go through the command line, which streams, checkpoints and resumes.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { Delivery, DeliveryService } from '../delivery/index.ts';
import { AccessDenied, NotFound, UnsupportedMediaType } from '../problems.ts';
import { IMPORT_KIND, MAX_REJECTS_SHOWN, NO_COUNTS } from '../writes/index.ts';
import type { ImportMessage, ImportProgress, Job } from '../writes/index.ts';
import { assertJsonDepth, assertSubmittedBy } from '../security/index.ts';
import { OPERATION_OUTCOME_SCHEMA } from './answer-schemas.ts';
import { deliveryIdParam } from './deliveries.ts';

export interface JobRoutesOptions {
  readonly deliveries: DeliveryService;
  /** The imports this instance is running (writes/offer-import.ts keeps their progress there). */
  readonly running: ReadonlyMap<string, ImportProgress>;
  readonly clock?: () => Date;
  /** Largest NDJSON body (4 × BODY_LIMIT_BYTES by default in the app). */
  readonly bodyLimit?: number;
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/fhir+ndjson'];

const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
    counts: {
      type: 'object',
      properties: { read: { type: 'integer' }, imported: { type: 'integer' }, rejected: { type: 'integer' } },
    },
    rejects: {
      type: 'array',
      description: `Les lignes rejetées (les ${MAX_REJECTS_SHOWN} premières), chacune avec son OperationOutcome`,
      items: {
        type: 'object',
        properties: { line: { type: 'integer' }, identifiantOffre: { type: 'string' }, outcome: OPERATION_OUTCOME_SCHEMA },
      },
    },
    createdAt: { type: 'string' },
    finishedAt: { type: 'string' },
    attempts: { type: 'integer' },
    error: { type: 'string' },
  },
} as const;

/** The job a delivery of kind offer-import stands for, as GET /v1/jobs/{id} shows it. */
function jobOf(delivery: Delivery, live: ImportProgress | undefined): Job {
  const base = { id: delivery.id, createdAt: delivery.receivedAt, attempts: delivery.attempts };
  const error = delivery.lastError?.message;
  if (delivery.status === 'delivered') return { ...(delivery.answer?.body as Job), attempts: delivery.attempts };
  if (delivery.status === 'dead') {
    return { ...base, status: 'failed', counts: NO_COUNTS, rejects: [], ...(delivery.lastAttemptAt === undefined ? {} : { finishedAt: new Date(delivery.lastAttemptAt).toISOString() }), ...(error === undefined ? {} : { error }) };
  }
  if (live !== undefined) return { ...base, status: 'running', counts: live.counts, rejects: live.rejects };
  return { ...base, status: 'queued', counts: NO_COUNTS, rejects: [], ...(error === undefined ? {} : { error }) };
}

export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, options) => {
  const { deliveries, running } = options;
  const clock = options.clock ?? (() => new Date());
  const importBodyLimit = options.bodyLimit ?? 20 * 1024 * 1024;

  // Encapsulated in this plugin: only the import route reads NDJSON, as text under the body limit.
  // Each line is checked for depth as a JSON body is (security/body.ts).
  for (const type of NDJSON_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => {
      try {
        assertJsonDepth(String(body), true);
        done(null, body);
      } catch (error) {
        done(error as Error);
      }
    });
  }

  app.post(
    '/v1/offers/$import',
    {
      schema: {
        tags: ['offers'],
        summary: "Import en masse d'offres (NDJSON : une offre par ligne) ; répond 202 avec un job à suivre",
        description:
          'Chaque ligne est jugée comme POST /v1/offers ; les lignes valides sont écrites par transactions groupées, les autres rejetées avec leur ' +
          'numéro de ligne et un OperationOutcome (GET /v1/jobs/{id}). Corps limité à 4 × BODY_LIMIT_BYTES : au-delà, utilisez `telesante offers import`.',
        consumes: NDJSON_TYPES,
        response: { 202: jobSchema },
      },
      config: { access: 'offers:write', accepts: NDJSON_TYPES },
      bodyLimit: importBodyLimit,
    },
    async (request, reply) => {
      if (request.principal?.finess !== undefined) {
        // Each line could name another structure: bulk import is for clients bound to no structure.
        throw new AccessDenied({
          expression: 'header.authorization',
          message: "L'import en masse est réservé aux clients qui ne sont liés à aucune structure : publiez vos offres une à une (POST /v1/offers).",
          diagnostics: 'bulk import refused to a FINESS-bound client',
        });
      }
      if (typeof request.body !== 'string') {
        throw new UnsupportedMediaType({
          code: 'not-supported',
          expression: 'header.content-type',
          message: `Envoyez les offres en NDJSON (Content-Type ${NDJSON_TYPES[0]}) : une offre JSON par ligne.`,
          diagnostics: `content-type ${request.headers['content-type'] ?? '(none)'}`,
        });
      }
      const message: ImportMessage = { ndjson: request.body };
      // Durable before the 202: from here on the outbox keeps the import until it is done.
      const { delivery } = await deliveries.submit({ kind: IMPORT_KIND, key: `${IMPORT_KIND}|${randomUUID()}`, payload: message, receivedAt: clock().toISOString(), requestId: String(request.id), ...(request.principal ? { submittedBy: request.principal.clientId } : {}) });
      return reply.code(202).header('location', `/v1/jobs/${delivery.id}`).send(jobOf(delivery, running.get(delivery.id)));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['offers'],
        summary: "L'avancement d'un import et ses lignes rejetées",
        params: deliveryIdParam,
        response: { 200: jobSchema },
      },
      config: { access: ['offers:write', 'deliveries:admin'] },
    },
    async (request) => {
      const delivery = await deliveries.get(request.params.id);
      if (delivery === undefined || delivery.kind !== IMPORT_KIND) {
        throw new NotFound({ code: 'not-found', expression: 'id', message: `Aucun import ${request.params.id}.`, diagnostics: 'unknown job' });
      }
      assertSubmittedBy(request.principal ?? null, delivery.submittedBy, 'job');
      return jobOf(delivery, running.get(delivery.id));
    },
  );
};
