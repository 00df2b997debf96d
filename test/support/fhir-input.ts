// FHIR as clients post it: an act as a FHIR-capable DPI sends it, in FR Core / CI-SIS shape rather than ours: a transaction of
// urn:uuid entries; the practitioner known by idNatPs (8 + RPPS), the structure by FINESS on the
// Organization, the incident as an Observation, an element the act cannot hold (Encounter.reasonCode),
// the DPI's own Provenance.
import { randomUUID } from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { toFrCorePatient } from '../../src/mapping/index.ts';

const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const TS = 'https://telesante-fhir.fr/fhir';
const R210 = 'https://mos.esante.gouv.fr/NOS/TRE_R210-ActeSpecifique/FHIR/TRE-R210-ActeSpecifique';
const G15 = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';

export function frCoreActBundle(): Bundle {
  const { patient } = toFrCorePatient({
    ins: '156037505612322',
    insOid: 'urn:oid:1.2.250.1.213.1.4.8',
    identityStatus: 'QUAL',
    traits: { birthFamilyName: 'DUPONT', birthGivenNames: ['Jean', 'Pierre', 'Marie'], birthDate: '1956-03-14', sex: 'male', birthplaceCode: '75056' },
    ipp: { system: 'urn:oid:1.2.250.1.999.2.1', value: 'IPP-77' },
  });
  delete patient.id;
  const role = { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000003' };
  const resources: [string, Resource][] = [
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-000000000001',
      {
        resourceType: 'Encounter',
        identifier: [{ system: 'urn:oid:1.2.250.1.999.7', value: 'CS-2026-0042' }],
        status: 'finished',
        class: { system: V3_ACT_CODE, code: 'VR', display: 'virtual' },
        type: [{ coding: [{ system: R210, code: '0988', display: 'Téléconsultation' }] }],
        subject: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000002' },
        participant: [{ individual: role }],
        period: { start: '2026-11-30T10:00:00+01:00', end: '2026-11-30T10:20:00+01:00' },
        reasonCode: [{ text: 'Suivi de traitement' }],
      },
    ],
    ['urn:uuid:6f1c1a52-0000-4000-8000-000000000002', patient],
    [
      role.reference,
      {
        resourceType: 'PractitionerRole',
        practitioner: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000004' },
        organization: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000005' },
        code: [{ coding: [{ system: G15, code: '10', display: 'Médecin' }] }],
      },
    ],
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-000000000004',
      {
        resourceType: 'Practitioner',
        identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810000990019' }],
        name: [{ family: 'MARTIN', given: ['Claire'] }],
      },
    ],
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-000000000005',
      { resourceType: 'Organization', identifier: [{ system: 'https://finess.esante.gouv.fr', value: '750990012' }], name: 'MSP des Batignolles' },
    ],
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-000000000006',
      {
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000002' },
        date: '2026-11-30T10:30:00+01:00',
        author: [role],
        content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from('Examen clinique rassurant. Poursuite du traitement.').toString('base64') } }],
      },
    ],
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-000000000007',
      {
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000002' },
        dateTime: '2026-11-30T10:01:00+01:00',
        extension: [{ url: `${TS}/StructureDefinition/telesante-consent-method`, valueCoding: { system: `${TS}/CodeSystem/telesante-consent-method`, code: 'oral' } }],
      },
    ],
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-000000000008',
      {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text: 'Paracétamol 1 g' },
        subject: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000002' },
        requester: role,
        authoredOn: '2026-11-30T10:20:00+01:00',
      },
    ],
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-000000000009',
      {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: `${TS}/CodeSystem/telesante-incident-type`, code: 'audio-failure' }] },
        subject: { reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000002' },
        effectiveDateTime: '2026-11-30T10:05:00+01:00',
        valueCodeableConcept: { coding: [{ system: `${TS}/CodeSystem/telesante-incident-effect`, code: 'degraded' }] },
      },
    ],
    [
      'urn:uuid:6f1c1a52-0000-4000-8000-00000000000a',
      {
        resourceType: 'Provenance',
        target: [{ reference: 'urn:uuid:6f1c1a52-0000-4000-8000-000000000001' }],
        recorded: '2026-11-30T10:31:00+01:00',
        agent: [{ who: role }],
      },
    ],
  ];
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map(([fullUrl, resource]) => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } })),
  };
}

/**
 * What a client does with a Bundle read from GET … (Accept: application/fhir+json) to post it back: removes
 * the server's ids and meta, gives each entry a urn:uuid fullUrl that the references use instead, and lets
 * `rename` give the record a new identifier.
 */
export function repostable(bundle: Bundle, rename: (resource: Resource) => void): Bundle {
  const urls = new Map<string, string>();
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (r?.id !== undefined) urls.set(`${r.resourceType}/${r.id}`, `urn:uuid:${randomUUID()}`);
  }
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'reference' && typeof v === 'string' ? (urls.get(v) ?? v) : rewrite(v)]));
  };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: (bundle.entry ?? []).flatMap(({ resource }) => {
      if (resource === undefined) return [];
      const copy = rewrite(resource) as Resource;
      delete copy.id;
      delete copy.meta;
      rename(copy);
      return [{ fullUrl: urls.get(`${resource.resourceType}/${resource.id}`), resource: copy, request: { method: 'POST' as const, url: copy.resourceType } }];
    }),
  };
}
