import { createHash } from 'node:crypto';
import { CircuitBreaker } from './breaker.ts';
import type { BreakerState } from './breaker.ts';
import type { Answer, Delivery, DeliveryError, DeliveryStatus, EnqueueResult, KindFilter, NewMessage, Outbox } from './outbox.ts';

// The worker and the doors to it: routes submit messages and wait (a while) for their answer; the
// worker delivers them in order per business key, retries what may succeed later, breaks the circuit
// when the FHIR server is down, and sends what can never succeed to the dead letters.

export interface DeliveryContext {
  readonly requestId?: string;
  /** Aborted when the service stops and the grace period is over: the message stays pending. */
  readonly signal: AbortSignal;
}

/** Delivers one message (read what is stored, map, validate, write) and answers what the client gets. */
export type DeliveryHandler = (delivery: Delivery, ctx: DeliveryContext) => Promise<Answer>;

/** How a failed attempt is judged: the HTTP face (api/errors.ts) knows, the worker only acts on it. */
export interface Failure extends DeliveryError {
  /** Trying again later may succeed (no connection, timeout, 5xx, 409, 429). */
  readonly transient: boolean;
  /** The failure says the FHIR server is down or overloaded: it counts for the circuit breaker. */
  readonly serverDown: boolean;
}

export interface DeliveryOptions {
  /** Messages delivered at once (of different keys). */
  readonly concurrency: number;
  /** Attempts before a message that keeps failing transiently goes to the dead letters; 0 = never. */
  readonly maxAttempts: number;
  /** First retry delay; doubled at each attempt up to maxBackoffMs, with jitter (50–100 %). */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
}

interface Log {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

interface Waiter {
  /** Finishes the wait if the delivery is no longer pending. */
  readonly check: () => void;
  /** Finishes the wait with the delivery as it stands. */
  readonly release: () => void;
}

interface InFlight {
  readonly promise: Promise<void>;
  readonly controller: AbortController;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What an Idempotency-Key is bound to: the kind of write and its content, key order aside. */
export function fingerprintOf(kind: string, payload: unknown): string {
  return createHash('sha256').update(`${kind}\n${stableJson(payload)}`).digest('base64url');
}

/** How often a worker on a shared outbox looks for messages other instances accepted or left behind. */
const SHARED_POLL_MS = 1_000;
/** How often a waiting request on a shared outbox looks whether another instance delivered its message. */
const SHARED_SETTLE_POLL_MS = 200;

export class DeliveryService {
  readonly outbox: Outbox;
  readonly #options: DeliveryOptions;
  readonly #failureOf: (error: unknown) => Failure;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #breaker: CircuitBreaker;
  readonly #handlers = new Map<string, DeliveryHandler>();
  readonly #inflight = new Map<string, InFlight>();
  readonly #busyKeys = new Set<string>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #endedWatchers = new Set<Set<string>>();
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping = false;
  #pumping = false;
  #again = false;

  constructor(outbox: Outbox, options: DeliveryOptions, failureOf: (error: unknown) => Failure, log: Log, now: () => number = Date.now) {
    this.outbox = outbox;
    this.#options = options;
    this.#failureOf = failureOf;
    this.#log = log;
    this.#now = now;
    this.#breaker = new CircuitBreaker({ threshold: options.breakerThreshold, cooldownMs: options.breakerCooldownMs });
  }

  handle(kind: string, handler: DeliveryHandler): void {
    this.#handlers.set(kind, handler);
  }

  get breakerState(): BreakerState {
    return this.#breaker.state(this.#now());
  }

  get inFlight(): number {
    return this.#inflight.size;
  }

  /** Stores the message durably (or finds the one its Idempotency-Key names), then wakes the worker. */
  async submit(message: NewMessage): Promise<EnqueueResult> {
    const result = await this.outbox.enqueue(message);
    if (result.created) this.#kick();
    return result;
  }

  /**
   * The delivery once it is delivered or dead, or as it stands after `waitMs` (still pending). Answers
   * at once while the circuit is open: the FHIR server is down, waiting would only delay the 202.
   */
  async settle(id: string, waitMs: number): Promise<Delivery | undefined> {
    if (waitMs <= 0 || this.#stopping || this.breakerState === 'open') return this.outbox.get(id);
    return new Promise<Delivery | undefined>((resolve, reject) => {
      let finished = false;
      let poll: NodeJS.Timeout | undefined;
      const finish = (delivery: Delivery | undefined): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        const waiters = this.#waiters.get(id);
        waiters?.delete(waiter);
        if (waiters?.size === 0) this.#waiters.delete(id);
        resolve(delivery);
      };
      const release = (): void => {
        this.outbox.get(id).then(finish, reject);
      };
      const waiter: Waiter = {
        check: () => {
          this.outbox.get(id).then((current) => {
            if (current?.status !== 'pending') finish(current);
          }, reject);
        },
        release,
      };
      const timer = setTimeout(release, waitMs);
      // On a shared outbox another instance may deliver it: look now and then, not only when woken.
      if (this.outbox.shared) poll = setInterval(() => waiter.check(), SHARED_SETTLE_POLL_MS);
      let waiters = this.#waiters.get(id);
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(id, waiters);
      }
      waiters.add(waiter);
      // Registered first, read second: a delivery finishing in between is not missed.
      waiter.check();
    });
  }

  get(id: string): Promise<Delivery | undefined> {
    return this.outbox.get(id);
  }

  list(status: DeliveryStatus, limit: number, filter?: KindFilter): Promise<{ total: number; deliveries: Delivery[] }> {
    return this.outbox.list(status, limit, filter);
  }

  async replay(id: string): Promise<'replayed' | 'not-found' | 'not-dead' | 'superseded'> {
    const result = await this.outbox.replay(id, this.#now());
    if (result === 'replayed') this.#kick();
    return result;
  }

  /** Resumes what was pending when the service last stopped (or died), then keeps delivering. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#kick();
  }

  /** Answers every waiting request with the delivery as it stands (pending: 202). */
  releaseWaiters(): void {
    for (const waiters of [...this.#waiters.values()]) for (const waiter of [...waiters]) waiter.release();
  }

  /**
   * Stops taking work, lets what is in flight finish for up to `graceMs`, then aborts it: an aborted
   * message stays pending in the outbox and is delivered at the next start.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.releaseWaiters();
    const running = [...this.#inflight.values()];
    if (running.length === 0) return;
    this.#log.info({ inFlight: running.length, graceMs }, 'delivery: finishing the deliveries in flight');
    const abort = setTimeout(() => {
      for (const flight of running) flight.controller.abort(new Error('the service is stopping'));
    }, graceMs);
    await Promise.allSettled(running.map((flight) => flight.promise));
    clearTimeout(abort);
  }

  #kick(): void {
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#stopping || !this.#started) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#pump();
    }, Math.max(0, delayMs));
  }

  #capacity(state: BreakerState): number {
    if (state === 'open') return 0;
    return state === 'half-open' ? 1 : this.#options.concurrency;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        await this.#fill();
      } while (this.#again && !this.#stopping);
      await this.#planNext();
    } catch (error) {
      this.#log.error({ err: error }, 'delivery: the worker failed to read the outbox; trying again in 1 s');
      this.#schedule(1_000);
    } finally {
      this.#pumping = false;
      // A wake-up that came while #planNext awaited the outbox (a delivery ended, a retry was planned)
      // found the worker busy and only set #again: honour it now, or that message waits for the next
      // submit.
      if (this.#again && !this.#stopping) {
        this.#again = false;
        this.#kick();
      }
    }
  }

  async #fill(): Promise<void> {
    if (this.#stopping) return;
    const capacity = this.#capacity(this.#breaker.state(this.#now()));
    if (this.#inflight.size >= capacity) return;
    // A delivery that ends while `due` runs may come back in its answer (read before it was marked):
    // those are known here and skipped, or they would be delivered twice.
    const endedMeanwhile = new Set<string>();
    this.#endedWatchers.add(endedMeanwhile);
    const unneeded: string[] = [];
    try {
      const candidates = await this.outbox.due(this.#now(), capacity + this.#inflight.size);
      for (const delivery of candidates) {
        if (this.#inflight.has(delivery.id) || this.#busyKeys.has(delivery.key) || endedMeanwhile.has(delivery.id)) continue;
        if (this.#inflight.size < capacity) this.#launch(delivery);
        else unneeded.push(delivery.id);
      }
    } finally {
      this.#endedWatchers.delete(endedMeanwhile);
    }
    // Claimed beyond capacity: left for another instance of a shared outbox.
    if (this.outbox.shared) for (const id of unneeded) await this.outbox.release(id);
  }

  async #planNext(): Promise<void> {
    if (this.#stopping) return;
    const now = this.#now();
    const state = this.#breaker.state(now);
    if (state === 'open') {
      this.#schedule((this.#breaker.reopensAt() ?? now) - now);
      return;
    }
    if (this.#inflight.size >= this.#capacity(state)) return; // a finishing delivery wakes the worker
    const next = await this.outbox.nextDueAt();
    // Other instances accept messages too, and may die holding some: a shared outbox is polled.
    const ceiling = this.outbox.shared ? SHARED_POLL_MS : Number.POSITIVE_INFINITY;
    if (next === undefined) {
      if (this.outbox.shared) this.#schedule(ceiling);
      return; // a submit or a replay wakes the worker
    }
    // Due now but not launched: behind an in-flight message of its key, whose end wakes the worker.
    this.#schedule(Math.min(ceiling, next > now ? next - now : 1_000));
  }

  #launch(delivery: Delivery): void {
    const controller = new AbortController();
    this.#busyKeys.add(delivery.key);
    // On a shared outbox the claim runs out after leaseMs; a delivery that takes longer (a bulk import,
    // a slow FHIR server) keeps it, or another instance would deliver the same message meanwhile.
    const leaseMs = this.outbox.leaseMs;
    const renewal =
      leaseMs === undefined
        ? undefined
        : setInterval(() => {
            this.outbox.renew(delivery.id, this.#now()).catch((error: unknown) => this.#log.warn({ err: error, deliveryId: delivery.id }, 'delivery: could not renew the claim'));
          }, Math.max(10, Math.floor(leaseMs / 3)));
    const promise = this.#attempt(delivery, controller.signal)
      .catch((error: unknown) => {
        this.#log.error({ err: error, deliveryId: delivery.id }, 'delivery: could not record the outcome of an attempt');
      })
      .finally(() => {
        clearInterval(renewal);
        for (const watcher of this.#endedWatchers) watcher.add(delivery.id);
        this.#inflight.delete(delivery.id);
        this.#busyKeys.delete(delivery.key);
        this.#notify(delivery.id);
        this.#kick();
      });
    this.#inflight.set(delivery.id, { promise, controller });
  }

  #backoff(attempts: number): number {
    const exponential = Math.min(this.#options.maxBackoffMs, this.#options.backoffMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(exponential * (0.5 + Math.random() / 2));
  }

  async #attempt(delivery: Delivery, signal: AbortSignal): Promise<void> {
    await this.outbox.startAttempt(delivery.id, this.#now());
    const attempts = delivery.attempts + 1;
    const log = { deliveryId: delivery.id, kind: delivery.kind, attempts, requestId: delivery.requestId };
    const handler = this.#handlers.get(delivery.kind);
    try {
      if (!handler) throw new Error(`no delivery handler for messages of kind "${delivery.kind}"`);
      const answer = await handler(delivery, { signal, ...(delivery.requestId !== undefined ? { requestId: delivery.requestId } : {}) });
      this.#breaker.success();
      await this.outbox.markDelivered(delivery.id, answer, this.#now());
      if (attempts > 1) this.#log.info(log, 'delivery: delivered after retries');
    } catch (error) {
      if (signal.aborted) {
        await this.outbox.release(delivery.id);
        this.#log.warn(log, 'delivery: interrupted by the shutdown; stays pending for the next start');
        return;
      }
      const failure = this.#failureOf(error);
      const now = this.#now();
      if (failure.serverDown) this.#breaker.serverFailure(now);
      else this.#breaker.success(); // the server answered: it is up
      const recorded: DeliveryError = {
        status: failure.status,
        message: failure.message,
        outcome: failure.outcome,
        ...(failure.serverOutcome !== undefined ? { serverOutcome: failure.serverOutcome } : {}),
      };
      const { maxAttempts } = this.#options;
      if (failure.transient && (maxAttempts === 0 || attempts < maxAttempts)) {
        const delay = this.#backoff(attempts);
        await this.outbox.markRetry(delivery.id, recorded, now + delay);
        this.#log.warn({ ...log, status: failure.status, error: failure.message, retryInMs: delay, breaker: this.#breaker.state(now) }, 'delivery: transient failure, will retry');
      } else {
        await this.outbox.markDead(delivery.id, recorded, now);
        this.#log.error({ ...log, status: failure.status, error: failure.message }, 'delivery: dead letter (permanent failure or attempts exhausted)');
      }
    }
  }

  #notify(id: string): void {
    const waiters = this.#waiters.get(id);
    if (!waiters) return;
    for (const waiter of [...waiters]) waiter.check();
  }
}
