// What a write handler receives from the outbox's worker and hands back. The worker's own Delivery has
// more (status, errors, leases); a write needs only the message as it was accepted.

/** A message as accepted: its kind's payload, and when it was accepted (the mapping's "now"). */
export interface WriteMessage {
  readonly id: string;
  readonly payload: unknown;
  /** ISO 8601: a redelivery maps with the same "now", so that it writes the same thing. */
  readonly receivedAt: string;
  /** Attempts made before this one. */
  readonly attempts: number;
}

export interface WriteContext {
  readonly requestId?: string;
  /** Aborted when the service stops and the grace period is over: the message stays pending. */
  readonly signal: AbortSignal;
}

/** What the client of the write gets once it is in the store: kept by the outbox for repeats. */
export interface WriteAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** What one message kind does to the FHIR store. Throws a problem (problems.ts) or a store error. */
export type WriteHandler = (message: WriteMessage, ctx: WriteContext) => Promise<WriteAnswer>;

/** How one message of a batch ended: its answer, or why it cannot be written (the others go on). */
export type WriteOutcome = { readonly answer: WriteAnswer } | { readonly error: unknown };

/**
 * What one message kind does to the FHIR store for several messages of different business keys at
 * once: one transaction for them all. Throws when that transaction fails (the worker then splits the
 * batch to find the message at fault); a message that cannot be written at all has its own outcome.
 */
export type BatchWriteHandler = (messages: readonly WriteMessage[], ctx: WriteContext) => Promise<readonly WriteOutcome[]>;
