// Acts merged by the worker, on the embedded store (the same contract runs on HAPI in test/integration).
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import { actGroupCommitContract } from '../../contract/act-group-commit-contract.ts';

actGroupCommitContract(t, () => new EmbeddedStore());
