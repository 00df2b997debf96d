// The outbox does not grow for ever: a delivered message is kept DELIVERY_RETENTION_HOURS (to answer a
// repeated Idempotency-Key, a late GET /v1/deliveries/{id} or /v1/jobs/{id}), then removed. Pending
// messages and dead letters are never purged: a dead letter stays until an operator replays or
// discards it. The purge deletes in small batches, one short statement each, and pauses between them,
// so that deliveries (which write to the same table) never wait behind it for long.
import type { Outbox } from './outbox.ts';

export interface PurgeOptions {
  /** How long a delivered message is kept, in milliseconds. */
  readonly retentionMs: number;
  /** Messages removed per statement. */
  readonly batchSize?: number;
  /** Pause between two batches of one run, for the deliveries to go first. */
  readonly pauseMs?: number;
  /** Time between two runs; the first run comes `firstRunMs` after the start. */
  readonly intervalMs?: number;
  readonly firstRunMs?: number;
  /** Told how many messages each batch removed (the metrics count them). */
  readonly onPurged?: (count: number) => void;
}

interface Log {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class OutboxPurger {
  readonly #outbox: Outbox;
  readonly #options: Required<Omit<PurgeOptions, 'onPurged'>> & Pick<PurgeOptions, 'onPurged'>;
  readonly #log: Log;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopping = false;

  constructor(outbox: Outbox, options: PurgeOptions, log: Log, now: () => number = Date.now) {
    this.#outbox = outbox;
    this.#options = { batchSize: 500, pauseMs: 20, intervalMs: 10 * 60_000, firstRunMs: 30_000, ...options };
    this.#log = log;
    this.#now = now;
  }

  start(): void {
    this.#schedule(this.#options.firstRunMs);
  }

  /** Removes every message delivered before the retention period, batch after batch; answers how many. */
  async runOnce(): Promise<number> {
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** No new run; the batch under way finishes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  async #run(): Promise<number> {
    const { batchSize, pauseMs, retentionMs } = this.#options;
    const before = this.#now() - retentionMs;
    let purged = 0;
    for (;;) {
      const removed = await this.#outbox.purgeDelivered(before, batchSize);
      this.#options.onPurged?.(removed);
      purged += removed;
      if (removed < batchSize || this.#stopping) break;
      await sleep(pauseMs);
    }
    if (purged > 0) this.#log.info({ purged, deliveredBefore: new Date(before).toISOString() }, 'outbox: delivered messages past their retention purged');
    return purged;
  }

  #schedule(delayMs: number): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.runOnce()
        .catch((error: unknown) => this.#log.warn({ err: error }, 'outbox: the purge failed; trying again at the next run'))
        .finally(() => this.#schedule(this.#options.intervalMs));
    }, delayMs);
    // The purge never keeps the process alive on its own.
    this.#timer.unref();
  }
}
