import type { OperationOutcome } from '@medplum/fhirtypes';

// The durable outbox: what the service has acknowledged and still owes the FHIR store. Two
// implementations: SQLite (sqlite-outbox.ts), one process per file, the default; PostgreSQL
// (postgres-outbox.ts), shared by several service instances (DELIVERY_DATABASE_URL).

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface KindFilter {
  readonly kinds?: readonly string[];
  readonly exceptKinds?: readonly string[];
}

/** The SQL condition on `kind` a filter makes, with its parameters in order (placeholders by `param`). */
export function kindCondition(filter: KindFilter | undefined, param: (index: number) => string, first: number): { sql: string; params: string[] } {
  const kinds = filter?.kinds ?? [];
  const except = filter?.exceptKinds ?? [];
  let sql = '';
  let next = first;
  if (kinds.length > 0) sql += ` AND kind IN (${kinds.map(() => param(next++)).join(', ')})`;
  if (except.length > 0) sql += ` AND kind NOT IN (${except.map(() => param(next++)).join(', ')})`;
  return { sql, params: [...kinds, ...except] };
}

/** A business message as accepted: validated input, not yet mapped (the worker maps it at delivery). */
export interface NewMessage {
  /** Which handler delivers it: 'act', 'act-report', 'offer', … */
  readonly kind: string;
  /** Messages of one business key are delivered one after the other, in acceptance order. */
  readonly key: string;
  readonly payload: unknown;
  /** When the service accepted it (ISO 8601): the mapping's "now", so that a redelivery maps identically. */
  readonly receivedAt: string;
  readonly requestId?: string;
  /** The client's Idempotency-Key, and the fingerprint of what it was sent with. */
  readonly idempotencyKey?: string;
  readonly fingerprint?: string;
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
  /** Erased once delivered: the outbox keeps no personal data longer than it must. */
  readonly payload: unknown;
  readonly receivedAt: string;
  readonly requestId: string | undefined;
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

export interface EnqueueResult {
  readonly delivery: Delivery;
  /** False when the Idempotency-Key was already known: `delivery` is the earlier one (compare fingerprints). */
  readonly created: boolean;
}

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
  enqueue(message: NewMessage): Promise<EnqueueResult>;
  get(id: string): Promise<Delivery | undefined>;
  /** Messages of a status, oldest first; `kinds` keeps those kinds only, `exceptKinds` leaves those out. */
  list(status: DeliveryStatus, limit: number, filter?: KindFilter): Promise<{ total: number; deliveries: Delivery[] }>;
  /**
   * Pending messages due at `now` that head their key (the oldest pending one of it), oldest first. A
   * shared outbox claims them for this process until they are marked (or their lease runs out).
   */
  due(now: number, limit: number): Promise<Delivery[]>;
  /** Gives up a claimed message without an outcome (an attempt cut short by the shutdown). */
  release(id: string): Promise<void>;
  /** Keeps a claimed message this process's for another `leaseMs` from `now` (no-op without leases). */
  renew(id: string, now: number): Promise<void>;
  /** Epoch ms of the earliest pending attempt, or undefined when nothing is pending. */
  nextDueAt(): Promise<number | undefined>;
  /** Counts an attempt before it is made, so that a crash during it is counted too. */
  startAttempt(id: string, now: number): Promise<void>;
  markDelivered(id: string, answer: Answer, now: number): Promise<void>;
  markRetry(id: string, error: DeliveryError, nextAttemptAt: number): Promise<void>;
  markDead(id: string, error: DeliveryError, now: number): Promise<void>;
  /**
   * A dead message back to pending. 'superseded' when a later message of its key was delivered since
   * (replaying it would put an older version over a newer one).
   */
  replay(id: string, now: number): Promise<'replayed' | 'not-found' | 'not-dead' | 'superseded'>;
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
  payload: unknown;
  received_at: string;
  request_id: string | null;
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

/** The Delivery a row holds; `jsonAsText` when the JSON columns come back as text (SQLite). */
export function deliveryOfRow(row: DeliveryRow, jsonAsText: boolean): Delivery {
  const json = <T>(value: unknown): T | undefined =>
    value === null || value === undefined ? undefined : ((jsonAsText ? JSON.parse(value as string) : value) as T);
  const time = (value: number | string | null): number | undefined => (value === null ? undefined : Number(value));
  return {
    id: row.id,
    seq: Number(row.seq),
    kind: row.kind,
    key: row.business_key,
    payload: json<unknown>(row.payload),
    receivedAt: row.received_at,
    requestId: row.request_id ?? undefined,
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
}
