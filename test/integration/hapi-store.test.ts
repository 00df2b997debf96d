import t from 'tap';
import { HapiStore } from '../../src/fhir/index.ts';
import { storeContract } from '../contract/store-contract.ts';
import { hapiBaseUrl } from '../support/hapi.ts';

const baseUrl = await hapiBaseUrl();
if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  storeContract(t, async () => new HapiStore({ baseUrl, timeoutMs: 30_000, retries: 2 }));
}
