// Group commit over the SQLite outbox (the same contract runs over PostgreSQL in test/integration).
import t from 'tap';
import { SqliteOutbox } from '../../../src/delivery/index.ts';
import { groupCommitContract } from '../../contract/group-commit-contract.ts';
import { tempOutboxPath } from '../../support/app.ts';

groupCommitContract(t, async () => new SqliteOutbox(tempOutboxPath()));
