import type { OperationOutcome } from '@medplum/fhirtypes';
import type { DatabaseSync } from 'node:sqlite';
import type pg from 'pg';

// The durable outbox: what the service has acknowledged and still owes the FHIR store. Two
// implementations: SQLite (sqlite-outbox.ts), one process per file, the default; PostgreSQL
// (postgres-outbox.ts), shared by several service instances (DELIVERY_DATABASE_URL).

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** Which messages a list holds: some kinds (or all but some), one source system, a span of acceptance. */
export interface DeliveryFilter {
  readonly kinds?: readonly string[];
  readonly exceptKinds?: readonly string[];
  /** The system the message came from (an act's `source`, else the client that sent it). */
  readonly source?: string;
  /** Accepted at or after `from`, before `to` (ISO 8601 instants, compared as the outbox keeps them). */
  readonly from?: string;
  readonly to?: string;
  /** The page after this acceptance number (the `seq` of the last message of the page before). */
  readonly afterSeq?: number;
}

/**
 * The SQL conditions a filter makes (the page cursor aside: `total` counts every page), with their
 * parameters in order (placeholders by `param`).
 */
export function filterCondition(filter: DeliveryFilter | undefined, param: (index: number) => string, first: number): { sql: string; params: string[] } {
  const kinds = filter?.kinds ?? [];
  const except = filter?.exceptKinds ?? [];
  let sql = '';
  let next = first;
  const params: string[] = [];
  if (kinds.length > 0) sql += ` AND kind IN (${kinds.map(() => param(next++)).join(', ')})`;
  params.push(...kinds);
  if (except.length > 0) sql += ` AND kind NOT IN (${except.map(() => param(next++)).join(', ')})`;
  params.push(...except);
  if (filter?.source !== undefined) {
    sql += ` AND source = ${param(next++)}`;
    params.push(filter.source);
  }
  if (filter?.from !== undefined) {
    sql += ` AND received_at >= ${param(next++)}`;
    params.push(filter.from);
  }
  if (filter?.to !== undefined) {
    sql += ` AND received_at < ${param(next++)}`;
    params.push(filter.to);
  }
  return { sql, params };
}

/** A business message as accepted: what its handler needs (an act travels checked, mapped and validated: writes/acts.ts). */
export interface NewMessage {
  /** Which handler delivers it: 'act', 'act-report', 'offer', … */
  readonly kind: string;
  /** Messages of one business key are delivered one after the other, in acceptance order. */
  readonly key: string;
  readonly payload: unknown;
  /** The system it came from: an act's `source`, else the client that sent it (the delivery console groups by it). */
  readonly source?: string;
  /** When the service accepted it (ISO 8601): the mapping's "now", so that a redelivery maps identically. */
  readonly receivedAt: string;
  readonly requestId?: string;
  /**
   * The W3C traceparent of the request that accepted it (tracing on): its delivery joins that trace,
   * whenever and wherever (another instance of a shared outbox) it runs.
   */
  readonly traceParent?: string;
  /** The client that submitted it (its client id): only it, or an administrator, may read the delivery. */
  readonly submittedBy?: string;
  /** The client's Idempotency-Key, and the fingerprint of what it was sent with. */
  readonly idempotencyKey?: string;
  readonly fingerprint?: string;
  /** Not delivered before this time (epoch ms): records that may wait, gathered into fewer writes. */
  readonly notBefore?: number;
}

/** The HTTP answer a delivered message earned (201 + references…), kept to answer repeats and late readers. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** Why the last attempt failed. */
export interface DeliveryError {
  /** The HTTP status the service answers for this failure (422, 409, 503…). */
  readonly status: number;
  readonly message: string;
  /** The OperationOutcome the service answers (it carries the FHIR server's diagnostics). */
  readonly outcome: OperationOutcome;
  /** The FHIR server's own OperationOutcome, when it sent one. */
  readonly serverOutcome?: OperationOutcome;
}

export interface Delivery {
  /** Public id (a UUID): /v1/deliveries/{id}. */
  readonly id: string;
  /** Acceptance order, for ordering per key. */
  readonly seq: number;
  readonly kind: string;
  readonly key: string;
  readonly source: string | undefined;
  /** Erased once delivered: the outbox keeps no personal data longer than it must. Read by `due` only. */
  readonly payload: unknown;
  readonly receivedAt: string;
  readonly requestId: string | undefined;
  readonly traceParent: string | undefined;
  readonly submittedBy: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly fingerprint: string | undefined;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  /** Epoch milliseconds of the next attempt (pending only). */
  readonly nextAttemptAt: number;
  readonly lastAttemptAt: number | undefined;
  readonly deliveredAt: number | undefined;
  readonly lastError: DeliveryError | undefined;
  readonly answer: Answer | undefined;
}

/** What the outbox holds, for the metrics: counts by status, the oldest pending message, its size. */
export interface OutboxCensus {
  readonly pending: number;
  readonly dead: number;
  readonly delivered: number;
  /** When the oldest pending message was accepted (ISO 8601); undefined when nothing is pending. */
  readonly oldestPendingReceivedAt: string | undefined;
  /** Bytes the outbox takes in its database (file pages, or the table with its indexes and TOAST). */
  readonly bytes: number;
}

export interface EnqueueResult {
  readonly delivery: Delivery;
  /** False when the Idempotency-Key was already known: `delivery` is the earlier one (compare fingerprints). */
  readonly created: boolean;
}

/** What a delivered message carried, as the outbox hands it to a hook in the transaction that marks it delivered. */
export interface DeliveredMessage {
  readonly id: string;
  /** Acceptance order: later messages of one key have a larger seq (a hook's version of the key). */
  readonly seq: number;
  readonly kind: string;
  readonly key: string;
  readonly payload: unknown;
  readonly receivedAt: string;
}

/**
 * Work done in the same local transaction that records a delivery as done (the indicators projection):
 * both commit or neither does. Called once per message that goes from pending to delivered, for the
 * kinds it names; a crash before that commit leaves the message pending, and its redelivery calls the
 * hook again (so the hook keys what it writes by the message's business key and seq).
 */
export interface DeliveredHook {
  readonly kinds: ReadonlySet<string>;
  /** SQLite: on the outbox's own connection, synchronously (nothing else may run inside the transaction). */
  sqlite(db: DatabaseSync, message: DeliveredMessage): void;
  /** PostgreSQL: on the client that holds the transaction. */
  postgres(client: pg.PoolClient, message: DeliveredMessage): Promise<void>;
}

/** The outbox's database, for the rooms that keep their tables beside it (indicators). */
export type OutboxDatabase = { readonly kind: 'sqlite'; readonly db: DatabaseSync } | { readonly kind: 'postgres'; readonly pool: pg.Pool };

/**
 * Every method is durable when it returns. The worker of one process is the only one to deliver a
 * given key at a time; `due` never answers a message while an earlier pending one of its key exists.
 */
export interface Outbox {
  /** True when other processes deliver from the same outbox: the worker then polls for their messages. */
  readonly shared: boolean;
  /**
   * How long a message `due` hands out stays this process's (shared outbox); undefined where one process
   * owns the outbox. The worker renews the claims of the messages it is delivering well before then.
   */
  readonly leaseMs: number | undefined;
  /**
   * How many instances deliver from this outbox now, this one included; a call also says that this one
   * is alive. 1 where one process owns the outbox.
   */
  instances(): Promise<number>;
  enqueue(message: NewMessage): Promise<EnqueueResult>;
  /** A message as it stands, without its payload (only the worker reads that, through `due`). */
  get(id: string): Promise<Delivery | undefined>;
  /**
   * Messages of a status, oldest first, that the filter keeps (`kinds` those kinds only, `exceptKinds`
   * leaves those out, a source, a span of acceptance); `total` counts them all, the page holds `limit`
   * after `afterSeq`. Without their payloads, as `get`.
   */
  list(status: DeliveryStatus, limit: number, filter?: DeliveryFilter): Promise<{ total: number; deliveries: Delivery[] }>;
  /**
   * Pending messages due at `now` that head their key (the oldest pending one of it), oldest first. A
   * shared outbox claims them for this process until they are marked (or their lease runs out).
   * `skipKinds`: kinds the worker cannot take now (their batch flights are all busy), left out.
   */
  due(now: number, limit: number, skipKinds?: ReadonlySet<string>): Promise<Delivery[]>;
  /** Gives up a claimed message without an outcome (an attempt cut short by the shutdown). */
  release(id: string): Promise<void>;
  /** Keeps a claimed message this process's for another `leaseMs` from `now` (no-op without leases). */
  renew(id: string, now: number): Promise<void>;
  /** Epoch ms of the earliest pending attempt, or undefined when nothing is pending. */
  nextDueAt(): Promise<number | undefined>;
  /** Counts an attempt before it is made, so that a crash during it is counted too. */
  startAttempt(id: string, now: number): Promise<void>;
  /**
   * Marks it delivered and, in the same transaction, runs the delivered hooks (addDeliveredHook) on what it
   * carried. `payload`: the message's payload as the worker read it (a payload never changes until it is
   * erased here), so that the hooks do not read and parse it again; read from the outbox when not given.
   */
  markDelivered(id: string, answer: Answer, now: number, payload?: unknown): Promise<void>;
  /** Registers work for markDelivered's transaction. */
  addDeliveredHook(hook: DeliveredHook): void;
  /** The database the outbox keeps its table in. */
  readonly database: OutboxDatabase;
  markRetry(id: string, error: DeliveryError, nextAttemptAt: number): Promise<void>;
  markDead(id: string, error: DeliveryError, now: number): Promise<void>;
  /**
   * A dead message back to pending. 'superseded' when a later message of its key was delivered since
   * (replaying it would put an older version over a newer one).
   */
  replay(id: string, now: number): Promise<'replayed' | 'not-found' | 'not-dead' | 'superseded'>;
  /** Removes a dead letter for good (an operator's decision, audited by the route). */
  discard(id: string): Promise<'discarded' | 'not-found' | 'not-dead'>;
  /**
   * Removes up to `limit` delivered messages delivered before `before` (epoch ms); answers how many.
   * Small batches: each is one short statement, and deliveries go on between them.
   */
  purgeDelivered(before: number, limit: number): Promise<number>;
  /** Counts by status, the oldest pending message and the size: cheap enough to answer every scrape. */
  census(): Promise<OutboxCensus>;
  close(): Promise<void>;
}

/**
 * A row of the deliveries table as either database hands it back: SQLite keeps JSON as text, PostgreSQL
 * parses its JSONB and returns BIGINT columns as strings.
 */
export interface DeliveryRow {
  seq: number | string;
  id: string;
  kind: string;
  business_key: string;
  source: string | null;
  payload: unknown;
  received_at: string;
  request_id: string | null;
  /** Absent from rows written before the column existed. */
  submitted_by?: string | null;
  trace_parent?: string | null;
  idempotency_key: string | null;
  fingerprint: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | string;
  last_attempt_at: number | string | null;
  delivered_at: number | string | null;
  last_error: unknown;
  answer: unknown;
}

/**
 * The Delivery a row holds; `jsonAsText` when the JSON columns come back as text (SQLite). A row read
 * without its payload column gets it from `payloadText` when the payload is first read.
 */
export function deliveryOfRow(row: DeliveryRow, jsonAsText: boolean, payloadText?: () => string | null): Delivery {
  const json = <T>(value: unknown): T | undefined =>
    value === null || value === undefined ? undefined : ((jsonAsText ? JSON.parse(value as string) : value) as T);
  const time = (value: number | string | null): number | undefined => (value === null ? undefined : Number(value));
  const delivery = {
    id: row.id,
    seq: Number(row.seq),
    kind: row.kind,
    key: row.business_key,
    source: row.source ?? undefined,
    payload: jsonAsText && typeof row.payload === 'string' ? undefined : json<unknown>(row.payload),
    receivedAt: row.received_at,
    requestId: row.request_id ?? undefined,
    traceParent: row.trace_parent ?? undefined,
    submittedBy: row.submitted_by ?? undefined,
    idempotencyKey: row.idempotency_key ?? undefined,
    fingerprint: row.fingerprint ?? undefined,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: Number(row.next_attempt_at),
    lastAttemptAt: time(row.last_attempt_at),
    deliveredAt: time(row.delivered_at),
    lastError: json<DeliveryError>(row.last_error),
    answer: json<Answer>(row.answer),
  };
  const stored = row.payload;
  const text = typeof stored === 'string' ? () => stored : stored === undefined ? payloadText : undefined;
  if (!jsonAsText || text === undefined) return delivery;
  // A payload stored as text (an act's message: its act and Bundle, tens of kilobytes) is read and parsed
  // when first used, once: the worker looks at due messages it then skips (in flight, their key busy).
  let parsed: { value: unknown } | undefined;
  return Object.defineProperty(delivery, 'payload', {
    enumerable: true,
    get: () => {
      if (parsed === undefined) {
        const value = text();
        parsed = { value: value === null ? undefined : (JSON.parse(value) as unknown) };
      }
      return parsed.value;
    },
  });
}
