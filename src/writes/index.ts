// The writes room: what each message kind of the outbox does to the FHIR store. The worker (delivery/)
// calls these handlers and knows nothing of acts or offers; the routes (api/) only accept messages.
// A handler throws a problem (problems.ts) or a FHIR store error, never an HTTP answer.
import type { FhirStore } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import { actBatchWrite, actChangeBatchWrites } from './acts.ts';
import type { StoredActReads } from './acts.ts';
import { importWrites } from './offer-import.ts';
import type { ImportWritesOptions } from './offer-import.ts';
import { offerWrites } from './offers.ts';
import type { BatchWriteHandler, WriteHandler } from './message.ts';

export type { BatchWriteHandler, WriteAnswer, WriteContext, WriteHandler, WriteMessage, WriteOutcome } from './message.ts';
export { acceptAct, actBatchWrite, actKey, checkedMapping, problemsOfActIssues, readStoredAct, readStoredActs, StoredActReads, unknownAct } from './acts.ts';
export type { ActMessage, CancellationMessage, ReportMessage } from './acts.ts';
export { offerKey, problemsOfOfferIssues, unknownOffer } from './offers.ts';
export type { OfferMessage, WithdrawalMessage } from './offers.ts';
export { IMPORT_KIND, importWrites, MAX_REJECTS_SHOWN, NO_COUNTS } from './offer-import.ts';
export type { ImportMessage, ImportProgress, ImportWatcher, Job, JobReject, JobStatus } from './offer-import.ts';

export interface WritesOptions extends Omit<ImportWritesOptions, 'store' | 'validator'> {
  readonly store: FhirStore;
  readonly validator: Validator;
  readonly allowTestIdentities: boolean;
  /** Reads of stored acts made at acceptance, shared by the act routes and the act writes. */
  readonly reads?: StoredActReads;
}

/** Every message kind's handler, by kind: the worker registers them all. */
export function writeHandlers(options: WritesOptions): Record<string, WriteHandler> {
  return {
    ...offerWrites(options),
    ...importWrites(options),
  };
}

/** The kinds written several messages at once, in one transaction: acts, all day long from DPI/DUI, and their changes. */
export function batchWriteHandlers(options: WritesOptions): Record<string, BatchWriteHandler> {
  return { act: actBatchWrite(options), ...actChangeBatchWrites(options) };
}
