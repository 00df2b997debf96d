import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { postgresTransaction } from '../transactions.ts';
import { deliveryOfRow, filterCondition } from './outbox.ts';
import type { Answer, DeliveredHook, Delivery, DeliveryError, DeliveryFilter, DeliveryRow, DeliveryStatus, EnqueueResult, NewMessage, Outbox, OutboxCensus, OutboxDatabase } from './outbox.ts';

// The shared outbox: one PostgreSQL table that several service instances deliver from. What SQLite gets
// from having one process per file, PostgreSQL gets from leases: `due` claims the messages it hands out
// (FOR UPDATE SKIP LOCKED, then a lease owner and deadline), so two instances never deliver one key at
// the same time, and the messages of an instance that died are taken over when its lease runs out.
// A message delivered twice after such a take-over is harmless: deliveries are conditional writes.
//
// Plain SQL through node-postgres rather than a job-queue library: the one rule that matters here, the
// oldest pending message of a business key first and alone, is a query; queue libraries (pg-boss…) order
// per queue, not per key.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS telesante_deliveries (
  seq BIGSERIAL PRIMARY KEY,
  id UUID NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  business_key TEXT NOT NULL,
  payload JSONB,
  received_at TEXT NOT NULL,
  request_id TEXT,
  idempotency_key TEXT UNIQUE,
  fingerprint TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_attempt_at BIGINT,
  delivered_at BIGINT,
  last_error JSONB,
  answer JSONB,
  source TEXT,
  lease_owner TEXT,
  lease_until BIGINT,
  submitted_by TEXT,
  trace_parent TEXT
);
CREATE INDEX IF NOT EXISTS telesante_deliveries_by_key ON telesante_deliveries (business_key, status, seq);
CREATE INDEX IF NOT EXISTS telesante_deliveries_by_status ON telesante_deliveries (status, next_attempt_at, seq);
-- Added with the delivery console: older outboxes get the column in place. Checked first, because
-- ALTER TABLE locks the table even when it has nothing to do (and other instances may be delivering).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'telesante_deliveries' AND column_name = 'source') THEN
    ALTER TABLE telesante_deliveries ADD COLUMN source TEXT;
  END IF;
END $$;
-- Added with the ownership of deliveries (GET /v1/deliveries/{id} answers the client that submitted it).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'telesante_deliveries' AND column_name = 'submitted_by') THEN
    ALTER TABLE telesante_deliveries ADD COLUMN submitted_by TEXT;
  END IF;
END $$;
-- Added with tracing: a message carries the trace context of the request that accepted it.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'telesante_deliveries' AND column_name = 'trace_parent') THEN
    ALTER TABLE telesante_deliveries ADD COLUMN trace_parent TEXT;
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS telesante_deliveries_by_source ON telesante_deliveries (source, status, seq);
-- The instances delivering from this outbox, each with the last time it said it was alive: they share
-- the FHIR server's batch flights (DeliveryService).
CREATE TABLE IF NOT EXISTS telesante_instances (owner TEXT PRIMARY KEY, seen_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS telesante_deliveries_by_delivered_at ON telesante_deliveries (status, delivered_at);
`;

/** An instance not heard from for this long is not counted among the live ones (they say so every second or two). */
const INSTANCE_SILENCE_MS = 10_000;

/** Every column but the payload: what `get` and `list` read (only the worker reads payloads, through `due`). */
const COLUMNS_BUT_PAYLOAD = [
  'seq', 'id', 'kind', 'business_key', 'source', 'received_at', 'request_id', 'submitted_by', 'trace_parent', 'idempotency_key',
  'fingerprint', 'status', 'attempts', 'next_attempt_at', 'last_attempt_at', 'delivered_at', 'last_error', 'answer', 'lease_owner', 'lease_until',
].join(', ');

function deliveryOf(row: DeliveryRow): Delivery {
  return deliveryOfRow(row, false);
}

export interface PostgresOutboxOptions {
  readonly connectionString: string;
  /** How long a claimed message stays this instance's; past it another instance may take it over. */
  readonly leaseMs?: number;
  /** Names this instance in the leases (logs, tests). */
  readonly owner?: string;
}

export class PostgresOutbox implements Outbox {
  readonly shared = true;
  readonly owner: string;
  readonly leaseMs: number;
  readonly #pool: pg.Pool;
  readonly #ready: Promise<void>;
  readonly #hooks: DeliveredHook[] = [];
  #closed: Promise<void> | undefined;

  constructor(options: PostgresOutboxOptions) {
    this.owner = options.owner ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: 5 });
    // Several instances may start at once: the schema is created under an advisory lock.
    this.#ready = this.#withClient(async (client) => {
      await client.query('SELECT pg_advisory_lock(7734201)');
      try {
        await client.query(SCHEMA);
      } finally {
        await client.query('SELECT pg_advisory_unlock(7734201)');
      }
    });
  }

  async #withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  async #rows(text: string, values: unknown[] = []): Promise<DeliveryRow[]> {
    await this.#ready;
    return (await this.#pool.query<DeliveryRow>(text, values)).rows;
  }

  async enqueue(message: NewMessage): Promise<EnqueueResult> {
    const inserted = await this.#rows(
      `INSERT INTO telesante_deliveries (id, kind, business_key, payload, received_at, request_id, idempotency_key, fingerprint, source, submitted_by, trace_parent, status, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING *`,
      [
        randomUUID(),
        message.kind,
        message.key,
        JSON.stringify(message.payload),
        message.receivedAt,
        message.requestId ?? null,
        message.idempotencyKey ?? null,
        message.fingerprint ?? null,
        message.source ?? null,
        message.submittedBy ?? null,
        message.traceParent ?? null,
        message.notBefore ?? 0,
      ],
    );
    if (inserted[0]) return { delivery: deliveryOf(inserted[0]), created: true };
    const known = await this.#rows(`SELECT ${COLUMNS_BUT_PAYLOAD} FROM telesante_deliveries WHERE idempotency_key = $1`, [message.idempotencyKey ?? null]);
    if (!known[0]) throw new Error('outbox: the Idempotency-Key conflicted but its message cannot be read');
    return { delivery: deliveryOf(known[0]), created: false };
  }

  async get(id: string): Promise<Delivery | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    // Without the payload: a request waiting for its delivery looks at the row every 200 ms.
    const rows = await this.#rows(`SELECT ${COLUMNS_BUT_PAYLOAD} FROM telesante_deliveries WHERE id = $1`, [id]);
    return rows[0] ? deliveryOf(rows[0]) : undefined;
  }

  async list(status: DeliveryStatus, limit: number, filter?: DeliveryFilter): Promise<{ total: number; deliveries: Delivery[] }> {
    await this.#ready;
    const where = filterCondition(filter, (index) => `$${index}`, 2);
    const count = await this.#pool.query<{ total: string }>(`SELECT COUNT(*) AS total FROM telesante_deliveries WHERE status = $1${where.sql}`, [status, ...where.params]);
    const next = 2 + where.params.length;
    const rows = await this.#rows(`SELECT ${COLUMNS_BUT_PAYLOAD} FROM telesante_deliveries WHERE status = $1${where.sql} AND seq > $${next} ORDER BY seq LIMIT $${next + 1}`, [
      status,
      ...where.params,
      filter?.afterSeq ?? 0,
      limit,
    ]);
    return { total: Number(count.rows[0]?.total ?? 0), deliveries: rows.map(deliveryOf) };
  }

  /** Claims the due heads of their keys that no other live lease holds, for this instance. */
  async due(now: number, limit: number, skipKinds: ReadonlySet<string> = new Set()): Promise<Delivery[]> {
    const rows = await this.#rows(
      `WITH heads AS (
         SELECT d.seq FROM telesante_deliveries d
          WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND NOT (d.kind = ANY($5::text[]))
            AND (d.lease_until IS NULL OR d.lease_until < $1 OR d.lease_owner = $3)
            AND NOT EXISTS (SELECT 1 FROM telesante_deliveries e
                             WHERE e.business_key = d.business_key AND e.status = 'pending' AND e.seq < d.seq)
          ORDER BY d.seq
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       )
       UPDATE telesante_deliveries t SET lease_owner = $3, lease_until = $1 + $4
         FROM heads WHERE t.seq = heads.seq
       RETURNING t.*`,
      [now, limit, this.owner, this.leaseMs, [...skipKinds]],
    );
    return rows.map(deliveryOf).sort((a, b) => a.seq - b.seq);
  }

  async nextDueAt(): Promise<number | undefined> {
    await this.#ready;
    const result = await this.#pool.query<{ next: string | null }>("SELECT MIN(next_attempt_at) AS next FROM telesante_deliveries WHERE status = 'pending'");
    const next = result.rows[0]?.next;
    return next === null || next === undefined ? undefined : Number(next);
  }

  async release(id: string): Promise<void> {
    await this.#rows('UPDATE telesante_deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [id, this.owner]);
  }

  async renew(id: string, now: number): Promise<void> {
    await this.#rows("UPDATE telesante_deliveries SET lease_until = $2 WHERE id = $1 AND lease_owner = $3 AND status = 'pending'", [id, now + this.leaseMs, this.owner]);
  }

  async startAttempt(id: string, now: number): Promise<void> {
    await this.#rows('UPDATE telesante_deliveries SET attempts = attempts + 1, last_attempt_at = $2 WHERE id = $1', [id, now]);
  }

  get database(): OutboxDatabase {
    return { kind: 'postgres', pool: this.#pool };
  }

  addDeliveredHook(hook: DeliveredHook): void {
    this.#hooks.push(hook);
  }

  async markDelivered(id: string, answer: Answer, now: number, payload?: unknown): Promise<void> {
    const mark = "UPDATE telesante_deliveries SET status = 'delivered', payload = NULL, answer = $2, delivered_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $1";
    if (this.#hooks.length === 0) {
      await this.#rows(mark, [id, JSON.stringify(answer), now]);
      return;
    }
    await this.#ready;
    await this.#withClient((client) =>
      postgresTransaction(client, async () => {
        // FOR UPDATE: another instance that delivered the same message after a lease take-over waits
        // here, then finds it delivered and runs no hook a second time.
        const columns = payload === undefined ? 'seq, kind, business_key, payload, received_at' : 'seq, kind, business_key, received_at';
        const found = await client.query<Pick<DeliveryRow, 'seq' | 'kind' | 'business_key' | 'payload' | 'received_at'>>(
          `SELECT ${columns} FROM telesante_deliveries WHERE id = $1 AND status = 'pending' FOR UPDATE`,
          [id],
        );
        const row = found.rows[0];
        const hooks = row === undefined ? [] : this.#hooks.filter((hook) => hook.kinds.has(row.kind));
        if (row !== undefined) {
          const message = { id, seq: Number(row.seq), kind: row.kind, key: row.business_key, payload: payload ?? row.payload, receivedAt: row.received_at };
          for (const hook of hooks) await hook.postgres(client, message);
        }
        await client.query(mark, [id, JSON.stringify(answer), now]);
      }),
    );
  }

  async markRetry(id: string, error: DeliveryError, nextAttemptAt: number): Promise<void> {
    await this.#rows('UPDATE telesante_deliveries SET last_error = $2, next_attempt_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $1', [
      id,
      JSON.stringify(error),
      nextAttemptAt,
    ]);
  }

  async markDead(id: string, error: DeliveryError, now: number): Promise<void> {
    await this.#rows(
      "UPDATE telesante_deliveries SET status = 'dead', last_error = $2, next_attempt_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $1",
      [id, JSON.stringify(error), now],
    );
  }

  async replay(id: string, now: number): Promise<'replayed' | 'not-found' | 'not-dead' | 'superseded'> {
    const row = (await this.get(id)) ?? undefined;
    if (!row) return 'not-found';
    if (row.status !== 'dead') return 'not-dead';
    const later = await this.#rows("SELECT seq FROM telesante_deliveries WHERE business_key = $1 AND status = 'delivered' AND seq > $2 LIMIT 1", [row.key, row.seq]);
    if (later.length > 0) return 'superseded';
    await this.#rows("UPDATE telesante_deliveries SET status = 'pending', next_attempt_at = $2 WHERE id = $1 AND status = 'dead'", [id, now]);
    return 'replayed';
  }

  async discard(id: string): Promise<'discarded' | 'not-found' | 'not-dead'> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return 'not-found';
    const deleted = await this.#rows("DELETE FROM telesante_deliveries WHERE id = $1 AND status = 'dead' RETURNING seq", [id]);
    if (deleted.length > 0) return 'discarded';
    return (await this.get(id)) === undefined ? 'not-found' : 'not-dead';
  }

  async purgeDelivered(before: number, limit: number): Promise<number> {
    // SKIP LOCKED: rows another instance is touching are left for the next batch, never waited for.
    const deleted = await this.#rows(
      `DELETE FROM telesante_deliveries WHERE seq IN (
         SELECT seq FROM telesante_deliveries WHERE status = 'delivered' AND delivered_at < $1 ORDER BY delivered_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ) RETURNING seq`,
      [before, limit],
    );
    return deleted.length;
  }

  async census(): Promise<OutboxCensus> {
    await this.#ready;
    const counts = await this.#pool.query<{ status: DeliveryStatus; n: string }>('SELECT status, COUNT(*) AS n FROM telesante_deliveries GROUP BY status');
    const count = (status: DeliveryStatus): number => Number(counts.rows.find((row) => row.status === status)?.n ?? 0);
    const oldest = await this.#pool.query<{ received_at: string }>("SELECT received_at FROM telesante_deliveries WHERE status = 'pending' ORDER BY seq LIMIT 1");
    const size = await this.#pool.query<{ bytes: string }>("SELECT pg_total_relation_size('telesante_deliveries') AS bytes");
    return { pending: count('pending'), dead: count('dead'), delivered: count('delivered'), oldestPendingReceivedAt: oldest.rows[0]?.received_at, bytes: Number(size.rows[0]?.bytes ?? 0) };
  }

  async instances(): Promise<number> {
    await this.#ready;
    // The database's clock, not the instances': theirs may differ by more than the silence allowed.
    const others = await this.#pool.query<{ n: string }>(
      `WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms),
       beat AS (
         INSERT INTO telesante_instances (owner, seen_at) SELECT $1, ms FROM now
         ON CONFLICT (owner) DO UPDATE SET seen_at = EXCLUDED.seen_at
       ), forgotten AS (
         DELETE FROM telesante_instances WHERE seen_at < (SELECT ms FROM now) - 60 * $2::bigint AND owner <> $1
       )
       SELECT COUNT(*) AS n FROM telesante_instances WHERE owner <> $1 AND seen_at >= (SELECT ms FROM now) - $2::bigint`,
      [this.owner, INSTANCE_SILENCE_MS],
    );
    return 1 + Number(others.rows[0]?.n ?? 0);
  }

  /** Closes the pool, once (a second call waits for the first). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#ready.catch(() => undefined);
      // No longer one of the live instances: the others take its share of the flights at once.
      await this.#pool.query('DELETE FROM telesante_instances WHERE owner = $1', [this.owner]).catch(() => undefined);
      await this.#pool.end();
    })();
    return this.#closed;
  }
}
