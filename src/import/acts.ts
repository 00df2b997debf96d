// The bulk import of acts: NDJSON, one act per line, each held to the rules of POST /v1/acts and written
// as that route's delivery writes it (the caller hands in that write: writes/ sits above this room), one
// transaction per act, K at a time. An act is a transaction of its own (Encounter, report, consent,
// Provenance…, read first to keep what is stored): unlike offers, there is nothing to merge. Two lines
// of the same act are written one after the other, in file order. Resumable as the offers' import is:
// the watermark says up to where every line is done; a replayed act changes nothing (idempotent on
// source and actId).
import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirStoreError } from '../fhir/index.ts';
import type { CallContext } from '../fhir/index.ts';
import { validateAct } from '../mapping/index.ts';
import type { Act, ActIssue } from '../model/act.ts';
import { operationOutcome, ProblemError, problemsOfIssues } from '../problems.ts';
import { Watermark } from './checkpoint.ts';
import type { ImportCounts } from './counts.ts';
import type { ImportResult, ImportRunOptions } from './engine.ts';
import type { ImportRecord } from './source.ts';

export interface ActImportOptions extends ImportRunOptions {
  /**
   * Maps, validates and writes one act (in a dry run: maps and validates only). Throws a problem
   * (problems.ts) for an act the store must not get, a FhirStoreError when the store refuses or fails.
   */
  readonly write: (act: Act, warnings: readonly ActIssue[], ctx: CallContext & { readonly receivedAt: string }) => Promise<void>;
  readonly allowTestIdentities?: boolean;
}

function unreadable(diagnostics: string): OperationOutcome {
  return operationOutcome([{ code: 'structure', message: 'Ligne illisible : corrigez-la selon le diagnostic.', diagnostics }]);
}

function refusedByStore(error: FhirStoreError): OperationOutcome {
  if (error.outcome?.issue !== undefined && error.outcome.issue.length > 0) return error.outcome;
  return operationOutcome([{ code: 'processing', message: 'Le serveur FHIR a refusé cet acte.', diagnostics: error.message }]);
}

/** Runs an import of acts to its end, its stop or its failure; never throws for a bad line. */
export async function importActs(records: AsyncIterable<ImportRecord>, options: ActImportOptions): Promise<ImportResult> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const clock = options.clock ?? (() => new Date());
  const retries = options.retries ?? 6;
  const backoffMs = options.backoffMs ?? 500;
  const resumeLine = options.resumeFrom?.line ?? 0;
  const watermark = new Watermark(options.resumeFrom ?? undefined);
  let live: ImportCounts = { ...(options.resumeFrom?.counts ?? { read: 0, imported: 0, rejected: 0 }) };
  let failure: Error | undefined;
  let sequence = 0;
  const inFlight = new Set<Promise<void>>();
  /** The write in flight of each act, so that a second line of the same act waits for the first. */
  const byAct = new Map<string, Promise<void>>();

  const reject = async (line: number, text: string, outcome: OperationOutcome, actId?: string): Promise<void> => {
    live = { ...live, rejected: live.rejected + 1 };
    await options.onReject?.({ line, text, outcome, ...(actId === undefined ? {} : { actId }) });
  };

  const finish = async (seq: number, line: number, rejected: boolean): Promise<void> => {
    if (watermark.done(seq, line, { read: 1, imported: rejected ? 0 : 1, rejected: rejected ? 1 : 0 })) await options.onWatermark?.(watermark.line, watermark.counts);
    options.onProgress?.(live);
  };

  async function writeOne(act: Act, warnings: readonly ActIssue[], line: number, text: string, seq: number): Promise<void> {
    const ctx = { receivedAt: clock().toISOString(), ...(options.requestId === undefined ? {} : { requestId: `${options.requestId}-${line}` }) };
    for (let attempt = 0; ; attempt++) {
      try {
        await options.write(act, warnings, ctx);
        live = { ...live, imported: live.imported + 1 };
        await finish(seq, line, false);
        return;
      } catch (error) {
        if (error instanceof ProblemError) {
          await reject(line, text, operationOutcome(error.problems), act.actId);
          await finish(seq, line, true);
          return;
        }
        if (error instanceof FhirStoreError && !error.transient) {
          await reject(line, text, refusedByStore(error), act.actId);
          await finish(seq, line, true);
          return;
        }
        if (!(error instanceof FhirStoreError) || attempt >= retries) throw error;
        await sleep(backoffMs * 2 ** attempt * (0.5 + Math.random()));
      }
    }
  }

  try {
    for await (const record of records) {
      if (record.line <= resumeLine) continue;
      if (options.signal?.aborted === true || failure !== undefined) break;
      live = { ...live, read: live.read + 1 };
      const seq = sequence++;
      if (record.unreadable !== undefined) {
        await reject(record.line, record.text, unreadable(record.unreadable));
        await finish(seq, record.line, true);
        continue;
      }
      const validation = validateAct(record.body, { allowTestIdentities: options.allowTestIdentities === true });
      if (!validation.ok) {
        const actId = (record.body as { actId?: unknown } | null)?.actId;
        await reject(record.line, record.text, operationOutcome(problemsOfIssues(validation.issues, 'business-rule')), typeof actId === 'string' ? actId : undefined);
        await finish(seq, record.line, true);
        continue;
      }
      const act = validation.act;
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const key = `${act.source}|${act.actId}`;
      const before = byAct.get(key) ?? Promise.resolve();
      const running: Promise<void> = before
        .then(() => writeOne(act, validation.warnings, record.line, record.text, seq))
        .catch((error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => {
          inFlight.delete(running);
          if (byAct.get(key) === running) byAct.delete(key);
        });
      inFlight.add(running);
      byAct.set(key, running);
    }
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
  }
  await Promise.all(inFlight);
  const status = failure !== undefined ? 'failed' : options.signal?.aborted === true ? 'stopped' : 'done';
  return { status, counts: live, watermark: watermark.line, watermarkCounts: watermark.counts, ...(failure === undefined ? {} : { error: failure }) };
}
