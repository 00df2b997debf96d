// The delivery room: how accepted writes reach the FHIR store without ever being lost or written twice.
// A route validates the input and the business rules synchronously (bad input: 400/422 at once), stores
// the business message durably in the outbox, then waits a while for the worker to deliver it: 201 with
// the answer, or 202 with /v1/deliveries/{id}. The worker hands each message (or a batch of messages of
// different keys) to the handler of its kind (src/writes/), which reads what is stored, maps, validates and
// writes, in order per business key. See README.md in this folder for the design and its reasons.
import { PostgresOutbox } from './postgres-outbox.ts';
import { SqliteOutbox } from './sqlite-outbox.ts';
import type { Outbox } from './outbox.ts';

export { CircuitBreaker } from './breaker.ts';
export type { BreakerState } from './breaker.ts';
export { DeliveryService, fingerprintOf } from './service.ts';
export type { DeliveryObserver, DeliveryOptions } from './service.ts';
export type { AttemptOutcomes, BatchHandler, BatchOutcome, DeliveryContext, DeliveryHandler, DeliveryOutcome, Failure } from './attempt.ts';
export type { Answer, DeliveredHook, DeliveredMessage, Delivery, DeliveryError, DeliveryFilter, DeliveryStatus, EnqueueResult, NewMessage, Outbox, OutboxCensus, OutboxDatabase } from './outbox.ts';
export { OutboxPurger } from './purge.ts';
export type { PurgeOptions } from './purge.ts';
export { SqliteOutbox } from './sqlite-outbox.ts';
export { PostgresOutbox } from './postgres-outbox.ts';

/** The outbox the configuration names: PostgreSQL shared by several instances, else the SQLite file. */
export function createOutbox(config: { readonly deliverySqlitePath: string; readonly deliveryDatabaseUrl: string | undefined }): Outbox {
  if (config.deliveryDatabaseUrl !== undefined) return new PostgresOutbox({ connectionString: config.deliveryDatabaseUrl });
  return new SqliteOutbox(config.deliverySqlitePath);
}
