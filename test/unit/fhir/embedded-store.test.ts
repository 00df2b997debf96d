import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import { storeContract } from '../../contract/store-contract.ts';

storeContract(t, async () => new EmbeddedStore());
