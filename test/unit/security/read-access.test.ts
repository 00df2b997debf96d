// Read access follows care, on the embedded store: test/contract/read-access-contract.ts.
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import { readAccessContract } from '../../contract/read-access-contract.ts';

readAccessContract(t, new EmbeddedStore());
