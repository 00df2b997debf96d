// One attempt at a flight (one message, or a batch of one kind): its handler runs, and the outbox records
// how each message ended: delivered, to retry later (with backoff), dead letter, or interrupted by the
// shutdown. A refused batch is split until the message at fault stands alone. Every failure is judged
// (transient or not, the server down or not) and counted by the circuit breaker. What to attempt and
// when is the worker's (service.ts).
import type { CircuitBreaker } from './breaker.ts';
import type { Answer, Delivery, DeliveryError, Outbox } from './outbox.ts';

export interface DeliveryContext {
  readonly requestId?: string;
  /** Aborted when the service stops and the grace period is over: the message stays pending. */
  readonly signal: AbortSignal;
}

/** Delivers one message (read what is stored, map, validate, write) and answers what the client gets. */
export type DeliveryHandler = (delivery: Delivery, ctx: DeliveryContext) => Promise<Answer>;

/** How an attempt at a message ended: delivered, to retry later, dead letter, or cut short by the shutdown. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'interrupted';

/** How each message of an attempt ended (by delivery id), with the HTTP status of a failure. */
export type AttemptOutcomes = ReadonlyMap<string, { readonly outcome: DeliveryOutcome; readonly status?: number }>;

/** How one message of a batch ended: its answer, or why it cannot be delivered (the others go on). */
export type BatchOutcome = { readonly answer: Answer } | { readonly error: unknown };

/**
 * Delivers several messages of one kind and of different business keys at once (one transaction), and
 * answers each. Throws when the whole batch fails: the worker then splits it to find the message at fault.
 */
export type BatchHandler = (deliveries: readonly Delivery[], ctx: DeliveryContext) => Promise<readonly BatchOutcome[]>;

/** How a failed attempt is judged: the HTTP face (api/errors.ts) knows, the worker only acts on it. */
export interface Failure extends DeliveryError {
  /** Trying again later may succeed (no connection, timeout, 5xx, 409, 429). */
  readonly transient: boolean;
  /** The failure says the FHIR server is down or overloaded: it counts for the circuit breaker. */
  readonly serverDown: boolean;
}

export interface DeliveryLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** Where an attempt records how each of its messages ended. */
type Ended = Map<string, { outcome: DeliveryOutcome; status?: number }>;

export interface AttemptOptions {
  readonly outbox: Outbox;
  readonly breaker: CircuitBreaker;
  readonly failureOf: (error: unknown) => Failure;
  readonly log: DeliveryLog;
  readonly now: () => number;
  /** Attempts before a message that keeps failing transiently goes to the dead letters; 0 = never. */
  readonly maxAttempts: number;
  /** First retry delay; doubled at each attempt up to maxBackoffMs, with jitter (50–100 %). */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export class Attempts {
  readonly #outbox: Outbox;
  readonly #breaker: CircuitBreaker;
  readonly #failureOf: (error: unknown) => Failure;
  readonly #log: DeliveryLog;
  readonly #now: () => number;
  readonly #options: AttemptOptions;
  readonly #handlers = new Map<string, DeliveryHandler>();
  readonly #batchHandlers = new Map<string, BatchHandler>();

  constructor(options: AttemptOptions) {
    this.#options = options;
    this.#outbox = options.outbox;
    this.#breaker = options.breaker;
    this.#failureOf = options.failureOf;
    this.#log = options.log;
    this.#now = options.now;
  }

  handle(kind: string, handler: DeliveryHandler): void {
    this.#handlers.set(kind, handler);
  }

  handleBatch(kind: string, handler: BatchHandler): void {
    this.#batchHandlers.set(kind, handler);
  }

  /** The kinds delivered in batches. */
  get batchedKinds(): readonly string[] {
    return [...this.#batchHandlers.keys()];
  }

  /** Messages of this kind go several at once, through a batch handler. */
  batched(kind: string): boolean {
    return this.#batchHandlers.has(kind);
  }

  /** Attempts a flight (several messages only of a batched kind) and answers how each message ended. */
  async run(flight: readonly Delivery[], signal: AbortSignal): Promise<AttemptOutcomes> {
    const ended: Ended = new Map();
    const first = flight[0] as Delivery;
    await (this.batched(first.kind) ? this.#batch(flight, signal, ended) : this.#single(first, signal, ended));
    return ended;
  }

  #backoff(attempts: number): number {
    const exponential = Math.min(this.#options.maxBackoffMs, this.#options.backoffMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(exponential * (0.5 + Math.random() / 2));
  }

  async #single(delivery: Delivery, signal: AbortSignal, ended: Ended): Promise<void> {
    await this.#outbox.startAttempt(delivery.id, this.#now());
    const handler = this.#handlers.get(delivery.kind);
    try {
      if (!handler) throw new Error(`no delivery handler for messages of kind "${delivery.kind}"`);
      const answer = await handler(delivery, this.#contextOf(delivery, signal));
      this.#breaker.success();
      await this.#delivered(delivery, answer, ended);
    } catch (error) {
      if (signal.aborted) {
        await this.#interrupted([delivery], ended);
        return;
      }
      await this.#failed(delivery, this.#judge(error), ended);
    }
  }

  /** Several messages of one kind through its batch handler: one transaction for them all. */
  async #batch(flight: readonly Delivery[], signal: AbortSignal, ended: Ended): Promise<void> {
    // Asked for together, recorded together (the SQLite outbox commits them as one group).
    await Promise.all(flight.map((delivery) => this.#outbox.startAttempt(delivery.id, this.#now())));
    await this.#deliverBatch(flight, signal, ended);
  }

  /**
   * A refused batch is split in two, again and again, until the message at fault stands alone: one bad
   * act never holds back the others. A batch that failed transiently is retried whole, later.
   */
  async #deliverBatch(batch: readonly Delivery[], signal: AbortSignal, ended: Ended): Promise<void> {
    const first = batch[0] as Delivery;
    const handler = this.#batchHandlers.get(first.kind) as BatchHandler;
    let outcomes: readonly BatchOutcome[];
    try {
      outcomes = await handler(batch, this.#contextOf(first, signal));
    } catch (error) {
      if (signal.aborted) {
        await this.#interrupted(batch, ended);
        return;
      }
      const failure = this.#judge(error);
      if (!failure.transient && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        this.#log.warn({ deliveryIds: batch.map((delivery) => delivery.id), status: failure.status, error: failure.message }, 'delivery: a batch was refused; splitting it to find the message at fault');
        await Promise.all([this.#deliverBatch(batch.slice(0, half), signal, ended), this.#deliverBatch(batch.slice(half), signal, ended)]);
        return;
      }
      for (const delivery of batch) await this.#failed(delivery, failure, ended);
      return;
    }
    this.#breaker.success();
    // Different keys: their records do not depend on one another, and go to the outbox together.
    await Promise.all(
      batch.map((delivery, index) => {
        const outcome = outcomes[index] ?? { error: new Error('the batch handler gave no outcome for this message') };
        return 'answer' in outcome ? this.#delivered(delivery, outcome.answer, ended) : this.#failed(delivery, this.#judge(outcome.error), ended);
      }),
    );
  }

  #contextOf(delivery: Delivery, signal: AbortSignal): DeliveryContext {
    return { signal, ...(delivery.requestId !== undefined ? { requestId: delivery.requestId } : {}) };
  }

  #logOf(delivery: Delivery): object {
    return { deliveryId: delivery.id, kind: delivery.kind, attempts: delivery.attempts + 1, requestId: delivery.requestId };
  }

  async #delivered(delivery: Delivery, answer: Answer, ended: Ended): Promise<void> {
    try {
      await this.#outbox.markDelivered(delivery.id, answer, this.#now(), delivery.payload);
    } catch (error) {
      // Written to the FHIR store, but the record of it (and the delivered hooks' work, in the same local
      // transaction: the indicators projection) rolled back: the message stays pending and goes again,
      // later; its writes are conditional, so the store ends the same.
      const message = `written to the FHIR store, but not recorded as delivered: ${error instanceof Error ? error.message : String(error)}`;
      const outcome = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'transient' as const, diagnostics: message }] };
      await this.#failed(delivery, { status: 503, message, outcome, transient: true, serverDown: false }, ended);
      return;
    }
    ended.set(delivery.id, { outcome: 'delivered' });
    if (delivery.attempts > 0) this.#log.info(this.#logOf(delivery), 'delivery: delivered after retries');
  }

  async #interrupted(deliveries: readonly Delivery[], ended: Ended): Promise<void> {
    for (const delivery of deliveries) {
      await this.#outbox.release(delivery.id);
      ended.set(delivery.id, { outcome: 'interrupted' });
      this.#log.warn(this.#logOf(delivery), 'delivery: interrupted by the shutdown; stays pending for the next start');
    }
  }

  /** The failure of an error, counted by the circuit breaker. */
  #judge(error: unknown): Failure {
    const failure = this.#failureOf(error);
    if (failure.serverDown) this.#breaker.serverFailure(this.#now());
    else this.#breaker.success(); // the server answered: it is up
    return failure;
  }

  async #failed(delivery: Delivery, failure: Failure, ended: Ended): Promise<void> {
    const now = this.#now();
    const attempts = delivery.attempts + 1;
    const log = this.#logOf(delivery);
    const recorded: DeliveryError = {
      status: failure.status,
      message: failure.message,
      outcome: failure.outcome,
      ...(failure.serverOutcome !== undefined ? { serverOutcome: failure.serverOutcome } : {}),
    };
    const { maxAttempts } = this.#options;
    if (failure.transient && (maxAttempts === 0 || attempts < maxAttempts)) {
      const delay = this.#backoff(attempts);
      await this.#outbox.markRetry(delivery.id, recorded, now + delay);
      ended.set(delivery.id, { outcome: 'retry', status: failure.status });
      this.#log.warn({ ...log, status: failure.status, error: failure.message, retryInMs: delay, breaker: this.#breaker.state(now) }, 'delivery: transient failure, will retry');
    } else {
      await this.#outbox.markDead(delivery.id, recorded, now);
      ended.set(delivery.id, { outcome: 'dead', status: failure.status });
      this.#log.error({ ...log, status: failure.status, error: failure.message }, 'delivery: dead letter (permanent failure or attempts exhausted)');
    }
  }
}
