import t from 'tap';
import { SqliteOutbox } from '../../../src/delivery/index.ts';
import { outboxContract } from '../../contract/outbox-contract.ts';
import { tempOutboxPath } from '../../support/app.ts';

outboxContract(t, async () => new SqliteOutbox(tempOutboxPath()));
