// What an import message (kind offer-import, POST /v1/offers/$import) does to the FHIR store: runs the
// import engine over its NDJSON, as `telesante offers import` does. Its live progress is kept here for
// GET /v1/jobs/{id}; its outcome (counts, rejected lines) is the message's answer, kept by the outbox.
// An interrupted import starts again from its first line, which rewrites nothing (every write is a
// conditional update), with the same "now": when the import was accepted.
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, importOffers, recordsOf } from '../import/index.ts';
import type { ImportCounts } from '../import/index.ts';
import type { WriteHandler } from './message.ts';

/** The outbox kind of an import job. */
export const IMPORT_KIND = 'offer-import';
/** Rejects kept per job, for the answer of GET /v1/jobs/{id}; the count goes on. */
export const MAX_REJECTS_SHOWN = 1000;

/** What the outbox keeps of an accepted import until it is done (then erased, as every payload). */
export interface ImportMessage {
  readonly ndjson: string;
}

export interface JobReject {
  readonly line: number;
  readonly identifiantOffre?: string;
  readonly outcome: OperationOutcome;
}

/**
 * queued: accepted, waiting for the worker (or for the FHIR server: see `error`); running: under way in
 * this instance; done: every line written or rejected; failed: given up (`error` says why).
 */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
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

export interface ImportProgress {
  counts: ImportCounts;
  readonly rejects: JobReject[];
}

export const NO_COUNTS: ImportCounts = { read: 0, imported: 0, rejected: 0 };

/** Who counts the imports' progress (the metrics), beside GET /v1/jobs/{id}. */
export interface ImportWatcher {
  /** An import starts; the function answered says it ended. */
  importStarted(): () => void;
  /** An import's counts went from `before` to `after`. */
  importProgress(before: ImportCounts, after: ImportCounts): void;
}

export interface ImportWritesOptions {
  readonly store: FhirStore;
  readonly validator: Validator;
  /** The imports this instance is running, by job id: their progress until their outcome is stored. */
  readonly running: Map<string, ImportProgress>;
  readonly clock: () => Date;
  readonly log: { info(object: object, message: string): void };
  /** Valid offers per transaction, transactions in flight (the command line's defaults). */
  readonly batchSize?: number;
  readonly concurrency?: number;
  /**
   * The engine's own retries of a transaction that failed transiently (the engine's defaults): past
   * them the import stops and the outbox tries it again later, with its backoff and its breaker.
   */
  readonly retries?: number;
  readonly backoffMs?: number;
  readonly watcher?: ImportWatcher;
}

export function importWrites(options: ImportWritesOptions): Record<typeof IMPORT_KIND, WriteHandler> {
  const { running } = options;
  return {
    [IMPORT_KIND]: async (message, ctx) => {
      const { ndjson } = message.payload as ImportMessage;
      const progress: ImportProgress = { counts: NO_COUNTS, rejects: [] };
      running.set(message.id, progress);
      const ended = options.watcher?.importStarted();
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
          clock: () => new Date(message.receivedAt),
          signal: ctx.signal,
          ...(options.retries === undefined ? {} : { retries: options.retries }),
          ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
          requestId: `${ctx.requestId ?? message.id}-import`,
          onReject: ({ line, identifiantOffre, outcome }) => {
            if (progress.rejects.length < MAX_REJECTS_SHOWN) progress.rejects.push({ line, outcome, ...(identifiantOffre === undefined ? {} : { identifiantOffre }) });
          },
          onProgress: (counts) => {
            options.watcher?.importProgress(progress.counts, counts);
            progress.counts = counts;
          },
        });
        // Stopped by the shutdown: the worker leaves the message pending for the next start. Failed (the
        // FHIR server kept failing): the worker judges the error, and tries again later if it may pass.
        if (result.status === 'stopped') throw new Error('the import was stopped by the shutdown');
        if (result.status === 'failed') throw result.error ?? new Error('the import failed');
        const job: Job = {
          id: message.id,
          status: 'done',
          counts: result.counts,
          rejects: progress.rejects,
          createdAt: message.receivedAt,
          finishedAt: options.clock().toISOString(),
          attempts: message.attempts,
        };
        options.log.info({ job: job.id, counts: job.counts }, 'offer import finished');
        return { status: 200, body: job };
      } finally {
        ended?.();
        running.delete(message.id);
      }
    },
  };
}
