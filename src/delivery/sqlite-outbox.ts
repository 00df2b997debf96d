import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, fdatasync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { deliveryOfRow, filterCondition } from './outbox.ts';
import type { Answer, DeliveredHook, Delivery, DeliveryError, DeliveryFilter, DeliveryRow, DeliveryStatus, EnqueueResult, NewMessage, Outbox, OutboxCensus, OutboxDatabase } from './outbox.ts';

// The embedded outbox: one SQLite file (node:sqlite, built into Node 24) in WAL mode, a row on disk (the
// WAL synced) when enqueue returns: the service acknowledges only then.
// One process owns the file (the worker keeps its in-flight set in memory).
//
// Group commit: node:sqlite is synchronous, and with synchronous=FULL every commit waits for the disk
// (an fsync of the WAL) with the event loop stopped. Committed one by one, the writes of one act (its
// message, its audit record, the attempt, the delivery, and the audit record's) stopped the service
// ~45 ms per act on this machine's disk. So the writes asked for in one turn of the event loop are
// queued and committed together at the next one: one transaction, one fsync, each write in a savepoint
// of its own (a write that fails is rolled back alone and its caller gets the error), and no caller is
// answered before the group is on disk.
//
// That fsync runs off the event loop: SQLite commits with synchronous=NORMAL (the WAL frames are written,
// not synced), then the WAL file is synced with fdatasync on libuv's thread pool, and only then are the
// group's callers answered. What a caller is told is on disk is on disk, as with synchronous=FULL; the
// event loop goes on parsing, checking and mapping other requests while the disk works. A commit that
// a power cut loses was never acknowledged (an act then delivered is written again, conditionally).
//
// A delivered message's payload (INS, names, report) must not outlive its delivery anywhere in the files:
// secure_delete zeroes what an UPDATE or DELETE frees (in-page space, overflow and free pages) instead of
// leaving it readable; the WAL, which holds every page as it was written, is checkpointed and truncated
// to nothing after deliveries (and journal_size_limit keeps it from growing back unchecked); the files are
// 0600 in a 0700 folder.

/** The longest a delivered payload's copy stays in the WAL while messages keep coming. */
const CHECKPOINT_EVERY_MS = 1_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  business_key TEXT NOT NULL,
  payload TEXT,
  received_at TEXT NOT NULL,
  request_id TEXT,
  submitted_by TEXT,
  trace_parent TEXT,
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
CREATE INDEX IF NOT EXISTS deliveries_by_delivered_at ON deliveries (status, delivered_at);
`;

/** Every column of the table but the payload (the columns added to older files included: they exist once open). */
const COLUMNS_BUT_PAYLOAD = [
  'seq', 'id', 'kind', 'business_key', 'source', 'received_at', 'request_id', 'submitted_by', 'trace_parent', 'idempotency_key',
  'fingerprint', 'status', 'attempts', 'next_attempt_at', 'last_attempt_at', 'delivered_at', 'last_error', 'answer',
] as const;

function deliveryOf(row: DeliveryRow): Delivery {
  return deliveryOfRow(row, true);
}

export class SqliteOutbox implements Outbox {
  readonly shared = false;
  readonly leaseMs = undefined;
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #hooks: DeliveredHook[] = [];
  /** Writes waiting for the next group commit. */
  #queued: { run: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  #flush: NodeJS.Immediate | undefined;
  /** The WAL file, opened at the first commit, for the fdatasync that makes a group durable. */
  #walFd: number | undefined;
  /** Syncs not yet ended: close waits for them before closing the WAL's descriptor. */
  readonly #syncing = new Set<Promise<void>>();

  constructor(path: string) {
    this.path = path;
    if (path !== ':memory:') privateFiles(path);
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON; PRAGMA journal_size_limit = 0;');
    this.#db.exec(SCHEMA);
    // Outboxes made before the delivery console have no source column: added in place, empty.
    const columns = this.#db.prepare('SELECT name FROM pragma_table_info(?)').all('deliveries') as { name: string }[];
    if (!columns.some((column) => column.name === 'source')) this.#db.exec('ALTER TABLE deliveries ADD COLUMN source TEXT');
    this.#db.exec('CREATE INDEX IF NOT EXISTS deliveries_by_source ON deliveries (source, status, seq)');
    // Files made before deliveries named their client: the column is added, old rows have none.
    if (!columns.some((column) => column.name === 'submitted_by')) this.#db.exec('ALTER TABLE deliveries ADD COLUMN submitted_by TEXT');
    // And before tracing carried a message's trace context to its delivery.
    if (!columns.some((column) => column.name === 'trace_parent')) this.#db.exec('ALTER TABLE deliveries ADD COLUMN trace_parent TEXT');
  }

  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /** Runs `write` in the next group commit (see the head of this file); resolves once it is on disk. */
  #grouped<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queued.push({ run: write, resolve: resolve as (value: unknown) => void, reject });
      this.#flush ??= setImmediate(() => this.#commitQueued());
    });
  }

  #commitQueued(): void {
    this.#flush = undefined;
    const writes = this.#queued;
    this.#queued = [];
    if (writes.length === 0) return;
    if (!this.#db.isOpen) {
      for (const write of writes) write.reject(new Error('the outbox is closed'));
      return;
    }
    const settled: { ok: boolean; value: unknown }[] = [];
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const write of writes) {
        this.#db.exec('SAVEPOINT write');
        try {
          settled.push({ ok: true, value: write.run() });
          this.#db.exec('RELEASE write');
        } catch (error) {
          this.#db.exec('ROLLBACK TO write');
          this.#db.exec('RELEASE write');
          settled.push({ ok: false, value: error });
        }
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of the group is on disk.
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const write of writes) write.reject(error);
      return;
    }
    const answer = (): void =>
      writes.forEach((write, index) => {
        const outcome = settled[index] as { ok: boolean; value: unknown };
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.value);
      });
    if (this.path === ':memory:') {
      answer();
      return;
    }
    // Committed, not yet durable: a write the disk refuses to sync is not acknowledged (its caller gets
    // the error and the client may send it again; what is in the file is delivered, idempotently).
    const synced = this.#syncWal().then(answer, (error: unknown) => {
      for (const write of writes) write.reject(error);
    });
    this.#syncing.add(synced);
    void synced.finally(() => this.#syncing.delete(synced));
  }

  #syncWal(): Promise<void> {
    this.#walFd ??= openSync(`${this.path}-wal`, 'r');
    const fd = this.#walFd;
    return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  }

  #row(id: string): DeliveryRow | undefined {
    return this.#sql(`SELECT ${COLUMNS_BUT_PAYLOAD.join(', ')} FROM deliveries WHERE id = ?`).get(id) as DeliveryRow | undefined;
  }

  enqueue(message: NewMessage): Promise<EnqueueResult> {
    // The look-up and the insert run together in one savepoint: two requests with the same key cannot interleave.
    return this.#grouped(() => this.#enqueueNow(message));
  }

  #enqueueNow(message: NewMessage): EnqueueResult {
    if (message.idempotencyKey !== undefined) {
      const known = this.#sql(`SELECT ${COLUMNS_BUT_PAYLOAD.join(', ')} FROM deliveries WHERE idempotency_key = ?`).get(message.idempotencyKey) as DeliveryRow | undefined;
      if (known) return { delivery: deliveryOf(known), created: false };
    }
    // The row as inserted, without reading it back (its payload is an act's Bundle: tens of kilobytes).
    const row: DeliveryRow = {
      id: randomUUID(),
      seq: 0,
      kind: message.kind,
      business_key: message.key,
      source: message.source ?? null,
      payload: JSON.stringify(message.payload),
      received_at: message.receivedAt,
      request_id: message.requestId ?? null,
      idempotency_key: message.idempotencyKey ?? null,
      fingerprint: message.fingerprint ?? null,
      submitted_by: message.submittedBy ?? null,
      trace_parent: message.traceParent ?? null,
      status: 'pending',
      attempts: 0,
      next_attempt_at: message.notBefore ?? 0,
      last_attempt_at: null,
      delivered_at: null,
      last_error: null,
      answer: null,
    };
    const { lastInsertRowid } = this.#sql(
      `INSERT INTO deliveries (id, kind, business_key, source, payload, received_at, request_id, idempotency_key, fingerprint, submitted_by, trace_parent, status, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
    ).run(row.id, row.kind, row.business_key, row.source ?? null, row.payload as string, row.received_at, row.request_id ?? null, row.idempotency_key, row.fingerprint, row.submitted_by ?? null, row.trace_parent ?? null, row.next_attempt_at);
    return { delivery: deliveryOf({ ...row, seq: Number(lastInsertRowid) }), created: true };
  }

  async get(id: string): Promise<Delivery | undefined> {
    // Without the payload: a request waiting for its delivery looks at the row several times.
    const row = this.#row(id);
    return row ? deliveryOf(row) : undefined;
  }

  async list(status: DeliveryStatus, limit: number, filter?: DeliveryFilter): Promise<{ total: number; deliveries: Delivery[] }> {
    const where = filterCondition(filter, () => '?', 0);
    const { total } = this.#sql(`SELECT COUNT(*) AS total FROM deliveries WHERE status = ?${where.sql}`).get(status, ...where.params) as { total: number };
    const rows = this.#sql(`SELECT ${COLUMNS_BUT_PAYLOAD.join(', ')} FROM deliveries WHERE status = ?${where.sql} AND seq > ? ORDER BY seq LIMIT ?`).all(status, ...where.params, filter?.afterSeq ?? 0, limit) as unknown as DeliveryRow[];
    return { total, deliveries: rows.map(deliveryOf) };
  }

  async due(now: number, limit: number, skipKinds: ReadonlySet<string> = new Set()): Promise<Delivery[]> {
    // Without their payloads: the worker skips most of what it is handed (messages in flight, keys busy)
    // and reads the payload of those it delivers, when the handler does (one row, by id).
    const skipped = [...skipKinds].sort();
    const rows = this.#sql(
      `SELECT ${COLUMNS_BUT_PAYLOAD.map((column) => `d.${column}`).join(', ')} FROM deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= ?${skipped.length === 0 ? '' : ` AND d.kind NOT IN (${skipped.map(() => '?').join(', ')})`}
          AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.business_key = d.business_key AND e.status = 'pending' AND e.seq < d.seq)
        ORDER BY d.seq LIMIT ?`,
    ).all(now, ...skipped, limit) as unknown as DeliveryRow[];
    return rows.map((row) => deliveryOfRow(row, true, () => this.#payloadText(row.id)));
  }

  #payloadText(id: string): string | null {
    const row = this.#sql('SELECT payload FROM deliveries WHERE id = ?').get(id) as { payload: string | null } | undefined;
    return row?.payload ?? null;
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

  async instances(): Promise<number> {
    return 1; // one process per file
  }

  async startAttempt(id: string, now: number): Promise<void> {
    await this.#grouped(() => this.#sql('UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ? WHERE id = ?').run(now, id));
  }

  get database(): OutboxDatabase {
    return { kind: 'sqlite', db: this.#db };
  }

  addDeliveredHook(hook: DeliveredHook): void {
    this.#hooks.push(hook);
  }

  async markDelivered(id: string, answer: Answer, now: number, payload?: unknown): Promise<void> {
    // The hooks' work and the mark in one savepoint of the group commit: both or neither.
    await this.#grouped(() => {
      const columns = payload === undefined ? 'seq, kind, business_key, payload, received_at' : 'seq, kind, business_key, received_at';
      const row = this.#sql(`SELECT ${columns} FROM deliveries WHERE id = ? AND status = 'pending'`).get(id) as
        | Pick<DeliveryRow, 'seq' | 'kind' | 'business_key' | 'payload' | 'received_at'>
        | undefined;
      const hooks = row === undefined ? [] : this.#hooks.filter((hook) => hook.kinds.has(row.kind));
      if (row !== undefined && hooks.length > 0) {
        const carried = payload ?? (JSON.parse(row.payload as string) as unknown);
        const message = { id, seq: Number(row.seq), kind: row.kind, key: row.business_key, payload: carried, receivedAt: row.received_at };
        for (const hook of hooks) hook.sqlite(this.#db, message);
      }
      this.#sql("UPDATE deliveries SET status = 'delivered', payload = NULL, answer = ?, delivered_at = ? WHERE id = ?").run(JSON.stringify(answer), now, id);
    });
    this.#scheduleCheckpoint();
  }

  #checkpointSoon: NodeJS.Immediate | undefined;
  #checkpointLater: NodeJS.Timeout | undefined;
  #lastCheckpointAt = 0;

  /**
   * After deliveries: the WAL's pages go into the database file (where secure_delete has zeroed the
   * payloads) and the WAL is truncated to nothing, so that no copy of a delivered payload stays in it.
   * As soon as nothing is pending (the burst is over); under a steady flow at most once a second, as a
   * checkpoint per group would cost the disk as much as the commits it follows.
   */
  #scheduleCheckpoint(): void {
    this.#checkpointSoon ??= setImmediate(() => {
      this.#checkpointSoon = undefined;
      this.#checkpointIfDue();
    });
  }

  #checkpointIfDue(): void {
    if (!this.#db.isOpen) return;
    const idle = this.#sql("SELECT 1 AS one FROM deliveries WHERE status = 'pending' LIMIT 1").get() === undefined;
    const waited = Date.now() - this.#lastCheckpointAt;
    if (!idle && waited < CHECKPOINT_EVERY_MS) {
      this.#checkpointLater ??= setTimeout(() => {
        this.#checkpointLater = undefined;
        this.#checkpointIfDue();
      }, CHECKPOINT_EVERY_MS - waited).unref();
      return;
    }
    clearTimeout(this.#checkpointLater);
    this.#checkpointLater = undefined;
    this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE);');
    this.#lastCheckpointAt = Date.now();
  }

  async markRetry(id: string, error: DeliveryError, nextAttemptAt: number): Promise<void> {
    await this.#grouped(() => this.#sql('UPDATE deliveries SET last_error = ?, next_attempt_at = ? WHERE id = ?').run(JSON.stringify(error), nextAttemptAt, id));
  }

  async markDead(id: string, error: DeliveryError, now: number): Promise<void> {
    await this.#grouped(() => this.#sql("UPDATE deliveries SET status = 'dead', last_error = ?, next_attempt_at = ? WHERE id = ?").run(JSON.stringify(error), now, id));
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

  async discard(id: string): Promise<'discarded' | 'not-found' | 'not-dead'> {
    const row = this.#row(id);
    if (!row) return 'not-found';
    if (row.status !== 'dead') return 'not-dead';
    this.#sql("DELETE FROM deliveries WHERE id = ? AND status = 'dead'").run(id);
    return 'discarded';
  }

  async purgeDelivered(before: number, limit: number): Promise<number> {
    const result = this.#sql("DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE status = 'delivered' AND delivered_at < ? ORDER BY delivered_at LIMIT ?)").run(before, limit);
    return Number(result.changes);
  }

  async census(): Promise<OutboxCensus> {
    const counts = this.#sql('SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status').all() as unknown as { status: DeliveryStatus; n: number }[];
    const count = (status: DeliveryStatus): number => counts.find((row) => row.status === status)?.n ?? 0;
    const oldest = this.#sql("SELECT received_at FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT 1").get() as { received_at: string } | undefined;
    const { bytes } = this.#sql('SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()').get() as { bytes: number };
    return { pending: count('pending'), dead: count('dead'), delivered: count('delivered'), oldestPendingReceivedAt: oldest?.received_at, bytes };
  }

  async close(): Promise<void> {
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#commitQueued();
    clearImmediate(this.#checkpointSoon);
    clearTimeout(this.#checkpointLater);
    this.#checkpointSoon = undefined;
    this.#checkpointLater = undefined;
    await Promise.all(this.#syncing);
    if (this.#db.isOpen) {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE);');
      this.#db.close();
    }
    if (this.#walFd !== undefined) closeSync(this.#walFd);
    this.#walFd = undefined;
  }
}

/**
 * The outbox's folder 0700 and its files 0600 before SQLite opens them (SQLite gives the -wal and -shm
 * files the database file's mode). A folder shared with others (sticky, such as /tmp) is left as it is.
 */
function privateFiles(path: string): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const { mode, uid } = statSync(folder);
  if ((mode & 0o1000) === 0 && uid === process.getuid?.() && (mode & 0o077) !== 0) chmodSync(folder, 0o700);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (file === path) closeSync(openSync(file, 'a', 0o600));
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
