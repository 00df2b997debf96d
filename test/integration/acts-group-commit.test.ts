// Acts merged by the worker, on a real HAPI server (the same contract runs on the embedded store in test/unit).
import t from 'tap';
import { HapiStore } from '../../src/fhir/index.ts';
import { loadConformance } from '../../scripts/load-conformance.ts';
import { actGroupCommitContract } from '../contract/act-group-commit-contract.ts';
import { HAPI_APP_ENV, hapiBaseUrl, loadConformanceOnce } from '../support/hapi.ts';

const baseUrl = await hapiBaseUrl();
if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  await loadConformanceOnce(() => loadConformance(baseUrl, { log: () => undefined }));
  actGroupCommitContract(t, () => new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 }), { ...HAPI_APP_ENV });
}
