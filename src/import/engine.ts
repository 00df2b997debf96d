// The bulk import of offers (issue 8), one engine behind the command line and POST /v1/offers/$import.
//
//   records ─► validateOffer ─► batch of B valid offers ─► read their stored HealthcareServices (one search)
//           ─► toOfferBundle each ─► merge into one transaction (shared resources once) ─► validation gate
//           ─► FHIR store, K batches in flight
//
// A line is judged by the same rules as POST /v1/offers. The stored HealthcareServices of a batch are
// read first (one search by identifier, with their PractitionerRoles) so that a re-imported offer keeps
// its ROR creation date and loses the roles of professionals no longer listed, exactly as through the
// API; the search costs one request per batch, not one per offer. A transaction the server refuses (4xx)
// is split in two, again and again, until the lines it refuses are alone: the others land, each refused
// line goes to the rejects with the server's OperationOutcome. Transient failures (timeout, 409, 429,
// 5xx) are retried with backoff: every write is a conditional update, so a repeat is harmless. Batches
// that never get through stop the import (status failed); the watermark says where to resume.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bundle, HealthcareService, OperationOutcome, OperationOutcomeIssue, PractitionerRole } from '@medplum/fhirtypes';
import { asStored, FhirStoreError } from '../fhir/index.ts';
import type { CallContext, FhirStore } from '../fhir/index.ts';
import type { ValidationIssue, Validator } from '../fhir/validation/index.ts';
import { mergeTransactionBundles, OFFER_IDENTIFIER_SYSTEM, toOfferBundle, validateOffer } from '../mapping/index.ts';
import type { Offer, OfferIssue } from '../model/offer.ts';
import { Watermark } from './checkpoint.ts';
import type { ImportCounts } from './counts.ts';
import type { ImportRecord } from './source.ts';

export interface ImportReject {
  readonly line: number;
  readonly identifiantOffre?: string;
  /** For an import of acts: the act's identifier in its source system. */
  readonly actId?: string;
  readonly outcome: OperationOutcome;
  /** The line as it was in the file. */
  readonly text: string;
}

/** What every bulk import run takes, offers or acts: pacing, resume, callbacks, retries. */
export interface ImportRunOptions {
  /** Transactions (offers) or acts (acts) in flight at once. */
  readonly concurrency: number;
  readonly clock?: () => Date;
  /** Aborting stops the reading; the batches in flight finish, then the import answers `stopped`. */
  readonly signal?: AbortSignal;
  /** Resume: lines up to this number (and the counts up to them) are done already. */
  readonly resumeFrom?: { readonly line: number; readonly counts: ImportCounts };
  readonly onReject?: (reject: ImportReject) => void | Promise<void>;
  /** The watermark moved: every line up to `line` is done. */
  readonly onWatermark?: (line: number, counts: ImportCounts) => void | Promise<void>;
  /** After each batch: the counts of everything done so far, in any order. */
  readonly onProgress?: (counts: ImportCounts) => void;
  /** Attempts after a transient failure (default 6) and the first backoff delay (default 500 ms, doubled). */
  readonly retries?: number;
  readonly backoffMs?: number;
  /** Sent to the FHIR server as X-Request-ID, with the batch number appended. */
  readonly requestId?: string;
}

export interface ImportOptions extends ImportRunOptions {
  /** Where offers go; not needed in a dry run. */
  readonly store?: FhirStore;
  /** The gate every transaction passes before it is sent (createValidator once, shared). */
  readonly validator: Validator;
  /** Valid offers per transaction. */
  readonly batchSize: number;
  /** Read, check, map, merge and validate, but neither read nor write the store. */
  readonly dryRun?: boolean;
}

export interface ImportResult {
  readonly status: 'done' | 'stopped' | 'failed';
  /** Everything done, in any order (what the person sees). */
  readonly counts: ImportCounts;
  /** Every line up to this one is done: where a resume starts. */
  readonly watermark: number;
  readonly watermarkCounts: ImportCounts;
  /** Why the import failed. */
  readonly error?: Error;
}

interface Line {
  readonly line: number;
  readonly text: string;
  readonly offer: Offer;
}

interface Batch {
  readonly sequence: number;
  readonly lines: Line[];
  /** Records of the batch, valid or not, and its last line: what the watermark needs. */
  read: number;
  rejected: number;
  lastLine: number;
}

const DEFAULT_RETRIES = 6;

/**
 * Offers per transaction and transactions in flight, for the command line and POST /v1/offers/$import
 * alike, from what was measured on HAPI 8.8 + PostgreSQL, 2 cores (bench/README.md): B=50 from a sweep of
 * B 25–200 × K 2–8; K=4 from quiet runs of 2,000 and 100,000 offers, where K=8 made HAPI spend up to 30 %
 * more CPU per offer and went slower.
 */
export const DEFAULT_BATCH_SIZE = 50;
export const DEFAULT_CONCURRENCY = 4;

function issue(severity: OperationOutcomeIssue['severity'], code: OperationOutcomeIssue['code'], text: string, diagnostics?: string, expression?: string): OperationOutcomeIssue {
  return {
    severity,
    code,
    details: { text },
    ...(diagnostics === undefined ? {} : { diagnostics }),
    ...(expression === undefined || expression === '' ? {} : { expression: [expression] }),
  };
}

/**
 * The rules' issues as POST /v1/offers would answer them (expression = the field of the offer); for a
 * line of a CSV file, the message also names the column to correct, which is what a person sees in a
 * spreadsheet.
 */
export function outcomeOfOfferIssues(issues: readonly OfferIssue[], columnOf?: (field: string) => string | undefined): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => {
      const column = i.field === '' ? undefined : columnOf?.(i.field);
      const text = column === undefined ? i.message : `${i.message} (colonne ${column})`;
      return issue(i.severity, i.severity === 'error' ? 'invalid' : 'informational', text, i.code, i.field);
    }),
  };
}

function outcomeOfGate(issues: readonly ValidationIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues
      .filter((i) => i.severity === 'error')
      .map((i) => issue('error', 'processing', `Les ressources FHIR produites ne sont pas conformes : ${i.message}`, `FHIR validation (${i.code})`, i.expression)),
  };
}

function outcomeOfStoreError(error: FhirStoreError): OperationOutcome {
  if (error.outcome?.issue !== undefined && error.outcome.issue.length > 0) return error.outcome;
  return { resourceType: 'OperationOutcome', issue: [issue('error', 'processing', 'Le serveur FHIR a refusé cette offre.', error.message)] };
}

/** Identifiers per search: keeps the query well under the 8 KB a server takes in a request line. */
const IDENTIFIERS_PER_SEARCH = 40;

/** What the store holds of an offer: its HealthcareService and the PractitionerRoles that serve it. */
export interface StoredOffer {
  readonly service?: HealthcareService;
  readonly roles: PractitionerRole[];
}

/**
 * The stored HealthcareServices of these offers and their PractitionerRoles, by identifiantOffre: one
 * search per 40 offers (one for an offer posted alone), the roles by _revinclude.
 */
export async function readStoredOffers(store: FhirStore, ids: readonly string[], ctx: CallContext): Promise<Map<string, StoredOffer>> {
  const found = new Map<string, StoredOffer>();
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += IDENTIFIERS_PER_SEARCH) chunks.push(ids.slice(i, i + IDENTIFIERS_PER_SEARCH));
  const pages = await Promise.all(
    chunks.map((chunk) =>
      store.search('HealthcareService', {
        // identifiantOffre holds none of the characters a token must escape (OFFER_ID_PATTERN).
        identifier: chunk.map((id) => `${OFFER_IDENTIFIER_SYSTEM}|${id}`).join(','),
        _revinclude: 'PractitionerRole:service',
        _count: String(chunk.length),
      }, ctx),
    ),
  );
  const byServiceId = new Map<string, string>();
  const roles = new Map<string, PractitionerRole[]>();
  for (const page of pages) {
    for (const entry of page.entry ?? []) {
      const resource = entry.resource;
      if (resource?.resourceType === 'HealthcareService' && resource.id !== undefined) {
        const id = resource.identifier?.find((i) => i.system === OFFER_IDENTIFIER_SYSTEM)?.value;
        if (id === undefined) continue;
        byServiceId.set(`HealthcareService/${resource.id}`, id);
        found.set(id, { service: resource, roles: [] });
      } else if (resource?.resourceType === 'PractitionerRole') {
        for (const ref of resource.healthcareService ?? []) {
          if (ref.reference === undefined) continue;
          const list = roles.get(ref.reference) ?? [];
          list.push(resource);
          roles.set(ref.reference, list);
        }
      }
    }
  }
  for (const [reference, id] of byServiceId) {
    const existing = found.get(id);
    if (existing !== undefined) found.set(id, { ...existing, roles: roles.get(reference) ?? [] });
  }
  return found;
}

export interface MappedOffer {
  readonly offer: Offer;
  /** What is stored under its identifiantOffre: the ROR creation date to keep, the roles to remove. */
  readonly stored: StoredOffer;
  /** Its transaction, over what is stored. */
  readonly bundle: Bundle;
}

/**
 * The first steps of a batch, for an import and for POST /v1/offers (a batch of one) alike: the stored
 * offers read in one search, then each offer mapped to its transaction over what is stored. Without a
 * store (a dry run) nothing is read: every offer maps as new.
 */
export async function mapOffers(offers: readonly Offer[], now: Date, store: FhirStore | undefined, ctx: CallContext): Promise<MappedOffer[]> {
  const existing = store === undefined || offers.length === 0 ? new Map<string, StoredOffer>() : await readStoredOffers(store, offers.map((offer) => offer.identifiantOffre), ctx);
  return offers.map((offer) => {
    const stored = existing.get(offer.identifiantOffre) ?? { roles: [] };
    const bundle = toOfferBundle(offer, { now: now.toISOString(), ...(stored.service === undefined ? {} : { existing: stored.service }), existingRoles: stored.roles });
    return { offer, stored, bundle };
  });
}

/** Runs an import to its end, its stop or its failure; never throws for a bad line. */
export async function importOffers(records: AsyncIterable<ImportRecord>, options: ImportOptions): Promise<ImportResult> {
  const { validator, store, signal } = options;
  const dryRun = options.dryRun === true;
  if (!dryRun && store === undefined) throw new TypeError('importOffers: a store is needed unless dryRun');
  const batchSize = Math.max(1, Math.floor(options.batchSize));
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const clock = options.clock ?? (() => new Date());
  const retries = options.retries ?? DEFAULT_RETRIES;
  const backoffMs = options.backoffMs ?? 500;
  const resumeLine = options.resumeFrom?.line ?? 0;
  const watermark = new Watermark(options.resumeFrom ?? undefined);
  const base = options.resumeFrom?.counts ?? { read: 0, imported: 0, rejected: 0 };
  let live = { ...base };
  let failure: Error | undefined;
  const stopped = () => signal?.aborted === true;

  async function reject(batch: Batch | undefined, line: number, text: string, outcome: OperationOutcome, identifiantOffre?: string): Promise<void> {
    if (batch !== undefined) batch.rejected += 1;
    live = { ...live, rejected: live.rejected + 1 };
    await options.onReject?.({ line, text, outcome, ...(identifiantOffre === undefined ? {} : { identifiantOffre }) });
  }

  async function send(bundle: Bundle, ctx: CallContext): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await store?.transaction(bundle, ctx);
        return;
      } catch (error) {
        if (!(error instanceof FhirStoreError) || !error.transient || attempt >= retries) throw error;
        await sleep(backoffMs * 2 ** attempt * (0.5 + Math.random()));
      }
    }
  }

  /** Sends these lines as one transaction; on a refusal, halves until each refused line stands alone. */
  async function write(batch: Batch, lines: readonly Line[], bundles: ReadonlyMap<Line, Bundle>, ctx: CallContext): Promise<void> {
    if (lines.length === 0) return;
    const merged = mergeTransactionBundles(lines.map((l) => bundles.get(l) as Bundle)).bundle;
    try {
      await send(merged, ctx);
      live = { ...live, imported: live.imported + lines.length };
    } catch (error) {
      if (!(error instanceof FhirStoreError) || error.transient) throw error;
      if (lines.length === 1) {
        const only = lines[0] as Line;
        await reject(batch, only.line, only.text, outcomeOfStoreError(error), only.offer.identifiantOffre);
        return;
      }
      const half = Math.ceil(lines.length / 2);
      await write(batch, lines.slice(0, half), bundles, ctx);
      await write(batch, lines.slice(half), bundles, ctx);
    }
  }

  async function runBatch(batch: Batch): Promise<void> {
    const ctx: CallContext = options.requestId === undefined ? {} : { requestId: `${options.requestId}-${batch.sequence}` };
    const now = clock();
    const mapped = await mapOffers(batch.lines.map((l) => l.offer), now, dryRun ? undefined : store, ctx);
    const bundles = new Map<Line, Bundle>(batch.lines.map((line, index) => [line, (mapped[index] as MappedOffer).bundle]));
    // The gate judges the merged transaction once; only when it finds an error is each offer judged
    // alone, to name the lines at fault.
    let lines: Line[] = batch.lines;
    if (lines.length > 0) {
      const errors = validator.validate(asStored(mergeTransactionBundles(lines.map((l) => bundles.get(l) as Bundle)).bundle, now)).filter((i) => i.severity === 'error');
      if (errors.length > 0) {
        const kept: Line[] = [];
        for (const line of lines) {
          const own = validator.validate(asStored(bundles.get(line) as Bundle, now)).filter((i) => i.severity === 'error');
          if (own.length > 0) await reject(batch, line.line, line.text, outcomeOfGate(own), line.offer.identifiantOffre);
          else kept.push(line);
        }
        // Errors that only the merge makes (two offers at odds over a shared resource) reject the batch.
        if (kept.length === lines.length) {
          for (const line of lines) await reject(batch, line.line, line.text, outcomeOfGate(errors), line.offer.identifiantOffre);
          kept.length = 0;
        }
        lines = kept;
      }
    }
    if (dryRun) live = { ...live, imported: live.imported + lines.length };
    else await write(batch, lines, bundles, ctx);
  }

  const inFlight = new Set<Promise<void>>();
  let sequence = 0;

  async function finish(batch: Batch): Promise<void> {
    const counts = { read: batch.read, imported: batch.read - batch.rejected, rejected: batch.rejected };
    if (watermark.done(batch.sequence, batch.lastLine, counts)) await options.onWatermark?.(watermark.line, watermark.counts);
    options.onProgress?.(live);
  }

  async function dispatch(batch: Batch): Promise<void> {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure !== undefined) return;
    const running: Promise<void> = runBatch(batch)
      .then(() => finish(batch))
      .catch((error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  }

  const newBatch = (): Batch => ({ sequence: sequence++, lines: [], read: 0, rejected: 0, lastLine: resumeLine });
  let batch = newBatch();
  let ids = new Set<string>();
  try {
    for await (const record of records) {
      if (record.line <= resumeLine) continue;
      if (stopped() || failure !== undefined) break;
      live = { ...live, read: live.read + 1 };
      if (record.unreadable !== undefined) {
        batch.read += 1;
        batch.lastLine = record.line;
        await reject(batch, record.line, record.text, {
          resourceType: 'OperationOutcome',
          issue: [issue('error', 'structure', 'Ligne illisible : corrigez-la selon le diagnostic.', record.unreadable)],
        });
        continue;
      }
      const validation = validateOffer(record.body);
      if (!validation.ok) {
        batch.read += 1;
        batch.lastLine = record.line;
        const id = (record.body as { identifiantOffre?: unknown } | null)?.identifiantOffre;
        await reject(batch, record.line, record.text, outcomeOfOfferIssues(validation.issues, record.columnOf), typeof id === 'string' ? id : undefined);
        continue;
      }
      // The same offer twice in one transaction would be two writes of one resource: it starts a new batch.
      if (batch.lines.length >= batchSize || ids.has(validation.offer.identifiantOffre)) {
        await dispatch(batch);
        batch = { ...newBatch(), lastLine: batch.lastLine };
        ids = new Set();
      }
      batch.read += 1;
      batch.lastLine = record.line;
      batch.lines.push({ line: record.line, text: record.text, offer: validation.offer });
      ids.add(validation.offer.identifiantOffre);
    }
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
  }
  if (failure === undefined && batch.read > 0) await dispatch(batch);
  await Promise.all(inFlight);
  const status = failure !== undefined ? 'failed' : stopped() ? 'stopped' : 'done';
  return { status, counts: live, watermark: watermark.line, watermarkCounts: watermark.counts, ...(failure === undefined ? {} : { error: failure }) };
}
