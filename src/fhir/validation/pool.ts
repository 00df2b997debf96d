// `$validate` off the event loop: a small pool of worker threads, each with its own validator. A large
// Bundle once held the process 14 s (every request, /health included, waited); now it costs a worker,
// within a time budget, and the event loop only hands over the text. Started on first use: a service that
// never validates on demand spends nothing. node:worker_threads directly: one message type, no library.
import { Worker } from 'node:worker_threads';
import type { ValidationAnswer, ValidationRequest } from './worker.ts';

export interface ValidationPoolOptions {
  /** Worker threads (each holds a validator: a second or so to start, some tens of MB). */
  readonly workers: number;
  /** Documents waiting for a worker beyond those being validated; past it, PoolBusy. */
  readonly queue: number;
  /** Time a document may take once a worker has it; past it the worker is replaced and ValidationTooCostly thrown. */
  readonly timeoutMs: number;
}

export interface PoolVerdict {
  readonly valid: boolean;
  /** The OperationOutcome, as JSON text, to send as it is. */
  readonly outcomeJson: string;
}

/** Every worker busy and the queue full: try again later (503 with Retry-After). */
export class PoolBusy extends Error {
  constructor() {
    super('validation pool full');
    this.name = 'PoolBusy';
  }
}

/** The document took longer than the time budget (413: too costly to validate here). */
export class ValidationTooCostly extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`validation took longer than ${timeoutMs} ms`);
    this.name = 'ValidationTooCostly';
    this.timeoutMs = timeoutMs;
  }
}

interface Job {
  readonly id: number;
  readonly text: string;
  readonly resolve: (verdict: PoolVerdict) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  started: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

// Run from sources (Node strips the types) or from the build (dist/…/worker.js).
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

export class ValidationPool {
  readonly #options: ValidationPoolOptions;
  readonly #threads: Thread[] = [];
  readonly #waiting: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: ValidationPoolOptions) {
    this.#options = options;
  }

  /** Validates a JSON document's text in a worker; throws PoolBusy or ValidationTooCostly. */
  validate(text: string): Promise<PoolVerdict> {
    if (this.#closed) return Promise.reject(new PoolBusy());
    while (this.#threads.length < this.#options.workers) this.#threads.push(this.#spawn());
    // Documents being validated and waiting (also for a worker still starting) against what the pool holds.
    const inFlight = this.#threads.filter((thread) => thread.job !== undefined).length + this.#waiting.length;
    if (inFlight >= this.#options.workers + this.#options.queue) return Promise.reject(new PoolBusy());
    return new Promise<PoolVerdict>((resolve, reject) => {
      this.#waiting.push({ id: this.#nextId++, text, resolve, reject });
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) job.reject(new PoolBusy());
    await Promise.all(this.#threads.splice(0).map((thread) => this.#stop(thread, new PoolBusy())));
  }

  #spawn(): Thread {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    let started: () => void = () => undefined;
    const thread: Thread = { worker, ready: new Promise<void>((resolve) => (started = resolve)), started: false, job: undefined, timer: undefined };
    worker.on('message', (message: ValidationAnswer | 'ready') => {
      if (message === 'ready') {
        thread.started = true;
        started();
        this.#dispatch();
        return;
      }
      const job = thread.job;
      if (job === undefined || job.id !== message.id) return;
      clearTimeout(thread.timer);
      thread.job = undefined;
      job.resolve({ valid: message.valid, outcomeJson: message.outcomeJson });
      this.#dispatch();
    });
    worker.on('error', (error) => this.#replace(thread, error));
    worker.on('exit', () => this.#replace(thread, new Error('validation worker stopped')));
    return thread;
  }

  /** Gives waiting documents to idle, started workers. */
  #dispatch(): void {
    for (const thread of this.#threads) {
      if (this.#waiting.length === 0) return;
      if (thread.job !== undefined) continue;
      void thread.ready.then(() => {
        if (thread.job !== undefined || !this.#threads.includes(thread)) return;
        const job = this.#waiting.shift();
        if (job === undefined) return;
        thread.job = job;
        thread.timer = setTimeout(() => this.#replace(thread, new ValidationTooCostly(this.#options.timeoutMs)), this.#options.timeoutMs);
        thread.worker.postMessage({ id: job.id, text: job.text } satisfies ValidationRequest);
      });
    }
  }

  /** A worker that overran its budget or died: its document fails, a fresh worker takes its place. */
  #replace(thread: Thread, error: Error): void {
    const index = this.#threads.indexOf(thread);
    if (index < 0) return;
    this.#threads.splice(index, 1);
    void this.#stop(thread, error);
    if (!thread.started) {
      // A worker that cannot even start (its validator does not load) would fail again: the documents
      // waiting fail with it, and the next request tries a fresh one.
      for (const job of this.#waiting.splice(0)) job.reject(error);
      return;
    }
    if (!this.#closed) {
      this.#threads.push(this.#spawn());
      this.#dispatch();
    }
  }

  async #stop(thread: Thread, error: Error): Promise<void> {
    clearTimeout(thread.timer);
    thread.job?.reject(error);
    thread.job = undefined;
    thread.worker.removeAllListeners('exit');
    await thread.worker.terminate();
  }
}
