import { createHash } from 'node:crypto';
import { canonicalJson } from '../mapping/index.ts';
import { Attempts } from './attempt.ts';
import type { AttemptOutcomes, BatchHandler, DeliveryHandler, DeliveryLog, Failure } from './attempt.ts';
import { CircuitBreaker } from './breaker.ts';
import type { BreakerState } from './breaker.ts';
import type { Delivery, DeliveryFilter, DeliveryStatus, EnqueueResult, NewMessage, Outbox } from './outbox.ts';

// The worker and the doors to it: routes submit messages and wait (a while) for their answer; the
// worker delivers them in order per business key, in batches where a kind has a batch handler, and waits
// while the circuit is open; each attempt (attempt.ts) retries what may succeed later and sends what can
// never succeed to the dead letters.

/**
 * Watches the deliveries (metrics and traces, in observability/): each attempt, run inside whatever the
 * observer sets up around it, and what a message carries of the context it was accepted in.
 */
export interface DeliveryObserver {
  /** The W3C traceparent of the context a message is submitted in, if any. */
  carried?(): string | undefined;
  /** Runs one attempt at a flight (one message, or a batch of one kind); answers what `run` answers: how each message ended. */
  attempt(flight: readonly Delivery[], run: () => Promise<AttemptOutcomes>): Promise<AttemptOutcomes>;
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
  /**
   * Most messages of a kind with a batch handler delivered in one go (one transaction); 1 by default.
   * The worker never waits to fill a batch: it takes what is due when a slot frees.
   */
  readonly batchSize?: number;
  /**
   * Batches of one kind in flight at once, from all the instances of a shared outbox together (each
   * keeps its share, at least one); 2 by default. Fewer flights than clients is what lets messages that
   * arrive meanwhile gather into the next batch, instead of each taking a slot alone.
   */
  readonly batchFlights?: number;
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

/** What an Idempotency-Key is bound to: the kind of write and its content, key order aside. */
export function fingerprintOf(kind: string, payload: unknown): string {
  return createHash('sha256').update(`${kind}\n${canonicalJson(payload)}`).digest('base64url');
}

/** How often a worker on a shared outbox looks for messages other instances accepted or left behind. */
const SHARED_POLL_MS = 1_000;
/** How often a worker on a shared outbox says it is alive and counts the instances sharing it. */
const INSTANCES_EVERY_MS = 2_000;
/** How often a waiting request on a shared outbox looks whether another instance delivered its message. */
const SHARED_SETTLE_POLL_MS = 200;

export class DeliveryService {
  readonly outbox: Outbox;
  readonly #options: DeliveryOptions;
  readonly #log: DeliveryLog;
  readonly #now: () => number;
  readonly #breaker: CircuitBreaker;
  readonly #attempts: Attempts;
  /** A kind's own batch size, where it differs from the options' batchSize. */
  readonly #batchSizes = new Map<string, number>();
  /** By delivery id; the messages of one batch share their flight. */
  readonly #inflight = new Map<string, InFlight>();
  /** Batches (or single messages) on their way: what the concurrency limits. */
  #flights = 0;
  /** Batches on their way, by kind: what batchFlights limits. */
  readonly #kindFlights = new Map<string, number>();
  readonly #busyKeys = new Set<string>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #endedWatchers = new Set<Set<string>>();
  #timer: NodeJS.Timeout | undefined;
  /** Instances delivering from the outbox, as last counted: they share batchFlights. */
  #instances = 1;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #observers: DeliveryObserver[] = [];
  #started = false;
  #stopping = false;
  #pumping = false;
  #again = false;

  constructor(outbox: Outbox, options: DeliveryOptions, failureOf: (error: unknown) => Failure, log: DeliveryLog, now: () => number = Date.now) {
    this.outbox = outbox;
    this.#options = options;
    this.#log = log;
    this.#now = now;
    this.#breaker = new CircuitBreaker({ threshold: options.breakerThreshold, cooldownMs: options.breakerCooldownMs });
    const { maxAttempts, backoffMs, maxBackoffMs } = options;
    this.#attempts = new Attempts({ outbox, breaker: this.#breaker, failureOf, log, now, maxAttempts, backoffMs, maxBackoffMs });
  }

  handle(kind: string, handler: DeliveryHandler): void {
    this.#attempts.handle(kind, handler);
  }

  /**
   * Messages of this kind are delivered several at once through this handler: up to the options'
   * `batchSize`, or `size` for a kind whose messages are small and many (audit records).
   */
  handleBatch(kind: string, handler: BatchHandler, size?: number): void {
    this.#attempts.handleBatch(kind, handler);
    if (size !== undefined) this.#batchSizes.set(kind, Math.max(1, size));
  }

  /** Lets an observer see each submission and attempt (before the worker starts; the first one outermost). */
  observe(observer: DeliveryObserver): void {
    this.#observers.push(observer);
  }

  get breakerState(): BreakerState {
    return this.#breaker.state(this.#now());
  }

  /** Messages on their way to the FHIR store. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /** Stores the message durably (or finds the one its Idempotency-Key names), then wakes the worker. */
  async submit(message: NewMessage): Promise<EnqueueResult> {
    const traceParent = this.#observers.reduce<string | undefined>((found, observer) => found ?? observer.carried?.(), undefined);
    const result = await this.outbox.enqueue(traceParent === undefined ? message : { ...message, traceParent });
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

  list(status: DeliveryStatus, limit: number, filter?: DeliveryFilter): Promise<{ total: number; deliveries: Delivery[] }> {
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
    if (this.outbox.shared) {
      void this.#countInstances();
      this.#heartbeat = setInterval(() => void this.#countInstances(), INSTANCES_EVERY_MS);
      this.#heartbeat.unref();
    }
    this.#kick();
  }

  /** Instances delivering from the outbox, this one included, as last counted (1 on an outbox of its own). */
  get instances(): number {
    return this.#instances;
  }

  /**
   * Batches of one kind this instance keeps in flight: the options' batchFlights is what the FHIR server
   * gets from all the instances of a shared outbox together, each taking its share (at least one). Two
   * instances each keeping the whole of it made batches half as large, and went slower than one instance
   * (bench/README.md).
   */
  #batchFlights(): number {
    return Math.max(1, Math.round((this.#options.batchFlights ?? 2) / this.#instances));
  }

  async #countInstances(): Promise<void> {
    try {
      this.#instances = await this.outbox.instances();
    } catch (error) {
      if (this.#stopping) return; // the outbox is closing
      this.#log.warn({ err: error }, 'delivery: could not count the instances sharing the outbox; keeping the last count');
    }
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
    clearInterval(this.#heartbeat);
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
    const state = this.#breaker.state(this.#now());
    const free = this.#capacity(state) - this.#flights;
    if (free <= 0) return;
    // A half-open breaker probes the server with one message, not a batch.
    const probing = state === 'half-open';
    const commonSize = Math.max(1, this.#options.batchSize ?? 1);
    const sizeOf = (kind: string): number => (probing ? 1 : (this.#batchSizes.get(kind) ?? commonSize));
    const largest = Math.max(commonSize, ...this.#batchSizes.values());
    // A delivery that ends while `due` runs may come back in its answer (read before it was marked):
    // those are known here and skipped, or they would be delivered twice.
    const endedMeanwhile = new Set<string>();
    this.#endedWatchers.add(endedMeanwhile);
    const unneeded: string[] = [];
    try {
      // Kinds whose batch flights are all busy are not asked for: on a shared outbox each one handed out
      // would be claimed, then given back one by one (an UPDATE each), at every wake-up of the worker.
      const full = new Set(this.#attempts.batchedKinds.filter((kind) => (this.#kindFlights.get(kind) ?? 0) >= this.#batchFlights()));
      const candidates = await this.outbox.due(this.#now(), (probing ? free : free * commonSize + largest) + this.#inflight.size, full);
      const flights: Delivery[][] = [];
      const open = new Map<string, Delivery[]>();
      const spread = this.#spread(candidates, free, endedMeanwhile, sizeOf);
      for (const delivery of candidates) {
        if (this.#inflight.has(delivery.id) || this.#busyKeys.has(delivery.key) || endedMeanwhile.has(delivery.id)) continue;
        // `due` hands out one message per key, but a key may come back in the same answer on a shared outbox.
        if (flights.some((flight) => flight.some((other) => other.key === delivery.key))) {
          unneeded.push(delivery.id);
          continue;
        }
        const batch = this.#attempts.batched(delivery.kind) ? open.get(delivery.kind) : undefined;
        if (batch !== undefined && batch.length < (spread.get(delivery.kind) ?? sizeOf(delivery.kind))) {
          batch.push(delivery);
          continue;
        }
        const batchable = this.#attempts.batched(delivery.kind);
        const kindFlights = (this.#kindFlights.get(delivery.kind) ?? 0) + flights.filter((flight) => flight[0]?.kind === delivery.kind).length;
        if (flights.length >= free || (batchable && kindFlights >= this.#batchFlights())) {
          unneeded.push(delivery.id);
          continue;
        }
        const flight = [delivery];
        flights.push(flight);
        if (this.#attempts.batched(delivery.kind)) open.set(delivery.kind, flight);
      }
      for (const flight of flights) this.#launch(flight);
    } finally {
      this.#endedWatchers.delete(endedMeanwhile);
    }
    // Claimed beyond capacity: left for another instance of a shared outbox.
    if (this.outbox.shared) for (const id of unneeded) await this.outbox.release(id);
  }

  /**
   * How many messages each new batch of a kind takes: what is due of the kind, spread evenly over the
   * flights it may still open, up to its batch size. Eight acts due with two flights free go as two
   * batches of four, not one of eight: the FHIR server writes each transaction on one thread, so two
   * halves are written side by side in about half the time, while one whole batch left a core idle.
   */
  #spread(candidates: readonly Delivery[], free: number, ended: ReadonlySet<string>, sizeOf: (kind: string) => number): Map<string, number> {
    const due = new Map<string, Set<string>>();
    for (const delivery of candidates) {
      if (!this.#attempts.batched(delivery.kind) || this.#inflight.has(delivery.id) || this.#busyKeys.has(delivery.key) || ended.has(delivery.id)) continue;
      const keys = due.get(delivery.kind) ?? new Set<string>();
      keys.add(delivery.key);
      due.set(delivery.kind, keys);
    }
    const sizes = new Map<string, number>();
    for (const [kind, keys] of due) {
      const flights = Math.max(1, Math.min(free, this.#batchFlights() - (this.#kindFlights.get(kind) ?? 0)));
      sizes.set(kind, Math.min(sizeOf(kind), Math.ceil(keys.size / flights)));
    }
    return sizes;
  }

  async #planNext(): Promise<void> {
    if (this.#stopping) return;
    const now = this.#now();
    const state = this.#breaker.state(now);
    if (state === 'open') {
      this.#schedule((this.#breaker.reopensAt() ?? now) - now);
      return;
    }
    if (this.#flights >= this.#capacity(state)) return; // a finishing delivery wakes the worker
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

  #launch(flight: readonly Delivery[]): void {
    const controller = new AbortController();
    for (const delivery of flight) this.#busyKeys.add(delivery.key);
    this.#flights += 1;
    const kind = (flight[0] as Delivery).kind;
    const batched = this.#attempts.batched(kind);
    if (batched) this.#kindFlights.set(kind, (this.#kindFlights.get(kind) ?? 0) + 1);
    // On a shared outbox the claim runs out after leaseMs; a delivery that takes longer (a bulk import,
    // a slow FHIR server) keeps it, or another instance would deliver the same message meanwhile.
    const leaseMs = this.outbox.leaseMs;
    const renewal =
      leaseMs === undefined
        ? undefined
        : setInterval(() => {
            for (const delivery of flight) {
              this.outbox.renew(delivery.id, this.#now()).catch((error: unknown) => this.#log.warn({ err: error, deliveryId: delivery.id }, 'delivery: could not renew the claim'));
            }
          }, Math.max(10, Math.floor(leaseMs / 3)));
    const attempt = (): Promise<AttemptOutcomes> => this.#attempts.run(flight, controller.signal);
    const observed = this.#observers.reduceRight<() => Promise<AttemptOutcomes>>((inner, observer) => () => observer.attempt(flight, inner), attempt);
    const promise = observed()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.#log.error({ err: error, deliveryIds: flight.map((delivery) => delivery.id) }, 'delivery: could not record the outcome of an attempt');
      })
      .finally(() => {
        clearInterval(renewal);
        this.#flights -= 1;
        if (batched) this.#kindFlights.set(kind, (this.#kindFlights.get(kind) ?? 1) - 1);
        for (const delivery of flight) {
          for (const watcher of this.#endedWatchers) watcher.add(delivery.id);
          this.#inflight.delete(delivery.id);
          this.#busyKeys.delete(delivery.key);
          this.#notify(delivery.id);
        }
        this.#kick();
      });
    for (const delivery of flight) this.#inflight.set(delivery.id, { promise, controller });
  }

  #notify(id: string): void {
    const waiters = this.#waiters.get(id);
    if (!waiters) return;
    for (const waiter of [...waiters]) waiter.check();
  }
}
