// POST /v1/acts with Content-Type: application/fhir+json: a Bundle, ours or in FR Core shape, read into
// the act and recorded by the same checks and path as our JSON.
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { frCoreActBundle, repostable } from '../../support/fhir-input.ts';

const DIR = new URL('../../../examples/acts/', import.meta.url);
const examples = readdirSync(DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ file, act: JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Act }));

const FHIR = { 'content-type': 'application/fhir+json' };
const pathOf = (source: string, actId: string): string => `/v1/acts/${encodeURIComponent(source)}/${encodeURIComponent(actId)}`;
const issuesOf = (body: unknown): { expression: string; severity: string; text: string }[] =>
  ((body as OperationOutcome).issue ?? []).map((i) => ({ expression: i.expression?.[0] ?? '', severity: i.severity, text: i.details?.text ?? '' }));

function renameAct(resource: Resource, actId: string): void {
  if (resource.resourceType !== 'Encounter') return;
  const key = resource.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'VN')) ?? resource.identifier?.[0];
  if (key) key.value = actId;
}

t.test('every example act: its FHIR, ids removed, posted back as FHIR under a new identifier, is the same record', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  for (const { file, act } of examples) {
    t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: act })).statusCode, 201, `${file}: posted as JSON`);
    const fhir = await app.inject({ method: 'GET', url: pathOf(act.source, act.actId), headers: { accept: 'application/fhir+json' } });
    t.equal(fhir.statusCode, 200);
    const actId = `${act.actId}-fhir`;
    const posted = await app.inject({ method: 'POST', url: '/v1/acts', headers: FHIR, payload: repostable(fhir.json<Bundle>(), (r) => renameAct(r, actId)) });
    t.equal(posted.statusCode, 201, `${file}: posted as FHIR\n${posted.body.slice(0, 1500)}`);
    const warnings = issuesOf(posted.json<{ outcome: OperationOutcome }>().outcome);
    t.ok(warnings.every((w) => w.severity === 'warning'), `${file}: the answer lists warnings only`);
    t.ok(warnings.some((w) => /Provenance/.test(w.text)), `${file}: the Provenance posted is said to be replaced by ours`);
    const read = await app.inject({ method: 'GET', url: pathOf(act.source, actId) });
    t.same(read.json(), { ...act, actId }, `${file}: the same record`);
  }
});

t.test('an FR Core act (PractitionerRole, idNatPs, FINESS on the Organization, incident Observation) is recorded', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const bundle = frCoreActBundle();
  const posted = await app.inject({ method: 'POST', url: '/v1/acts', headers: FHIR, payload: bundle });
  t.equal(posted.statusCode, 201, posted.body.slice(0, 2000));
  const warnings = issuesOf(posted.json<{ outcome: OperationOutcome }>().outcome);
  t.ok(warnings.some((w) => w.expression === 'Bundle.entry[0].resource.reasonCode' && /reasonCode/.test(w.text)), 'an element the act cannot hold is named');
  t.ok(warnings.some((w) => w.expression === 'Bundle.entry[0].resource.extension' && /vidéotransmission/.test(w.text)), 'the modality assumed is said');
  const read = (await app.inject({ method: 'GET', url: pathOf('urn:oid:1.2.250.1.999.7', 'CS-2026-0042') })).json<Act>();
  t.match(read, {
    type: 'teleconsultation',
    status: 'finished',
    modality: 'video',
    patient: { ins: '156037505612322', identityStatus: 'QUAL', ipp: { value: 'IPP-77' } },
    performers: [{ rpps: '10000990019', familyName: 'MARTIN', givenName: 'Claire', profession: 'medecin', role: 'primary', finess: '750990012', structureName: 'MSP des Batignolles' }],
    report: { authorRpps: '10000990019', text: /Examen clinique rassurant/ },
    consent: { decision: 'given', method: 'oral' },
    prescriptions: [{ kind: 'medication', text: 'Paracétamol 1 g', prescriberRpps: '10000990019' }],
    incidents: [{ type: 'audio-failure', effect: 'degraded' }],
  });
});

t.test('a document Bundle: the report is the text of the Composition, its author the report author', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const bundle = frCoreActBundle();
  const entries = (bundle.entry ?? []).filter((e) => e.resource?.resourceType !== 'DocumentReference').map(({ fullUrl, resource }) => ({ fullUrl, resource }));
  const composition = {
    fullUrl: 'urn:uuid:6f1c1a52-0000-4000-8000-0000000000cc',
    resource: {
      resourceType: 'Composition' as const,
      status: 'final' as const,
      type: { coding: [{ system: 'http://loinc.org', code: '85208-7' }] },
      subject: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000002' },
      encounter: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000001' },
      date: '2026-11-30T10:40:00+01:00',
      author: [{ reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000003' }],
      title: 'CR de téléconsultation',
      section: [
        { title: 'Motif', text: { status: 'generated' as const, div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Suivi <b>HTA</b></p></div>' } },
        { title: 'Conclusion', text: { status: 'generated' as const, div: '<div xmlns="http://www.w3.org/1999/xhtml">Poursuite du traitement.</div>' } },
      ],
    },
  };
  const document: Bundle = { resourceType: 'Bundle', type: 'document', entry: [composition, ...entries] };
  const posted = await app.inject({ method: 'POST', url: '/v1/acts', headers: FHIR, payload: document });
  t.equal(posted.statusCode, 201, posted.body.slice(0, 1500));
  const read = (await app.inject({ method: 'GET', url: pathOf('urn:oid:1.2.250.1.999.7', 'CS-2026-0042') })).json<Act>();
  t.same(read.report, { text: 'Motif\nSuivi HTA\n\nConclusion\nPoursuite du traitement.', title: 'CR de téléconsultation', authorRpps: '10000990019', date: '2026-11-30T10:40:00+01:00' });
});

t.test('an FR Core Encounter without the legal items: 422, one issue per missing item, each a FHIRPath into the Bundle', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const bundle = frCoreActBundle();
  const encounter = bundle.entry?.[0]?.resource as unknown as Record<string, unknown>;
  delete encounter.participant;
  delete encounter.period;
  delete encounter.type;
  const answer = await app.inject({ method: 'POST', url: '/v1/acts', headers: FHIR, payload: bundle });
  t.equal(answer.statusCode, 422, answer.body.slice(0, 1000));
  const errors = issuesOf(answer.json()).filter((i) => i.severity === 'error').map((i) => i.expression);
  for (const missing of ['participant', 'period.start', 'type']) {
    t.ok(errors.includes(`Bundle.entry[0].resource.${missing}`), `${missing} is named: ${errors.join(', ')}`);
  }
});

t.test('what the record needs and the Bundle does not say is refused where it is', async (t) => {
  const { app } = await testApp({}, new EmbeddedStore());
  t.teardown(() => app.close());
  const post = (bundle: Bundle) => app.inject({ method: 'POST', url: '/v1/acts', headers: FHIR, payload: bundle });

  const inPerson = frCoreActBundle();
  (inPerson.entry?.[0]?.resource as { class: unknown }).class = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' };
  const ambulatory = await post(inPerson);
  t.equal(ambulatory.statusCode, 422);
  t.ok(issuesOf(ambulatory.json()).some((i) => i.expression === 'Bundle.entry[0].resource.class'), 'an Encounter that is not remote (class VR)');

  const noMethod = frCoreActBundle();
  const consentEntry = noMethod.entry?.findIndex((e) => e.resource?.resourceType === 'Consent') ?? -1;
  delete (noMethod.entry?.[consentEntry]?.resource as { extension?: unknown }).extension;
  const consent = await post(noMethod);
  t.equal(consent.statusCode, 422);
  t.same(
    issuesOf(consent.json()).filter((i) => i.severity === 'error').map((i) => i.expression),
    [`Bundle.entry[${consentEntry}].resource.extension`],
    'a consent whose method of collection is not said: one issue, on the Consent',
  );

  const badRpps = frCoreActBundle();
  const practitionerEntry = badRpps.entry?.findIndex((e) => e.resource?.resourceType === 'Practitioner') ?? -1;
  const practitioner = badRpps.entry?.[practitionerEntry]?.resource as { identifier: { value: string }[] };
  if (practitioner.identifier[0]) practitioner.identifier[0].value = '810003456788';
  const rpps = await post(badRpps);
  t.equal(rpps.statusCode, 422);
  t.ok(issuesOf(rpps.json()).some((i) => i.expression === `Bundle.entry[${practitionerEntry}].resource.identifier`), 'a bad RPPS key, on the Practitioner');

  const notBundle = await post({ resourceType: 'Encounter' } as unknown as Bundle);
  t.equal(notBundle.statusCode, 422);
  t.same(issuesOf(notBundle.json()).map((i) => i.expression), ['resourceType']);
});
