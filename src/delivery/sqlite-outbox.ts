import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { deliveryOfRow, kindCondition } from './outbox.ts';
import type { Answer, Delivery, DeliveryError, DeliveryRow, DeliveryStatus, EnqueueResult, KindFilter, NewMessage, Outbox } from './outbox.ts';

// The embedded outbox: one SQLite file (node:sqlite, built into Node 24) in WAL mode with
// synchronous=FULL, so that a row is on disk when enqueue returns: the service acknowledges only then.
// One process owns the file (the worker keeps its in-flight set in memory).

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  business_key TEXT NOT NULL,
  payload TEXT,
  received_at TEXT NOT NULL,
  request_id TEXT,
  idempotency_key TEXT UNIQUE,
  fingerprint TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  delivered_at INTEGER,
  last_error TEXT,
  answer TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_by_key ON deliveries (business_key, status, seq);
CREATE INDEX IF NOT EXISTS deliveries_by_status ON deliveries (status, next_attempt_at, seq);
`;

function deliveryOf(row: DeliveryRow): Delivery {
  return deliveryOfRow(row, true);
}

export class SqliteOutbox implements Outbox {
  readonly shared = false;
  readonly leaseMs = undefined;
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
  }

  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  #row(id: string): DeliveryRow | undefined {
    return this.#sql('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
  }

  async enqueue(message: NewMessage): Promise<EnqueueResult> {
    // One synchronous statement pair in one tick: two requests with the same key cannot interleave.
    if (message.idempotencyKey !== undefined) {
      const known = this.#sql('SELECT * FROM deliveries WHERE idempotency_key = ?').get(message.idempotencyKey) as DeliveryRow | undefined;
      if (known) return { delivery: deliveryOf(known), created: false };
    }
    const id = randomUUID();
    this.#sql(
      `INSERT INTO deliveries (id, kind, business_key, payload, received_at, request_id, idempotency_key, fingerprint, status, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
    ).run(
      id,
      message.kind,
      message.key,
      JSON.stringify(message.payload),
      message.receivedAt,
      message.requestId ?? null,
      message.idempotencyKey ?? null,
      message.fingerprint ?? null,
      0,
    );
    return { delivery: deliveryOf(this.#row(id) as DeliveryRow), created: true };
  }

  async get(id: string): Promise<Delivery | undefined> {
    const row = this.#row(id);
    return row ? deliveryOf(row) : undefined;
  }

  async list(status: DeliveryStatus, limit: number, filter?: KindFilter): Promise<{ total: number; deliveries: Delivery[] }> {
    const kind = kindCondition(filter, () => '?', 0);
    const { total } = this.#sql(`SELECT COUNT(*) AS total FROM deliveries WHERE status = ?${kind.sql}`).get(status, ...kind.params) as { total: number };
    const rows = this.#sql(`SELECT * FROM deliveries WHERE status = ?${kind.sql} ORDER BY seq LIMIT ?`).all(status, ...kind.params, limit) as unknown as DeliveryRow[];
    return { total, deliveries: rows.map(deliveryOf) };
  }

  async due(now: number, limit: number): Promise<Delivery[]> {
    const rows = this.#sql(
      `SELECT d.* FROM deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= ?
          AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.business_key = d.business_key AND e.status = 'pending' AND e.seq < d.seq)
        ORDER BY d.seq LIMIT ?`,
    ).all(now, limit) as unknown as DeliveryRow[];
    return rows.map(deliveryOf);
  }

  async nextDueAt(): Promise<number | undefined> {
    const { next } = this.#sql("SELECT MIN(next_attempt_at) AS next FROM deliveries WHERE status = 'pending'").get() as { next: number | null };
    return next ?? undefined;
  }

  async release(): Promise<void> {
    // One process per file: nothing is claimed, nothing to give up.
  }

  async renew(): Promise<void> {
    // Nor anything to keep.
  }

  async startAttempt(id: string, now: number): Promise<void> {
    this.#sql('UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ? WHERE id = ?').run(now, id);
  }

  async markDelivered(id: string, answer: Answer, now: number): Promise<void> {
    this.#sql("UPDATE deliveries SET status = 'delivered', payload = NULL, answer = ?, delivered_at = ? WHERE id = ?").run(JSON.stringify(answer), now, id);
  }

  async markRetry(id: string, error: DeliveryError, nextAttemptAt: number): Promise<void> {
    this.#sql('UPDATE deliveries SET last_error = ?, next_attempt_at = ? WHERE id = ?').run(JSON.stringify(error), nextAttemptAt, id);
  }

  async markDead(id: string, error: DeliveryError, now: number): Promise<void> {
    this.#sql("UPDATE deliveries SET status = 'dead', last_error = ?, next_attempt_at = ? WHERE id = ?").run(JSON.stringify(error), now, id);
  }

  async replay(id: string, now: number): Promise<'replayed' | 'not-found' | 'not-dead' | 'superseded'> {
    const row = this.#row(id);
    if (!row) return 'not-found';
    if (row.status !== 'dead') return 'not-dead';
    const later = this.#sql("SELECT 1 AS one FROM deliveries WHERE business_key = ? AND status = 'delivered' AND seq > ? LIMIT 1").get(row.business_key, row.seq);
    if (later) return 'superseded';
    this.#sql("UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?").run(now, id);
    return 'replayed';
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
