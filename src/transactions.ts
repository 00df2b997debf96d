// One local database transaction, on either of the two databases the service keeps its own state in
// (the outbox and the indicators' projection: SQLite, or PostgreSQL when instances share them): the work
// is committed, or rolled back and its error thrown again.
import type { DatabaseSync } from 'node:sqlite';
import type pg from 'pg';

/** Runs `work` in a SQLite write transaction (BEGIN IMMEDIATE: the write lock first). */
export function sqliteTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

/** Runs `work` in a transaction of this PostgreSQL connection (which the caller holds and releases). */
export async function postgresTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
