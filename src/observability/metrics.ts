// Prometheus metrics of one service instance, in its own registry (no process-wide state: tests build
// many apps in one process). HTTP requests are measured by fastify-metrics (api/metrics.ts); this file
// holds what only the service knows: calls to the FHIR store, deliveries, the outbox, the breaker, imports.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AttemptOutcomes, BreakerState, Delivery, DeliveryObserver, Outbox, OutboxCensus } from '../delivery/index.ts';
import { FhirStoreError } from '../fhir/index.ts';
import type { StoreObserver, StoreOperation } from '../fhir/observed-store.ts';
import type { ImportWatcher } from '../writes/index.ts';

/** Latency buckets in seconds, from a cached read (a few ms) to a bulk transaction (tens of seconds). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'half-open', 'open'];

/** What the gauges read at each scrape. */
export interface MetricSources {
  readonly outbox: Outbox;
  readonly breakerState: () => BreakerState;
  readonly inFlight: () => number;
  readonly now?: () => number;
}

export class ServiceMetrics implements StoreObserver, DeliveryObserver, ImportWatcher {
  readonly registry = new Registry();
  readonly #storeCalls: Histogram<'operation' | 'resource_type' | 'outcome'>;
  readonly #deliveries: Counter<'kind' | 'outcome'>;
  readonly #deliveryDuration: Histogram<'kind' | 'outcome'>;
  readonly #importLines: Counter<'outcome'>;
  readonly #purged: Counter;
  readonly #importsRunning: Gauge;
  #sources: MetricSources | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.#storeCalls = new Histogram({
      name: 'telesante_fhir_store_call_duration_seconds',
      help: 'Calls to the FHIR store (HAPI or embedded) by operation and resource type; outcome is ok or the kind of failure (invalid, conflict, unavailable, timeout…)',
      labelNames: ['operation', 'resource_type', 'outcome'],
      buckets: BUCKETS,
      registers,
    });
    this.#deliveries = new Counter({
      name: 'telesante_deliveries_total',
      help: 'Delivery attempts of outbox messages by kind (act, offer, audit…) and outcome (delivered, retry, dead, interrupted)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#deliveryDuration = new Histogram({
      name: 'telesante_delivery_duration_seconds',
      help: 'Time one delivery attempt took (map, validate, write), by kind and outcome',
      labelNames: ['kind', 'outcome'],
      buckets: BUCKETS,
      registers,
    });
    this.#importLines = new Counter({
      name: 'telesante_import_lines_total',
      help: 'Lines of bulk imports (POST /v1/offers/$import) done, by outcome (imported, rejected)',
      labelNames: ['outcome'],
      registers,
    });
    this.#purged = new Counter({ name: 'telesante_outbox_purged_total', help: 'Delivered messages removed from the outbox once past DELIVERY_RETENTION_HOURS', registers });
    this.#importsRunning = new Gauge({ name: 'telesante_import_jobs_running', help: 'Bulk imports this instance is running', registers });
    const now = (): number => this.#sources?.now?.() ?? Date.now();
    const sources = (): MetricSources | undefined => this.#sources;
    // The outbox is read once per scrape (the gauges are collected together) and each gauge takes its
    // part; an outbox that cannot be read leaves them as they were and says so in census_up.
    let census: Promise<OutboxCensus | undefined> | undefined;
    const read = (): Promise<OutboxCensus | undefined> => {
      const outbox = this.#sources?.outbox;
      if (outbox === undefined) return Promise.resolve(undefined);
      census ??= outbox
        .census()
        .catch(() => undefined)
        .finally(() => setImmediate(() => (census = undefined)));
      return census;
    };
    new Gauge({
      name: 'telesante_outbox_messages',
      help: 'Messages in the outbox by status: pending (waiting for delivery or a retry), dead (dead letters), delivered (kept until purged)',
      labelNames: ['status'],
      registers,
      async collect() {
        const c = await read();
        if (c === undefined) return;
        this.set({ status: 'pending' }, c.pending);
        this.set({ status: 'dead' }, c.dead);
        this.set({ status: 'delivered' }, c.delivered);
      },
    });
    new Gauge({
      name: 'telesante_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest pending message (0 when nothing is pending): grows while the FHIR server is down',
      registers,
      async collect() {
        const c = await read();
        if (c !== undefined) this.set(c.oldestPendingReceivedAt === undefined ? 0 : Math.max(0, (now() - Date.parse(c.oldestPendingReceivedAt)) / 1000));
      },
    });
    new Gauge({
      name: 'telesante_outbox_size_bytes',
      help: 'Size of the outbox in its database (SQLite file pages, or the PostgreSQL table with its indexes)',
      registers,
      async collect() {
        const c = await read();
        if (c !== undefined) this.set(c.bytes);
      },
    });
    new Gauge({
      name: 'telesante_outbox_up',
      help: '1 when the outbox answered the last scrape, 0 when it could not be read',
      registers,
      async collect() {
        if (sources() !== undefined) this.set((await read()) === undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: 'telesante_delivery_breaker_state',
      help: 'Circuit breaker in front of the FHIR server: 1 for its current state (closed, half-open, open), 0 for the others',
      labelNames: ['state'],
      registers,
      collect() {
        const current = sources()?.breakerState();
        if (current === undefined) return;
        for (const state of BREAKER_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'telesante_deliveries_in_flight',
      help: 'Deliveries this instance is making right now',
      registers,
      collect() {
        const value = sources()?.inFlight();
        if (value !== undefined) this.set(value);
      },
    });
  }

  /** Where the gauges read the outbox and the worker (known once the app has built them). */
  watch(sources: MetricSources): void {
    this.#sources = sources;
  }

  async around<T>(operation: StoreOperation, resourceType: string | undefined, call: () => Promise<T>): Promise<T> {
    const end = this.#storeCalls.startTimer({ operation, resource_type: resourceType ?? '' });
    try {
      const result = await call();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: error instanceof FhirStoreError ? error.kind : 'error' });
      throw error;
    }
  }

  /** Counts how each message of an attempt ended, by its kind, with the time the attempt took. */
  async attempt(flight: readonly Delivery[], run: () => Promise<AttemptOutcomes>): Promise<AttemptOutcomes> {
    const start = performance.now();
    const outcomes = await run();
    const seconds = (performance.now() - start) / 1000;
    for (const delivery of flight) {
      const outcome = outcomes.get(delivery.id)?.outcome;
      if (outcome === undefined) continue;
      this.#deliveries.inc({ kind: delivery.kind, outcome });
      this.#deliveryDuration.observe({ kind: delivery.kind, outcome }, seconds);
    }
    return outcomes;
  }

  /** An import's counts went from `before` to `after`. */
  importProgress(before: { imported: number; rejected: number }, after: { imported: number; rejected: number }): void {
    if (after.imported > before.imported) this.#importLines.inc({ outcome: 'imported' }, after.imported - before.imported);
    if (after.rejected > before.rejected) this.#importLines.inc({ outcome: 'rejected' }, after.rejected - before.rejected);
  }

  purged(count: number): void {
    this.#purged.inc(count);
  }

  importStarted(): () => void {
    this.#importsRunning.inc();
    return () => this.#importsRunning.dec();
  }
}
