import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry, CodeSystem, Consent, DocumentReference, Encounter, Observation, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import type { Act } from '../../../src/model/act.ts';
import { CONSENT_METHODS } from '../../../src/model/act.ts';
import {
  actClassSearch,
  actFromFhir,
  actSummaryOf,
  actTypeSearch,
  BILLING_ACTS,
  checkAct,
  finessOrganizationSearch,
  insPatientSearch,
  InvalidActError,
  toActBundle,
  toCancellation,
  toReportAmendment,
  UnknownActError,
} from '../../../src/mapping/index.ts';
import { example, exampleFiles, must, RECEIVED_AT, stored } from './act-examples.ts';

const R210 = 'https://mos.esante.gouv.fr/NOS/TRE_R210-ActeSpecifique/FHIR/TRE-R210-ActeSpecifique';
const R213 = 'https://mos.esante.gouv.fr/NOS/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge';

function entriesOf(bundle: Bundle, type: string): BundleEntry[] {
  return (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type);
}
function only<T extends Resource>(bundle: Bundle, type: T['resourceType']): T {
  const list = entriesOf(bundle, type);
  if (list.length !== 1) throw new Error(`expected one ${type}, got ${list.length}`);
  return list[0]?.resource as T;
}
const map = (act: Act, existing?: readonly Resource[]) => toActBundle(act, { receivedAt: RECEIVED_AT, ...(existing === undefined ? {} : { existing }) });

t.test('every example maps to a transaction without error', async (t) => {
  t.ok(exampleFiles.length >= 6);
  for (const file of exampleFiles) {
    const act = example(file.slice(0, 2));
    const { bundle } = map(act);
    t.equal(bundle.type, 'transaction', file);
    for (const entry of bundle.entry ?? []) {
      if (entry.resource === undefined) continue;
      t.match(entry.fullUrl, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `${file} ${entry.resource.resourceType}`);
      // Every write is conditional: a PUT on a search, or a POST with ifNoneExist.
      if (entry.request?.method === 'PUT') t.match(entry.request.url, /^[A-Za-z]+\?identifier=/);
      else t.ok(entry.request?.ifNoneExist, `${file}: ${entry.resource.resourceType} POST carries ifNoneExist`);
    }
  }
});

t.test('the same act gives the same bytes, whatever the key order and the time it is received', async (t) => {
  const act = example('01');
  const reversedKeys = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(reversedKeys)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]))
        : value;
  const reordered = reversedKeys(act) as Act;
  t.not(JSON.stringify(reordered), JSON.stringify(act));
  const a = map(act);
  const b = toActBundle(reordered, { receivedAt: RECEIVED_AT });
  t.equal(JSON.stringify(a.bundle), JSON.stringify(b.bundle));
  const later = toActBundle(act, { receivedAt: '2025-07-01T00:00:00Z' });
  t.equal(later.hash, a.hash, 'receivedAt is not part of the hash: a repost is a no-op');
  t.equal(only<Provenance>(later.bundle, 'Provenance').recorded, '2025-07-01T00:00:00Z');
  const provenance = entriesOf(a.bundle, 'Provenance')[0];
  t.equal(provenance?.request?.method, 'POST');
  t.equal(provenance?.request?.ifNoneExist, `_tag=https://dpi.msp-batignolles.example.fr|TC-2025-000142/provenance/${a.hash}`);
  t.equal(a.provenanceSearch, provenance?.request?.ifNoneExist);
});

t.test('a changed act has another hash, and its Provenance is an UPDATE', async (t) => {
  const act = example('01');
  const first = map(act);
  const changed = { ...act, end: '2025-03-11T14:55:00+01:00' };
  const second = map(changed, stored(first.bundle));
  t.not(second.hash, first.hash);
  t.equal(only<Provenance>(first.bundle, 'Provenance').activity?.coding?.[0]?.code, 'CREATE');
  t.equal(only<Provenance>(second.bundle, 'Provenance').activity?.coding?.[0]?.code, 'UPDATE');
  t.equal(only<Encounter>(second.bundle, 'Encounter').period?.end, '2025-03-11T14:55:00+01:00');
});

t.test('Encounter: virtual class, national act code and billing code, participants, provider', async (t) => {
  const { bundle } = map(example('01'));
  const encounter = only<Encounter>(bundle, 'Encounter');
  t.same(encounter.class, { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' });
  t.same(encounter.identifier?.[0], {
    use: 'official',
    type: { coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identifier-type', code: 'VN', display: 'Visit Number' }] },
    system: 'https://dpi.msp-batignolles.example.fr',
    value: 'TC-2025-000142',
  });
  t.same(encounter.type?.[0]?.coding?.map((c) => `${c.system}|${c.code}`), [`${R210}|0988`], 'type: the national code alone');
  t.same(
    encounter.extension?.find((e) => e.url === 'https://telesante-fhir.fr/fhir/StructureDefinition/telesante-billing-code')?.valueCoding,
    { system: 'https://telesante-fhir.fr/fhir/CodeSystem/telesante-billing-act', code: 'TCG', display: 'Téléconsultation du médecin généraliste' },
    'the billing code in its own extension',
  );
  t.same(
    encounter.participant?.map((p) => p.type?.[0]?.coding?.[0]?.code),
    ['PPRF', 'on-site-assistant'],
    'the GP performs, the nurse assists at home',
  );
  t.equal(encounter.status, 'finished');
  t.same(encounter.period, { start: '2025-03-11T14:30:00+01:00', end: '2025-03-11T14:52:00+01:00' });
  const organization = entriesOf(bundle, 'Organization')[0];
  t.equal(encounter.serviceProvider?.reference, organization?.fullUrl);
  t.equal(entriesOf(bundle, 'Encounter')[0]?.request?.url, 'Encounter?identifier=https://dpi.msp-batignolles.example.fr|TC-2025-000142');
  t.same(encounter.extension?.[0], {
    url: 'https://telesante-fhir.fr/fhir/StructureDefinition/telesante-modality',
    valueCoding: { system: 'https://telesante-fhir.fr/fhir/CodeSystem/telesante-modality', code: 'video', display: 'Vidéotransmission' },
  });
});

t.test('act types take one national code each', async (t) => {
  const code = (act: Act) => {
    const c = only<Encounter>(map(act).bundle, 'Encounter').type?.[0]?.coding?.[0];
    return `${c?.system === R210 ? 'R210' : c?.system === R213 ? 'R213' : c?.system}|${c?.code}`;
  };
  t.equal(code(example('02')), 'R210|1272', 'téléexpertise < 7 days');
  t.equal(code(example('03')), 'R210|1483', 'télésurveillance of heart failure');
  t.equal(code(example('05')), 'R210|1474', 'télésoin');
  const regulation: Act = { ...example('01'), type: 'regulation', billingCode: undefined, modality: 'phone', onSiteAssistant: undefined, consent: undefined };
  t.equal(code(regulation), 'R213|27', 'régulation has no TRE_R210 code');
  const assistance: Act = { ...example('01'), type: 'teleassistance', billingCode: undefined };
  t.equal(code(assistance), 'R210|0824');
});

t.test('directory: Practitioner and Organization created once, PractitionerRole keyed by RPPS and FINESS', async (t) => {
  const { bundle } = map(example('03'));
  const practitioners = entriesOf(bundle, 'Practitioner');
  t.same(practitioners.map((e) => e.request?.ifNoneExist), ['identifier=urn:oid:1.2.250.1.71.4.2.1|810000990050', 'identifier=urn:oid:1.2.250.1.71.4.2.1|810000990068']);
  t.same(entriesOf(bundle, 'Organization').map((e) => e.request?.ifNoneExist), ['identifier=https://finess.esante.gouv.fr|690990023'], 'two professionals, one structure');
  const roles = entriesOf(bundle, 'PractitionerRole');
  t.same(roles.map((e) => e.request?.url), [
    'PractitionerRole?identifier=https://telesante-fhir.fr/fhir/sid/exercice|10000990050-690990023',
    'PractitionerRole?identifier=https://telesante-fhir.fr/fhir/sid/exercice|10000990068-690990023',
  ]);
  t.same(roles.map((e) => (e.resource as { code?: { coding?: { code?: string }[] }[] }).code?.[0]?.coding?.[0]?.code), ['10', '60'], 'TRE_G15 médecin, infirmier');
});

t.test('Patient: INS when qualified, IPP only for a provisional identity; conditional on the IPP', async (t) => {
  const qualified = map(example('01')).bundle;
  const patient = only<Patient>(qualified, 'Patient');
  t.ok(patient.identifier?.some((i) => i.system === 'urn:oid:1.2.250.1.213.1.4.8' && i.value === '156037505612322'));
  t.equal(entriesOf(qualified, 'Patient')[0]?.request?.url, 'Patient?identifier=urn:oid:1.2.250.1.999.2.1|IPP0004521');
  const provisional = only<Patient>(map(example('06')).bundle, 'Patient');
  t.same(provisional.identifier?.map((i) => i.system), ['urn:oid:1.2.250.1.999.2.3']);
  t.same(provisional.meta?.profile, ['https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient']);
});

t.test('report: DocumentReference LOINC 85208-7, text in base64, photos as further content', async (t) => {
  const { bundle } = map(example('02'));
  const report = only<DocumentReference>(bundle, 'DocumentReference');
  t.same(report.type?.coding?.[0]?.code, '85208-7');
  t.equal(report.status, 'current');
  t.equal(report.docStatus, 'final');
  t.equal(report.content?.length, 3);
  t.equal(report.content?.[0]?.attachment.contentType, 'text/plain');
  t.match(Buffer.from(report.content?.[0]?.attachment.data ?? '', 'base64').toString('utf8'), /suspicion de mélanome/);
  t.same(report.content?.slice(1).map((c) => c.attachment.title), ["Photographie d'ensemble, dos", 'Dermoscopie de la lésion']);
  const encounter = entriesOf(bundle, 'Encounter')[0];
  t.equal(report.context?.encounter?.[0]?.reference, encounter?.fullUrl);
  const author = entriesOf(bundle, 'PractitionerRole').find((e) => e.request?.url?.endsWith('10000990035-330990037'));
  t.equal(report.author?.[0]?.reference, author?.fullUrl, 'the dermatologist wrote it');
  t.match(entriesOf(bundle, 'DocumentReference')[0]?.request?.url, /^DocumentReference\?identifier=urn:oid:1\.2\.250\.1\.999\.1\.1\|TE-DERM-2025-0087\/report\/r-[0-9a-f]{16}$/);
});

t.test('Provenance: the five R6316-4 items', async (t) => {
  const { bundle } = map(example('04'));
  const provenance = only<Provenance>(bundle, 'Provenance');
  const written = (bundle.entry ?? []).filter((e) => e.resource !== undefined && e.resource.resourceType !== 'Provenance');
  t.same(provenance.target.map((r) => r.reference), written.map((e) => e.fullUrl), 'targets everything written');
  t.ok(provenance.target.some((r) => r.type === 'DocumentReference'), '1° the report');
  t.ok(provenance.target.some((r) => r.type === 'Encounter'), '2° the act');
  t.same(
    provenance.agent.map((a) => a.type?.coding?.[0]?.code),
    ['PPRF', 'assembler'],
    '3° the professionals, and the source system',
  );
  t.same(provenance.agent[1]?.who, { type: 'Device', identifier: { system: 'urn:ietf:rfc:3986', value: 'https://dpi.msp-batignolles.example.fr' }, display: 'Système source (DPI/DUI)' });
  t.same(provenance.occurredPeriod, { start: '2025-03-18T10:00:00+01:00', end: '2025-03-18T10:14:00+01:00' }, '4° date and time');
  t.equal(provenance.extension?.length, 2, '5° the incidents');
  t.equal(provenance.target.filter((r) => r.type === 'Observation').length, 2, '5° the incidents, searchable');
  t.equal(provenance.recorded, RECEIVED_AT);
  t.same(provenance.entity?.[0]?.what.identifier, { system: 'https://dpi.msp-batignolles.example.fr', value: `TC-2025-000177#${map(example('04')).hash}` });
});

t.test('incidents: on the Encounter and as Observations searchable by encounter and code', async (t) => {
  const act = example('04');
  const { bundle } = map(act);
  const observations = entriesOf(bundle, 'Observation').map((e) => e.resource as Observation);
  const encounter = entriesOf(bundle, 'Encounter')[0];
  t.same(
    observations.map((o) => [o.code.coding?.[0]?.code, o.valueCodeableConcept?.coding?.[0]?.code, o.encounter?.reference === encounter?.fullUrl, o.effectiveDateTime]),
    [
      ['video-failure', 'degraded', true, '2025-03-18T10:09:00+01:00'],
      ['connection-loss', 'interrupted', true, '2025-03-18T10:12:00+01:00'],
    ],
  );
  const incident = (only<Encounter>(bundle, 'Encounter').extension ?? []).filter((e) => e.url.endsWith('telesante-technical-incident'))[1];
  t.same(incident?.extension?.map((e) => e.url), ['type', 'time', 'description', 'effect']);
  // An update that drops the second incident deletes its Observation.
  const fewer = map({ ...act, incidents: act.incidents?.slice(0, 1) }, stored(bundle));
  const deletes = (fewer.bundle.entry ?? []).filter((e) => e.request?.method === 'DELETE').map((e) => e.request?.url);
  t.same(deletes, ['Observation?identifier=https://dpi.msp-batignolles.example.fr|TC-2025-000177/incident/2']);
});

t.test('consent: given, or refused and recorded with a cancelled act', async (t) => {
  const given = only<Consent>(map(example('01')).bundle, 'Consent');
  t.equal(given.status, 'active');
  t.equal(given.provision?.type, 'permit');
  t.same(given.policyRule?.coding?.[0]?.code, 'OPTIN');
  t.same(given.category?.[0]?.coding?.[0]?.code, '59284-0');
  t.equal(given.performer?.length, 2, 'the patient, and the nurse who collected it');
  const act = example('01');
  const refusedAct: Act = { ...act, status: 'cancelled', consent: { ...must(act.consent), decision: 'refused' }, report: undefined, prescriptions: [] };
  t.same(checkAct(refusedAct), []);
  const refused = only<Consent>(map(refusedAct).bundle, 'Consent');
  t.equal(refused.status, 'rejected');
  t.equal(refused.provision?.type, 'deny');
  t.throws(() => map({ ...act, consent: { ...must(act.consent), decision: 'refused' } }), InvalidActError);
});

t.test('prescriptions: MedicationRequest for medicines, ServiceRequest for the rest', async (t) => {
  const { bundle } = map(example('01'));
  t.same(entriesOf(bundle, 'MedicationRequest').map((e) => e.request?.url), [
    'MedicationRequest?identifier=https://dpi.msp-batignolles.example.fr|TC-2025-000142/prescription/ORD-142-1',
  ]);
  const lab = entriesOf(bundle, 'ServiceRequest')[0]?.resource as { category?: { coding?: { code?: string }[] }[]; authoredOn?: string };
  t.equal(lab.category?.[0]?.coding?.[0]?.code, '108252007');
  t.equal(lab.authoredOn, '2025-03-11T14:52:00+01:00', 'the end of the act when the prescription has no date');
  const unnamed = entriesOf(map(example('02')).bundle, 'ServiceRequest')[0];
  t.match(unnamed?.request?.url, /\/prescription\/1$/, 'position when the DPI gives no id');
});

t.test('a report replaced by another one: relatesTo replaces, the old one superseded', async (t) => {
  const act = example('05');
  const first = map(act);
  const store = stored(first.bundle);
  const newReport = { ...must(act.report), text: `${must(act.report).text ?? ''}\nAddendum : bilan transmis au médecin traitant.`, date: '2025-02-21T09:00:00+01:00' };
  const amended = toReportAmendment(act, newReport, store, { receivedAt: RECEIVED_AT });
  const docs = entriesOf(amended.bundle, 'DocumentReference').map((e) => ({ url: e.fullUrl, doc: e.resource as DocumentReference }));
  t.equal(docs.length, 2);
  const [fresh, old] = docs;
  t.equal(fresh?.doc.docStatus, 'amended');
  t.equal(fresh?.doc.status, 'current');
  t.same(fresh?.doc.relatesTo, [{ code: 'replaces', target: { reference: old?.url, type: 'DocumentReference' } }]);
  t.equal(old?.doc.status, 'superseded');
  t.equal(old?.doc.id, undefined, 'server fields dropped before the conditional rewrite');
  const provenance = only<Provenance>(amended.bundle, 'Provenance');
  t.equal(provenance.activity?.coding?.[0]?.code, 'UPDATE');
  t.ok(provenance.target.some((r) => r.reference?.startsWith('Encounter/')), 'the act, by its stored id');
  // Sent again once stored: the same report is rewritten as stored, nothing is superseded twice.
  const after = stored(amended.bundle, store);
  const again = toReportAmendment(act, newReport, after, { receivedAt: '2025-06-16T00:00:00Z' });
  t.equal(again.hash, amended.hash);
  const againDocs = entriesOf(again.bundle, 'DocumentReference');
  t.equal(againDocs.length, 1);
  t.equal((againDocs[0]?.resource as DocumentReference).relatesTo?.[0]?.code, 'replaces', 'the relation is kept');
  // The original act posted again does not resurrect the superseded report.
  const repost = map(act, after);
  t.equal((entriesOf(repost.bundle, 'DocumentReference')[0]?.resource as DocumentReference).status, 'superseded');
  t.throws(() => toReportAmendment(act, newReport, [], { receivedAt: RECEIVED_AT }), UnknownActError);
});

t.test('cancellation and entered-in-error keep the record and say why', async (t) => {
  const act = example('01');
  const store = stored(map(act).bundle);
  const cancelled = toCancellation(store, { reason: 'Patient absent au rendez-vous' }, RECEIVED_AT);
  t.equal(only<Encounter>(cancelled.bundle, 'Encounter').status, 'cancelled');
  t.same(entriesOf(cancelled.bundle, 'MedicationRequest').map((e) => (e.resource as { status?: string }).status), ['cancelled']);
  t.same(entriesOf(cancelled.bundle, 'ServiceRequest').map((e) => (e.resource as { status?: string }).status), ['revoked']);
  const provenance = only<Provenance>(cancelled.bundle, 'Provenance');
  t.equal(provenance.activity?.coding?.[0]?.code, 'CANCEL');
  t.same(provenance.reason, [{ text: 'Patient absent au rendez-vous' }]);
  t.equal(entriesOf(cancelled.bundle, 'DocumentReference').length, 0, 'the report of a cancelled act stays as it is');
  t.equal(toCancellation(store, { reason: 'Patient absent au rendez-vous' }, '2025-06-16T00:00:00Z').hash, cancelled.hash, 'sent twice: same Provenance key');

  const error = toCancellation(store, { reason: 'Erreur de patient', status: 'entered-in-error' }, RECEIVED_AT);
  t.equal(only<Encounter>(error.bundle, 'Encounter').status, 'entered-in-error');
  for (const type of ['DocumentReference', 'Consent', 'MedicationRequest', 'ServiceRequest']) {
    t.same(entriesOf(error.bundle, type).map((e) => (e.resource as { status?: string }).status), ['entered-in-error'], type);
  }
  t.equal(only<Provenance>(error.bundle, 'Provenance').activity?.coding?.[0]?.code, 'NULLIFY');
  t.throws(() => toCancellation([], { reason: 'x' }, RECEIVED_AT), UnknownActError);
});

t.test('invalid act: every error at once, nothing mapped', async (t) => {
  const act = example('02');
  const bad: Act = { ...act, requester: undefined, end: '2025-04-01T09:00:00+02:00', consent: { ...must(act.consent), collectedByRpps: undefined } };
  const error = t.throws(() => map(bad)) as InvalidActError;
  t.same(error.issues.map((i) => i.code).sort(), ['ACT_END_BEFORE_START', 'ACT_TELEEXPERTISE_WITHOUT_REQUESTER']);
});

t.test('round trip: the stored act reads back as sent', async (t) => {
  for (const file of exampleFiles) {
    const act = example(file.slice(0, 2));
    const back = actFromFhir(stored(map(act).bundle));
    t.same(back, act, file);
    t.equal(map(back).hash, map(act).hash, `${file}: posting the act read back is a no-op`);
  }
});

t.test('the stored act reads back the same whatever order the store answers in', async (t) => {
  // HAPI's _revinclude order is not fixed: a CI run read example 01's laboratory prescription first.
  for (const file of exampleFiles) {
    const act = example(file.slice(0, 2));
    const resources = stored(map(act).bundle);
    t.same(actFromFhir([...resources].reverse()), act, `${file}, read in reverse order`);
  }
});

t.test('our billing and consent-method code systems hold exactly the codes the mapping emits', async (t) => {
  const codesOf = (file: string): string[] =>
    (JSON.parse(readFileSync(new URL(`../../../mappings/${file}`, import.meta.url), 'utf8')) as CodeSystem).concept?.map((c) => c.code) ?? [];
  t.same(codesOf('CodeSystem-telesante-billing-act.json').sort(), Object.keys(BILLING_ACTS).sort(), 'telesante-billing-act = BILLING_ACTS');
  t.same(codesOf('CodeSystem-telesante-consent-method.json').sort(), [...CONSENT_METHODS].sort(), 'telesante-consent-method = CONSENT_METHODS');
});

t.test('search keys: an act type by all its national codes, a patient by every INS OID, a structure by FINESS', async (t) => {
  t.equal(actTypeSearch('teleconsultation'), `type=${R210}|0988`);
  t.equal(actTypeSearch('teleexpertise'), `type=${R210}|1271,${R210}|1272,${R210}|1273`);
  t.equal(actTypeSearch('telesurveillance').split(',').length, 6, 'one code per programme');
  t.equal(actTypeSearch('regulation'), `type=${R213}|27`);
  t.equal(
    insPatientSearch('156037505612322'),
    'identifier=urn:oid:1.2.250.1.213.1.4.8|156037505612322,urn:oid:1.2.250.1.213.1.4.9|156037505612322,' +
      'urn:oid:1.2.250.1.213.1.4.10|156037505612322,urn:oid:1.2.250.1.213.1.4.11|156037505612322',
    'NIR, NIA, test and demo OIDs',
  );
  t.equal(finessOrganizationSearch('750990012'), 'identifier=https://finess.esante.gouv.fr|750990012');
  t.equal(actClassSearch(), 'class=http://terminology.hl7.org/CodeSystem/v3-ActCode|VR');
});

t.test('an act summary reads the key, the type keyword, the status and the start from the Encounter', async (t) => {
  const encounter = { ...only<Encounter>(map(example('02')).bundle, 'Encounter'), id: 'enc-1' };
  t.same(actSummaryOf(encounter), {
    source: example('02').source,
    actId: example('02').actId,
    type: 'teleexpertise',
    status: example('02').status,
    start: example('02').start,
    reference: 'Encounter/enc-1',
  });
  t.equal(actSummaryOf({ ...encounter, type: [{ text: 'Consultation' }] }), undefined, 'not one of our acts');
});
