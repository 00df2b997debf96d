// Telemedicine acts on a real HAPI server: every example is recorded once however often it is sent, every
// resource written passes HAPI's own $validate against its profile, the five traceability items of CSP
// R6316-4 and the consent are found by plain FHIR searches, a report amendment and a cancellation keep
// the history, a transaction that fails half-way leaves nothing, and ten simultaneous posts make one act.
import type { Bundle, Consent, DocumentReference, Encounter, OperationOutcomeIssue, Provenance, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import { FhirStoreError, HapiStore } from '../../src/fhir/index.ts';
import { toActBundle } from '../../src/mapping/index.ts';
import { nirKey } from '../../src/ins/index.ts';
import type { Act } from '../../src/model/act.ts';
import { FhirHttp, loadConformance } from '../../scripts/load-conformance.ts';
import { testApp } from '../support/app.ts';
import { HAPI_APP_ENV, hapiBaseUrl, loadConformanceOnce, runId } from '../support/hapi.ts';
import { example, exampleFiles } from '../unit/mapping/act-examples.ts';

const baseUrl = await hapiBaseUrl();

async function hapiErrors(resource: Resource): Promise<OperationOutcomeIssue[]> {
  const { outcome } = await new FhirHttp(baseUrl ?? '').validate(resource, resource.meta?.profile?.[0]);
  // HAPI 8.8 answers 200 even when it finds errors: the issues decide.
  // Codes of national code systems not distributed here (TRE_R13 communes, TRE_R239 publics) are warnings
  // in our HAPI build (docker/hapi JpaServerConfig), as they are in process: every error counts.
  return outcome.issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
}

const show = (issues: readonly OperationOutcomeIssue[]): string => issues.map((i) => `${i.expression?.[0] ?? i.location?.[0] ?? ''}: ${i.diagnostics ?? ''}`).join('\n');

/** The same INS with another order number (digits 11–13) and its key: coherent with the same traits. */
function otherOrderNumber(ins: string | undefined): string | undefined {
  if (ins === undefined) return undefined;
  const order = String(1 + Math.floor(Math.random() * 999)).padStart(3, '0');
  const thirteen = `${ins.slice(0, 10)}${order}`;
  return `${thirteen}${String(nirKey(thirteen)).padStart(2, '0')}`;
}

/** The example with an actId, an IPP and an INS of its own: runs on the same server never meet. */
function fresh(act: Act, run = runId()): Act {
  const ins = otherOrderNumber(act.patient.ins);
  return {
    ...act,
    actId: `${act.actId}-${run}`,
    patient: { ...act.patient, ...(ins !== undefined ? { ins } : {}), ipp: { ...act.patient.ipp, value: `${act.patient.ipp.value}-${run}` } },
  };
}

function pathOf(act: Act): string {
  return `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
}

if (baseUrl === undefined) {
  t.plan(0, 'no HAPI FHIR server');
} else {
  const store = new HapiStore({ baseUrl, timeoutMs: 60_000, retries: 2 });
  const { app } = await testApp({ ...HAPI_APP_ENV }, store);
  t.teardown(() => app.close());
  await loadConformanceOnce(() => loadConformance(baseUrl, { log: () => undefined }));

  const encounterOf = async (act: Act): Promise<Encounter | undefined> =>
    (await store.search<Encounter>('Encounter', { identifier: `${act.source}|${act.actId}` })).entry?.[0]?.resource;
  const written = async (act: Act): Promise<Resource[]> => {
    const read = await app.inject({ method: 'GET', url: pathOf(act), headers: { accept: 'application/fhir+json' } });
    return ((read.json() as Bundle).entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
  };

  for (const file of exampleFiles) {
    t.test(`${file} on HAPI`, async (t) => {
      const act = fresh(example(file.slice(0, 2)));
      const first = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
      t.equal(first.statusCode, 201, first.body.slice(0, 500));
      const again = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
      t.equal(again.statusCode, 201, `repost: ${again.body.slice(0, 300)}`);

      const encounter = await encounterOf(act);
      const encounterRef = `Encounter/${encounter?.id ?? 'missing'}`;
      t.equal(await store.count('Encounter', { identifier: `${act.source}|${act.actId}` }), 1, 'one Encounter');
      t.equal(await store.count('Patient', { identifier: `${act.patient.ipp.system}|${act.patient.ipp.value}` }), 1, 'one Patient');
      t.equal(await store.count('Provenance', { target: encounterRef }), 1, 'one Provenance: the repost wrote nothing');
      t.equal((await store.history('Encounter', encounter?.id ?? '')).entry?.length, 1, 'one version of the Encounter');

      const resources = await written(act);
      t.ok(resources.length >= 6, `${resources.length} resources read back`);
      for (const resource of resources) {
        t.same(show(await hapiErrors(resource)), '', `HAPI $validate: ${resource.resourceType}/${resource.id} against ${resource.meta?.profile?.[0] ?? 'base R4'}`);
      }

      // CSP R6316-4, item by item, by the searches a reader of the record would use.
      if (act.report !== undefined) t.equal(await store.count('DocumentReference', { encounter: encounterRef }), 1, '1° the report: DocumentReference?encounter=');
      const medications = (act.prescriptions ?? []).filter((p) => p.kind === 'medication').length;
      t.equal(await store.count('MedicationRequest', { encounter: encounterRef }), medications, '2° the prescriptions: MedicationRequest?encounter=');
      t.equal(await store.count('ServiceRequest', { encounter: encounterRef }), (act.prescriptions ?? []).length - medications, '2° and ServiceRequest?encounter=');
      const roles = (encounter?.participant ?? []).map((p) => p.individual?.reference ?? '');
      t.equal(roles.length, act.performers.length + (act.requester ? 1 : 0) + (act.onSiteAssistant ? 1 : 0), '3° every professional is a participant');
      for (const role of roles) {
        t.equal(await store.count('Encounter', { participant: role, identifier: `${act.source}|${act.actId}` }), 1, `3° Encounter?participant=${role}`);
      }
      const period = act.end === undefined ? { date: `ge${act.start}` } : { date: [`ge${act.start}`, `le${act.end}`] };
      t.equal(await store.count('Encounter', { ...period, identifier: `${act.source}|${act.actId}` }), 1, '4° date and time: Encounter?date=');
      t.equal(await store.count('Observation', { encounter: encounterRef }), (act.incidents ?? []).length, '5° technical incidents: Observation?encounter=');
      const provenance = (await store.search<Provenance>('Provenance', { target: encounterRef })).entry?.[0]?.resource;
      t.equal(provenance?.agent?.length, roles.length + 1, 'the Provenance names every professional, and the source system');
      t.equal(provenance?.extension?.length ?? 0, (act.incidents ?? []).length, 'and every incident');
      if (act.consent !== undefined) {
        const consents = (await store.search<Consent>('Consent', { data: encounterRef })).entry ?? [];
        t.equal(consents.length, 1, 'the consent: Consent?data=Encounter/… (provision.data)');
        t.equal(consents[0]?.resource?.provision?.type, act.consent.decision === 'given' ? 'permit' : 'deny');
        t.equal(await store.count('Consent', { patient: encounter?.subject?.reference ?? '', identifier: `${act.source}|${act.actId}/consent` }), 1, 'and Consent?patient=');
      }
    });
  }

  t.test('an amended report supersedes the old one; a cancellation marks the act, with its Provenance (HAPI)', async (t) => {
    const act = fresh(example('01'));
    t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: act })).statusCode, 201);
    const encounter = await encounterOf(act);
    const encounterRef = `Encounter/${encounter?.id ?? 'missing'}`;

    const amended = { ...act.report, id: 'CR-amende-1', text: `${act.report?.text ?? ''}\nAddendum : traitement confirmé.` };
    const put = await app.inject({ method: 'PUT', url: `${pathOf(act)}/report`, payload: amended });
    t.equal(put.statusCode, 200, put.body.slice(0, 500));
    const reports = ((await store.search<DocumentReference>('DocumentReference', { encounter: encounterRef })).entry ?? []).map((entry) => entry.resource);
    t.equal(reports.length, 2, 'two DocumentReferences');
    t.equal(reports.filter((report) => report?.status === 'superseded').length, 1, 'one superseded');
    const current = reports.find((report) => report?.status === 'current');
    const old = reports.find((report) => report?.status === 'superseded');
    t.equal(current?.relatesTo?.[0]?.code, 'replaces');
    t.equal(current?.relatesTo?.[0]?.target?.reference, `DocumentReference/${old?.id}`, 'the new report replaces the old one');
    t.equal(await store.count('Provenance', { target: encounterRef }), 2, 'two Provenances');
    const again = await app.inject({ method: 'PUT', url: `${pathOf(act)}/report`, payload: amended });
    t.equal(again.statusCode, 200);
    t.equal(await store.count('DocumentReference', { encounter: encounterRef }), 2, 'the same amendment again changes nothing');
    t.equal(await store.count('Provenance', { target: encounterRef }), 2);

    const reason = 'Acte saisi sur le mauvais patient';
    const cancel = await app.inject({ method: 'DELETE', url: pathOf(act), payload: { reason, status: 'entered-in-error' } });
    t.equal(cancel.statusCode, 200, cancel.body.slice(0, 500));
    const after = await store.read<Encounter>('Encounter', encounter?.id ?? '');
    t.equal(after?.status, 'entered-in-error');
    t.equal((await store.history('Encounter', encounter?.id ?? '')).entry?.length, 2, 'nothing deleted: a new version of the Encounter');
    const provenances = ((await store.search<Provenance>('Provenance', { target: encounterRef })).entry ?? []).map((entry) => entry.resource);
    t.equal(provenances.length, 3, 'the cancellation has its Provenance');
    const nullify = provenances.find((p) => p?.activity?.coding?.[0]?.code === 'NULLIFY');
    t.equal(nullify?.reason?.[0]?.text, reason, 'which keeps the reason');
    for (const resource of await written(act)) {
      t.same(show(await hapiErrors(resource)), '', `after amendment and cancellation, HAPI $validate: ${resource.resourceType}/${resource.id}`);
    }
  });

  t.test('a transaction that fails on its last entry leaves nothing behind', async (t) => {
    const act = fresh(example('01'));
    const { bundle } = toActBundle(act, { receivedAt: new Date().toISOString() });
    const entries = bundle.entry ?? [];
    const last = entries[entries.length - 1];
    t.equal(last?.resource?.resourceType, 'Provenance', 'the Provenance is the last entry');
    // A target that does not exist: HAPI fails the entry (HAPI-1094) after processing the ones before it.
    const provenance = last?.resource as Provenance;
    const broken: Bundle = {
      ...bundle,
      entry: [...entries.slice(0, -1), { ...last, resource: { ...provenance, target: [...provenance.target, { reference: `Encounter/missing-${runId()}` }] } }],
    };
    const error = await store.transaction(broken).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(error, FhirStoreError, 'HAPI refuses the transaction');
    t.equal(await store.count('Encounter', { identifier: `${act.source}|${act.actId}` }), 0, 'no Encounter');
    t.equal(await store.count('Patient', { identifier: `${act.patient.ipp.system}|${act.patient.ipp.value}` }), 0, 'no Patient');
    t.equal(await store.count('DocumentReference', { identifier: `${act.source}|${act.actId}/report/${act.report?.id ?? ''}` }), 0, 'no report');
    const posted = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
    t.equal(posted.statusCode, 201, 'the same act, unbroken, is then recorded');
    t.equal(await store.count('Encounter', { identifier: `${act.source}|${act.actId}` }), 1);
  });

  t.test('the same act posted ten times at once on HAPI: one Encounter, one Patient, one Provenance', async (t) => {
    const act = fresh(example('04'));
    const answers = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'POST', url: '/v1/acts', payload: act })));
    t.same([...new Set(answers.map((answer) => answer.statusCode))], [201], answers.map((a) => a.body.slice(0, 200)).join('\n'));
    t.equal(await store.count('Encounter', { identifier: `${act.source}|${act.actId}` }), 1);
    t.equal(await store.count('Patient', { identifier: `${act.patient.ipp.system}|${act.patient.ipp.value}` }), 1);
    const encounter = await encounterOf(act);
    t.equal(await store.count('Provenance', { target: `Encounter/${encounter?.id ?? 'missing'}` }), 1);
    t.equal(await store.count('Observation', { encounter: `Encounter/${encounter?.id ?? 'missing'}` }), act.incidents?.length ?? 0, 'no incident doubled');
  });

  t.test('GET /v1/acts on HAPI: by INS, period, type and FINESS', async (t) => {
    const run = runId();
    const act = fresh(example('04'), run);
    t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: act })).statusCode, 201);
    const list = async (query: string): Promise<{ total: number; acts: { actId: string; type: string; reference: string }[] }> => {
      const response = await app.inject({ method: 'GET', url: `/v1/acts?${query}&pageSize=200` });
      t.equal(response.statusCode, 200, `${query}: ${response.body.slice(0, 300)}`);
      return response.json();
    };
    const mine = (listing: { acts: { actId: string }[] }): boolean => listing.acts.some((a) => a.actId === act.actId);
    const ins = act.patient.ins ?? '';
    t.ok(mine(await list(`patientIns=${ins}`)), 'by INS');
    t.ok(mine(await list(`patientIns=${ins}&from=2025-03-18&to=2025-03-18&type=teleconsultation&finess=750990012`)), 'all criteria at once');
    t.notOk(mine(await list(`patientIns=${ins}&type=telesoin`)), 'not under another type');
    t.notOk(mine(await list(`patientIns=${ins}&from=2025-03-19`)), 'not after it ended');
    const found = (await list(`patientIns=${ins}&type=teleconsultation`)).acts.find((a) => a.actId === act.actId);
    t.equal(found?.reference, `Encounter/${(await encounterOf(act))?.id ?? ''}`);
  });
}
