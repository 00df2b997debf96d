// The projection as the service keeps it: acts and offers sent to the API are delivered by the worker,
// whose "delivered" transaction updates the projection. Figure by figure it agrees with the FHIR
// reference after writes, amendments and cancellations; a message delivered again changes nothing; an
// act written to the store by a process that died before recording the delivery is counted once, when the
// next process delivers the message again; and when that transaction fails, nothing of it stays and the
// message is delivered again. SQLite here; PostgreSQL in test/integration/indicators-postgres.test.ts.
import t from 'tap';
import { SqliteOutbox } from '../../../src/delivery/index.ts';
import { tempOutboxPath } from '../../support/app.ts';
import { deliveredSuite } from '../../support/indicators-suites.ts';

const paths = new Map<string, string>();
deliveredSuite(t, async (name) => {
  const path = paths.get(name) ?? tempOutboxPath();
  paths.set(name, path);
  return new SqliteOutbox(path);
});
