// What an act's messages do to the FHIR store: record acts (kind `act`), amend a report (`act-report`),
// cancel an act (`act-cancel`). The mapping's "now" is when the message was accepted, so that a
// redelivery writes the same thing.
//
// A new act is checked, mapped and validated once, at acceptance; its Bundle travels in the message.
// The worker hands several messages of one kind at once: one search reads what the store holds of all
// their acts (an act already stored is mapped again over it: Provenance UPDATE, superseded report,
// incidents removed; a report amendment and a cancellation need the stored act), and one transaction
// writes them all, each shared Organization, Practitioner and role once.
//
// That read stays (unless the route read the act already: StoredActReads): what an act's
// transaction must say depends on what is stored (the Provenance's activity, which report it supersedes,
// which incidents it removes), and HAPI offers no guard that would make a transaction fail when the act
// exists (If-Match is ignored on a conditional update inside a
// transaction, and a conditional create answers 200 with the stored resource: tried on HAPI 8). But most
// acts a worker writes are new: for those, a light probe of their identifiers (nothing kept in HAPI's
// search cache) answers "not stored", and only the acts it finds are read in full.
import type { Bundle, Encounter, Resource } from '@medplum/fhirtypes';
import { asStored, paramsOfQuery, referencesOf, resourcesOf } from '../fhir/index.ts';
import type { CallContext, FhirStore } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import {
  actFromFhir,
  actProbeSearch,
  actReadSearch,
  InvalidActError,
  mergeTransactionBundles,
  toActBundle,
  toCancellation,
  toReportAmendment,
  UnknownActError,
} from '../mapping/index.ts';
import type { ActMapping } from '../mapping/index.ts';
import type { Act, ActCancellation, ActIssue, ActReport } from '../model/act.ts';
import { BusinessRuleBroken, NotFound, problemsOfIssues } from '../problems.ts';
import type { BatchWriteHandler, WriteMessage, WriteOutcome } from './message.ts';

/** An act as accepted: checked, and mapped as a new act (what it is unless the store holds it already). */
export interface ActMessage {
  readonly act: Act;
  /** checkAct's warnings, for the answer. */
  readonly warnings: readonly ActIssue[];
  /** The act's transaction as a new act, validated at acceptance. */
  readonly bundle: Bundle;
}

/** An act message, or the bare Act that messages accepted before the Bundle travelled held. */
function actMessageOf(payload: unknown): { act: Act; warnings?: readonly ActIssue[]; bundle?: Bundle } {
  const message = payload as Partial<ActMessage>;
  return message.act !== undefined && message.bundle !== undefined ? (message as ActMessage) : { act: payload as Act };
}

export interface ReportMessage {
  readonly source: string;
  readonly actId: string;
  readonly report: ActReport;
}

export interface CancellationMessage {
  readonly source: string;
  readonly actId: string;
  readonly cancellation: ActCancellation;
}

/** The business key of an act's messages: delivered one after the other, in acceptance order. */
export const actKey = (source: string, actId: string): string => `act|${source}|${actId}`;

/** The problems of an act's rule findings (errors 422, warnings informational). */
export const problemsOfActIssues = (issues: readonly ActIssue[]) => problemsOfIssues(issues, 'business-rule');

export function unknownAct(source: string, actId: string): NotFound {
  return new NotFound({ code: 'not-found', expression: 'actId', message: `Aucun acte ${actId} n'est enregistré pour le système ${source}.`, diagnostics: 'unknown act' });
}

/** Everything stored of an act (its Encounter and what hangs on it), in one search; empty when unknown. */
export async function readStoredAct(store: FhirStore, source: string, actId: string, ctx: CallContext): Promise<Resource[]> {
  return (await readStoredActs(store, [{ source, actId }], ctx)).get(refKey({ source, actId })) ?? [];
}

/** Maps and validates what the store will hold; throws the problem the client must get. */
export function checkedMapping(validator: Validator, mapping: () => ActMapping, now: Date): ActMapping {
  let result: ActMapping;
  try {
    result = mapping();
  } catch (error) {
    if (error instanceof InvalidActError) throw new BusinessRuleBroken(problemsOfActIssues(error.issues));
    if (error instanceof UnknownActError) throw new NotFound({ code: 'not-found', expression: 'actId', message: error.message, diagnostics: 'unknown act' });
    throw error;
  }
  validator.assertValid(asStored(result.bundle, now));
  return result;
}

export interface ActWritesOptions {
  readonly store: FhirStore;
  readonly validator: Validator;
  readonly allowTestIdentities: boolean;
  /** Reads of stored acts made at acceptance, for the worker to use (StoredActReads); none by default. */
  readonly reads?: StoredActReads;
}

/**
 * An act checked at acceptance (validateAct), mapped and validated there once: refused at once (422) if
 * its transaction would not be valid, never accepted to die later.
 */
export function acceptAct(validator: Validator, act: Act, warnings: readonly ActIssue[], now: Date, allowTestIdentities: boolean): ActMessage {
  const { bundle } = checkedMapping(validator, () => toActBundle(act, { receivedAt: now.toISOString(), allowTestIdentities, checked: warnings }), now);
  return { act, warnings, bundle };
}

const shown = (warnings: readonly ActIssue[]) => warnings.map(({ code, field, message }) => ({ code, field, message }));

interface ActRef {
  readonly source: string;
  readonly actId: string;
}

const refKey = (act: ActRef): string => `${act.source}|${act.actId}`;

/**
 * Everything stored of several acts, in one search (actReadSearch), by `source|actId`; an act the store
 * does not hold has no entry. Each act gets what a search for it alone would give: its
 * Encounter, what the Encounter references (and the roles' practitioners and organizations), and what
 * references the Encounter.
 */
export async function readStoredActs(store: FhirStore, acts: readonly ActRef[], ctx: CallContext): Promise<Map<string, Resource[]>> {
  const stored = new Map<string, Resource[]>();
  if (acts.length === 0) return stored;
  const found = resourcesOf(await store.search('Encounter', paramsOfQuery(actReadSearch(acts)), ctx));
  const byReference = new Map(found.map((resource) => [`${resource.resourceType}/${resource.id ?? ''}`, resource]));
  // What each resource references, walked once for the batch, not once per act.
  const referencesByResource = new Map(found.map((resource) => [resource, new Set(referencesIn(resource))]));
  const wanted = new Set(acts.map(refKey));
  for (const encounter of found) {
    if (encounter.resourceType !== 'Encounter') continue;
    const key = (encounter.identifier ?? []).map((identifier) => `${identifier.system ?? ''}|${identifier.value ?? ''}`).find((candidate) => wanted.has(candidate));
    if (key === undefined) continue;
    stored.set(key, actResources(encounter, referencesByResource, byReference));
  }
  return stored;
}

/**
 * Which of these acts the store holds, in one light probe (FhirStore.probe: their Encounters'
 * identifiers, nothing kept in HAPI's search cache). Measured on HAPI 8.8, 8 acts not stored: the probe
 * costs HAPI 1.1 ms of CPU and PostgreSQL 0.1 ms, the full read 3.1–6.6 ms and 0.9–1.0 ms.
 */
async function storedOf(store: FhirStore, acts: readonly ActRef[], ctx: CallContext): Promise<ActRef[]> {
  if (acts.length === 0) return [];
  const found = resourcesOf(await store.probe('Encounter', paramsOfQuery(actProbeSearch(acts)), ctx));
  const identifiers = new Set(found.flatMap((resource) => (resource.resourceType === 'Encounter' ? (resource.identifier ?? []) : []).map((identifier) => `${identifier.system ?? ''}|${identifier.value ?? ''}`)));
  return acts.filter((act) => identifiers.has(refKey(act)));
}

/** How long a read made at acceptance may stand for what the store holds. */
const EARLY_READ_MS = 2_000;
/** Reads made at acceptance kept at most (the oldest forgotten first). */
const EARLY_READS_KEPT = 1_000;

/**
 * What the store holds of acts, for the act writes: read once per act where that is safe.
 *
 * The worker must know what the store holds of an act before writing it (see the head of this file), and
 * so must the route when the client is bound to structures (is the stored act one of theirs?): two
 * searches of HAPI for one act. The worker uses the route's read instead of searching again when it still
 * tells the truth: no act write of this process has ended since it began, it is under EARLY_READ_MS old,
 * and no other process writes acts through the same outbox (a shared outbox: never used). Otherwise, and
 * for every act without one, one search per batch. Measured with a FINESS-bound API key, 150 acts one
 * at a time on HAPI: 360 searches before, 180 after. (Reading early for every act while the worker is
 * idle, to hide the search behind the checks, gave no measurable latency: not done.)
 */
export class StoredActReads {
  readonly #store: FhirStore;
  readonly #early: boolean;
  /** Act writes of this process that have ended (written, refused or failed): a read older than the last one may be stale. */
  #writes = 0;
  readonly #reads = new Map<string, { readonly writes: number; readonly at: number; readonly read: Promise<Resource[]> }>();

  /** `early`: reads made at acceptance may be used (an outbox no other process delivers from). */
  constructor(store: FhirStore, options: { readonly early: boolean }) {
    this.#store = store;
    this.#early = options.early;
  }

  /** At an act's acceptance, the read the route needs: the worker may use it for the act's message. */
  readAtAcceptance(act: ActRef, ctx: CallContext): Promise<Resource[]> {
    const read = readStoredAct(this.#store, act.source, act.actId, ctx);
    // A read nobody waits for must not be an unhandled rejection; the worker then searches.
    read.catch(() => undefined);
    if (this.#early) {
      const key = refKey(act);
      this.#reads.delete(key);
      this.#reads.set(key, { writes: this.#writes, at: Date.now(), read });
      if (this.#reads.size > EARLY_READS_KEPT) this.#reads.delete(this.#reads.keys().next().value as string);
    }
    return read;
  }

  /**
   * What the store holds of a batch's acts (readStoredActs): the early reads still true, one search for
   * the rest. `mostlyNew` (new acts): the rest are probed first (storedOf), and only those stored are read.
   */
  async read(acts: readonly ActRef[], ctx: CallContext, options: { readonly mostlyNew?: boolean } = {}): Promise<Map<string, Resource[]>> {
    const known = new Map<string, Resource[]>();
    const rest: ActRef[] = [];
    for (const act of acts) {
      const key = refKey(act);
      const early = this.#reads.get(key);
      this.#reads.delete(key);
      const stored = early !== undefined && early.writes === this.#writes && Date.now() - early.at < EARLY_READ_MS ? await early.read.catch(() => undefined) : undefined;
      // Ended writes may have come while waiting for it: then it is not used either.
      if (stored !== undefined && early?.writes === this.#writes) {
        if (stored.length > 0) known.set(key, stored);
      } else {
        rest.push(act);
      }
    }
    const unread = options.mostlyNew === true ? await storedOf(this.#store, rest, ctx) : rest;
    for (const [key, stored] of await readStoredActs(this.#store, unread, ctx)) known.set(key, stored);
    return known;
  }

  /** Runs an act write; once it has ended (whatever its outcome), reads begun before it may be stale. */
  async writing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.#writes++;
    }
  }
}

/** A reference without its version or base: `Encounter/12`. */
const plainReference = (reference: string): string => reference.replace(/\/_history\/[^/]*$/, '').split('/').slice(-2).join('/');

/** Every `reference` a resource holds, wherever it is. */
function referencesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) referencesIn(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [name, inner] of Object.entries(value)) {
      if (name === 'reference' && typeof inner === 'string') found.push(plainReference(inner));
      else referencesIn(inner, found);
    }
  }
  return found;
}

/** One act's share of a read of several: see readStoredActs. */
function actResources(encounter: Encounter, referencesByResource: ReadonlyMap<Resource, ReadonlySet<string>>, byReference: ReadonlyMap<string, Resource>): Resource[] {
  const own = new Set<Resource>([encounter]);
  const include = (reference: string | undefined): void => {
    const resource = reference === undefined ? undefined : byReference.get(plainReference(reference));
    if (resource === undefined || own.has(resource)) return;
    own.add(resource);
    if (resource.resourceType === 'PractitionerRole') {
      include(resource.practitioner?.reference);
      include(resource.organization?.reference);
    }
  };
  include(encounter.subject?.reference);
  for (const participant of encounter.participant ?? []) include(participant.individual?.reference);
  include(encounter.serviceProvider?.reference);
  const self = `Encounter/${encounter.id ?? ''}`;
  for (const [resource, references] of referencesByResource) {
    if (resource.resourceType !== 'Encounter' && !own.has(resource) && references.has(self)) own.add(resource);
  }
  return [...own];
}

/** What one message of a batch will write: its act's transaction, and the warnings its answer shows. */
interface Plan {
  /** The message's place in the batch. */
  readonly index: number;
  readonly act: ActRef;
  readonly bundle: Bundle;
  readonly warnings: readonly ActIssue[];
}

/**
 * Writes the plans of a batch in one transaction and answers each (with `status`) with its own part of
 * the response: its act, the references its entries wrote, its warnings.
 */
async function writePlans(store: FhirStore, reads: StoredActReads, plans: readonly Plan[], outcomes: (WriteOutcome | undefined)[], status: number, ctx: CallContext): Promise<void> {
  if (plans.length === 0) return;
  const merged = mergeTransactionBundles(plans.map((plan) => plan.bundle));
  const response = await reads.writing(() => store.transaction(merged.bundle, ctx));
  const entries = response.entry ?? [];
  plans.forEach(({ index, act, warnings }, part) => {
    const own: Bundle = { resourceType: 'Bundle', type: 'transaction-response', entry: (merged.positions[part] ?? []).map((position) => entries[position] ?? {}) };
    outcomes[index] = { answer: { status, body: { source: act.source, actId: act.actId, references: referencesOf(own), warnings: shown(warnings) } } };
  });
}

const settled = (outcomes: readonly (WriteOutcome | undefined)[]): WriteOutcome[] => outcomes.map((outcome) => outcome ?? { error: new Error('no outcome for a message of the batch') });

/** The acts of several messages in one transaction; see the head of this file. */
export function actBatchWrite({ store, validator, allowTestIdentities, reads = new StoredActReads(store, { early: false }) }: ActWritesOptions): BatchWriteHandler {
  return async (messages: readonly WriteMessage[], ctx) => {
    const parsed = messages.map((message) => actMessageOf(message.payload));
    const stored = await reads.read(parsed.map((m) => m.act), ctx, { mostlyNew: true });
    const outcomes: (WriteOutcome | undefined)[] = messages.map(() => undefined);
    const plans: Plan[] = [];
    for (const [index, message] of messages.entries()) {
      const { act, warnings, bundle } = parsed[index] as ReturnType<typeof actMessageOf>;
      const existing = stored.get(refKey(act));
      try {
        if (bundle !== undefined && warnings !== undefined && existing === undefined) {
          plans.push({ index, act, bundle, warnings });
          continue;
        }
        // Already stored (a repost or an update), or accepted before the Bundle travelled: mapped over what is stored.
        const mapping = checkedMapping(
          validator,
          () => toActBundle(act, { receivedAt: message.receivedAt, allowTestIdentities, ...(warnings === undefined ? {} : { checked: warnings }), ...(existing !== undefined ? { existing } : {}) }),
          new Date(message.receivedAt),
        );
        plans.push({ index, act, bundle: mapping.bundle, warnings: mapping.warnings });
      } catch (error) {
        outcomes[index] = { error };
      }
    }
    await writePlans(store, reads, plans, outcomes, 201, ctx);
    return settled(outcomes);
  };
}

/**
 * Report amendments and cancellations of several acts: one read of the stored acts, one transaction.
 * Each is mapped over its own stored act; one that cannot be (unknown act, broken rule) fails alone.
 */
export function actChangeBatchWrites({ store, validator, reads = new StoredActReads(store, { early: false }) }: ActWritesOptions): Record<'act-report' | 'act-cancel', BatchWriteHandler> {
  function batchOf(map: (message: WriteMessage, existing: Resource[] | undefined) => ActMapping, status: number): BatchWriteHandler {
    return async (messages, ctx) => {
      const targets = messages.map((message) => message.payload as ActRef);
      const stored = await reads.read(targets, ctx);
      const outcomes: (WriteOutcome | undefined)[] = messages.map(() => undefined);
      const plans: Plan[] = [];
      for (const [index, message] of messages.entries()) {
        const act = targets[index] as ActRef;
        try {
          const { bundle, warnings } = checkedMapping(validator, () => map(message, stored.get(refKey(act))), new Date(message.receivedAt));
          plans.push({ index, act, bundle, warnings });
        } catch (error) {
          outcomes[index] = { error };
        }
      }
      await writePlans(store, reads, plans, outcomes, status, ctx);
      return settled(outcomes);
    };
  }
  return {
    'act-report': batchOf((message, existing) => {
      const { source, actId, report } = message.payload as ReportMessage;
      if (existing === undefined) throw unknownAct(source, actId);
      return toReportAmendment(actFromFhir(existing), report, existing, { receivedAt: message.receivedAt });
    }, 200),
    'act-cancel': batchOf((message, existing) => {
      const { cancellation } = message.payload as CancellationMessage;
      return toCancellation(existing ?? [], cancellation, message.receivedAt);
    }, 200),
  };
}
