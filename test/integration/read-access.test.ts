// Read access follows care, on a real HAPI server (the filter is a FHIR `_tag` search there):
// test/contract/read-access-contract.ts.
import t from 'tap';
import { HapiStore } from '../../src/fhir/index.ts';
import { loadConformance } from '../../scripts/load-conformance.ts';
import { HAPI_APP_ENV, hapiBaseUrl, loadConformanceOnce } from '../support/hapi.ts';
import { readAccessContract } from '../contract/read-access-contract.ts';

const baseUrl = await hapiBaseUrl();
if (baseUrl === undefined) {
  t.pass('no HAPI server: skipped');
} else {
  await loadConformanceOnce(() => loadConformance(baseUrl, { log: () => undefined }));
  readAccessContract(t, new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 }), HAPI_APP_ENV);
}
