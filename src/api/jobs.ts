// Bulk import over HTTP (issue 8): POST /v1/offers/$import takes an NDJSON body (one offer per line, as
// POST /v1/offers takes it) and answers 202 with a job once the body is stored durably; GET /v1/jobs/{id}
// shows its progress and its rejected lines. The same engine as `telesante offers import` (src/peuplement).
//
// A job is a message of the outbox (kind offer-import; the job id is its delivery id), so that an
// accepted import is never lost: the worker runs it, a restart or a FHIR server down for a while only
// delays it (an interrupted import starts again from its first line, which rewrites nothing, every write
// being a conditional update), and its outcome (counts, rejected lines) stays in the outbox once it is
// done, for any instance to answer. Files larger than the route's body limit (4 × BODY_LIMIT_BYTES,
// 20 MB by default) go through the command line, which streams, checkpoints and resumes.
import { randomUUID } from 'node:crypto';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyPluginAsync } from 'fastify';
import type { Delivery, DeliveryService } from '../delivery/index.ts';
import type { FhirStore } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, importOffers, recordsOf } from '../peuplement/index.ts';
import type { ImportCounts } from '../peuplement/index.ts';
import { deliveryIdParam } from './deliveries.ts';
import { AccessDenied, ApiProblem } from './errors.ts';

/** Rejects kept per job, for the answer of GET /v1/jobs/{id}; the count goes on. */
export const MAX_REJECTS_SHOWN = 1000;
/** The outbox kind of an import job. */
export const IMPORT_KIND = 'offer-import';

export interface JobRoutesOptions {
  readonly store: FhirStore;
  readonly validator: Validator;
  readonly deliveries: DeliveryService;
  readonly clock?: () => Date;
  /** Valid offers per transaction, transactions in flight (the command line's defaults). */
  readonly batchSize?: number;
  readonly concurrency?: number;
  /** Largest NDJSON body (4 × BODY_LIMIT_BYTES by default in the app). */
  readonly bodyLimit?: number;
  /**
   * The engine's own retries of a transaction that failed transiently (the engine's defaults): past
   * them the import stops and the outbox tries it again later, with its backoff and its breaker.
   */
  readonly retries?: number;
  readonly backoffMs?: number;
}

/** What the outbox keeps of an accepted import until it is done (then erased, as every payload). */
interface ImportMessage {
  readonly ndjson: string;
}

interface JobReject {
  readonly line: number;
  readonly identifiantOffre?: string;
  readonly outcome: OperationOutcome;
}

/**
 * queued: accepted, waiting for the worker (or for the FHIR server: see `error`); running: under way in
 * this instance; done: every line written or rejected; failed: given up (`error` says why).
 */
type JobStatus = 'queued' | 'running' | 'done' | 'failed';

interface Job {
  readonly id: string;
  readonly status: JobStatus;
  readonly counts: ImportCounts;
  readonly rejects: readonly JobReject[];
  readonly createdAt: string;
  readonly finishedAt?: string;
  /** Attempts made so far (an import the FHIR server interrupted is tried again). */
  readonly attempts: number;
  /** Why the last attempt did not finish, or why the job failed. */
  readonly error?: string;
}

interface Progress {
  counts: ImportCounts;
  readonly rejects: JobReject[];
}

const NO_COUNTS: ImportCounts = { read: 0, imported: 0, rejected: 0 };

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
        properties: { line: { type: 'integer' }, identifiantOffre: { type: 'string' }, outcome: { type: 'object', additionalProperties: true } },
      },
    },
    createdAt: { type: 'string' },
    finishedAt: { type: 'string' },
    attempts: { type: 'integer' },
    error: { type: 'string' },
  },
} as const;

/** The job a delivery of kind offer-import stands for, as GET /v1/jobs/{id} shows it. */
function jobOf(delivery: Delivery, live: Progress | undefined): Job {
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
  const { deliveries } = options;
  const clock = options.clock ?? (() => new Date());
  const importBodyLimit = options.bodyLimit ?? 20 * 1024 * 1024;
  /** The imports this instance is running: their progress, until their outcome is in the outbox. */
  const running = new Map<string, Progress>();

  // Encapsulated in this plugin: only the import route reads NDJSON, as text under the body limit.
  for (const type of NDJSON_TYPES) app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  deliveries.handle(IMPORT_KIND, async (delivery, ctx) => {
    const { ndjson } = delivery.payload as ImportMessage;
    const progress: Progress = { counts: NO_COUNTS, rejects: [] };
    running.set(delivery.id, progress);
    try {
      const lines = ndjson.split(/\r?\n/);
      async function* text(): AsyncGenerator<string> {
        yield* lines;
      }
      const result = await importOffers(recordsOf(text(), 'ndjson'), {
        store: options.store,
        validator: options.validator,
        batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        // "now" is when the import was accepted, as for every message of the outbox: an import run again
        // after an interruption makes the same writes, which change nothing.
        clock: () => new Date(delivery.receivedAt),
        signal: ctx.signal,
        ...(options.retries === undefined ? {} : { retries: options.retries }),
        ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
        requestId: `${ctx.requestId ?? delivery.id}-import`,
        onReject: ({ line, identifiantOffre, outcome }) => {
          if (progress.rejects.length < MAX_REJECTS_SHOWN) progress.rejects.push({ line, outcome, ...(identifiantOffre === undefined ? {} : { identifiantOffre }) });
        },
        onProgress: (counts) => {
          progress.counts = counts;
        },
      });
      // Stopped by the shutdown: the worker leaves the message pending for the next start. Failed (the
      // FHIR server kept failing): the worker judges the error, and tries again later if it may pass.
      if (result.status === 'stopped') throw new Error('the import was stopped by the shutdown');
      if (result.status === 'failed') throw result.error ?? new Error('the import failed');
      const job: Job = { id: delivery.id, status: 'done', counts: result.counts, rejects: progress.rejects, createdAt: delivery.receivedAt, finishedAt: clock().toISOString(), attempts: delivery.attempts };
      app.log.info({ job: job.id, counts: job.counts }, 'offer import finished');
      return { status: 200, body: job };
    } finally {
      running.delete(delivery.id);
    }
  });
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
      config: { access: 'offers:write' },
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
        throw new ApiProblem(415, {
          code: 'not-supported',
          expression: 'header.content-type',
          message: `Envoyez les offres en NDJSON (Content-Type ${NDJSON_TYPES[0]}) : une offre JSON par ligne.`,
          diagnostics: `content-type ${request.headers['content-type'] ?? '(none)'}`,
        });
      }
      const message: ImportMessage = { ndjson: request.body };
      // Durable before the 202: from here on the outbox keeps the import until it is done.
      const { delivery } = await deliveries.submit({ kind: IMPORT_KIND, key: `${IMPORT_KIND}|${randomUUID()}`, payload: message, receivedAt: clock().toISOString(), requestId: String(request.id) });
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
      config: { access: 'offers:write' },
    },
    async (request) => {
      const delivery = await deliveries.get(request.params.id);
      if (delivery === undefined || delivery.kind !== IMPORT_KIND) {
        throw new ApiProblem(404, { code: 'not-found', expression: 'id', message: `Aucun import ${request.params.id}.`, diagnostics: 'unknown job' });
      }
      return jobOf(delivery, running.get(delivery.id));
    },
  );
};
