// The projection agrees with the hand-counted data set and with the FHIR reference (compute.ts), figure
// by figure, on the embedded store: built by the rebuild from what the store holds (the data set has a
// report without author and an offer stripped of its telehealth codes, as other systems may write them);
// a rebuild stopped half way resumes. SQLite here; PostgreSQL in test/integration/indicators-postgres.test.ts.
import t from 'tap';
import { SqliteOutbox } from '../../../src/delivery/index.ts';
import { tempOutboxPath } from '../../support/app.ts';
import { rebuildSuite } from '../../support/indicators-suites.ts';

const paths = new Map<string, string>();
await rebuildSuite(t, async (name) => {
  const path = paths.get(name) ?? tempOutboxPath();
  paths.set(name, path);
  return new SqliteOutbox(path);
});
