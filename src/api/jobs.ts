// Bulk import over HTTP (issue 8): POST /v1/offers/$import takes an NDJSON body (one offer per line, as
// POST /v1/offers takes it) and answers 202 with a job at once; GET /v1/jobs/{id} shows its progress and
// its rejected lines. The same engine as `telesante offers import` (src/peuplement).
//
// Jobs live in this process's memory: a restart forgets them, and the lines not yet written with them.
// Since every write is a conditional update, sending the same file again is the way to recover; files
// larger than the body limit (BODY_LIMIT_BYTES, 5 MB by default) go through the command line, which
// streams, checkpoints and resumes. The route takes 4 × BODY_LIMIT_BYTES (20 MB by default).
import { randomUUID } from 'node:crypto';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyPluginAsync } from 'fastify';
import type { FhirStore } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, importOffers, recordsOf } from '../peuplement/index.ts';
import type { ImportCounts } from '../peuplement/index.ts';
import { AccessDenied, ApiProblem } from './errors.ts';

/** Rejects kept per job, for the answer of GET /v1/jobs/{id}; the count goes on. */
export const MAX_REJECTS_SHOWN = 1000;
/** Finished jobs kept, oldest forgotten first. */
const MAX_JOBS = 200;

export interface JobRoutesOptions {
  readonly store: FhirStore;
  readonly validator: Validator;
  readonly clock?: () => Date;
  /** Valid offers per transaction, transactions in flight (the command line's defaults). */
  readonly batchSize?: number;
  readonly concurrency?: number;
  /** Largest NDJSON body (4 × BODY_LIMIT_BYTES by default in the app). */
  readonly bodyLimit?: number;
}

interface Job {
  readonly id: string;
  status: 'running' | 'done' | 'failed';
  counts: ImportCounts;
  readonly rejects: { line: number; identifiantOffre?: string; outcome: OperationOutcome }[];
  readonly createdAt: string;
  finishedAt?: string;
  error?: string;
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/fhir+ndjson'];

const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['running', 'done', 'failed'] },
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
    error: { type: 'string' },
  },
} as const;

export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, options) => {
  const jobs = new Map<string, Job>();
  const importBodyLimit = options.bodyLimit ?? 20 * 1024 * 1024;

  // Encapsulated in this plugin: only the import route reads NDJSON, as text under the body limit.
  for (const type of NDJSON_TYPES) app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  function remember(job: Job): void {
    jobs.set(job.id, job);
    if (jobs.size <= MAX_JOBS) return;
    for (const [id, old] of jobs) {
      if (old.status !== 'running') {
        jobs.delete(id);
        break;
      }
    }
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
      const job: Job = { id: randomUUID(), status: 'running', counts: { read: 0, imported: 0, rejected: 0 }, rejects: [], createdAt: new Date().toISOString() };
      remember(job);
      const lines = request.body.split(/\r?\n/);
      async function* text(): AsyncGenerator<string> {
        yield* lines;
      }
      const log = request.log;
      void importOffers(recordsOf(text(), 'ndjson'), {
        store: options.store,
        validator: options.validator,
        batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        requestId: `${String(request.id)}-import`,
        onReject: ({ line, identifiantOffre, outcome }) => {
          if (job.rejects.length < MAX_REJECTS_SHOWN) job.rejects.push({ line, outcome, ...(identifiantOffre === undefined ? {} : { identifiantOffre }) });
        },
        onProgress: (counts) => {
          job.counts = counts;
        },
      })
        .then((result) => {
          job.counts = result.counts;
          job.status = result.status === 'failed' ? 'failed' : 'done';
          if (result.error !== undefined) job.error = result.error.message;
          job.finishedAt = new Date().toISOString();
          log.info({ job: job.id, status: job.status, counts: job.counts }, 'offer import finished');
        })
        .catch((error: unknown) => {
          job.status = 'failed';
          job.error = error instanceof Error ? error.message : String(error);
          job.finishedAt = new Date().toISOString();
        });
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(job);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['offers'],
        summary: "L'avancement d'un import et ses lignes rejetées",
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: jobSchema },
      },
      config: { access: 'offers:write' },
    },
    async (request) => {
      const job = jobs.get(request.params.id);
      if (job === undefined) {
        throw new ApiProblem(404, { code: 'not-found', expression: 'id', message: `Aucun job ${request.params.id} (les jobs sont gardés en mémoire jusqu'au redémarrage du service).`, diagnostics: 'unknown job' });
      }
      return job;
    },
  );
};
