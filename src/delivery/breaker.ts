// Stops the worker from hammering a FHIR server that is down. Closed: deliveries flow. After
// `threshold` consecutive failures that say "the server is down" (no connection, timeout, 5xx, 429) it
// opens for `cooldownMs`: nothing is sent. Then half-open: one delivery probes; success closes it,
// failure opens it again. Failures about one message (409 on one resource, 4xx) do not count.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  readonly threshold: number;
  readonly cooldownMs: number;
}

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  #failures = 0;
  #openedAt: number | undefined;

  constructor(options: BreakerOptions) {
    this.#options = options;
  }

  state(now: number): BreakerState {
    if (this.#openedAt === undefined) return 'closed';
    return now - this.#openedAt >= this.#options.cooldownMs ? 'half-open' : 'open';
  }

  /** When an open breaker lets a probe through. */
  reopensAt(): number | undefined {
    return this.#openedAt === undefined ? undefined : this.#openedAt + this.#options.cooldownMs;
  }

  success(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
  }

  serverFailure(now: number): void {
    this.#failures += 1;
    if (this.#openedAt !== undefined || this.#failures >= this.#options.threshold) this.#openedAt = now;
  }
}
