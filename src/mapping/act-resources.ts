// The resources of an act, each a conditional write keyed on `<actId>/<suffix>` under the act's source:
// Encounter, Consent, the report (and the reports it supersedes), prescriptions, incident Observations.
import type {
  CodeableConcept,
  Consent,
  DocumentReference,
  DocumentReferenceContent,
  DocumentReferenceRelatesTo,
  Encounter,
  EncounterParticipant,
  Extension,
  Identifier,
  MedicationRequest,
  Observation,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { Act, ActIncident, ActPrescription, ActReport } from '../model/act.ts';
import { careStructureTags } from './act-structures.ts';
import {
  actIdentifier,
  actTypeCoding,
  BILLING_CODE_EXTENSION,
  billingCoding,
  CONSENT_LOINC,
  CONSENT_METHOD_DISPLAY,
  CONSENT_METHOD_EXTENSION,
  CONSENT_METHOD_SYSTEM,
  CONSENT_SCOPE,
  FR_CORE_ENCOUNTER_IDENTIFIER_TYPE,
  INCIDENT_EFFECT_DISPLAY,
  INCIDENT_EFFECT_SYSTEM,
  INCIDENT_TYPE_DISPLAY,
  INCIDENT_TYPE_SYSTEM,
  MODALITY_DISPLAY,
  MODALITY_EXTENSION,
  MODALITY_SYSTEM,
  OFFER_EXTENSION,
  PARTICIPANT_CODING,
  PRESCRIPTION_CATEGORY,
  PRESCRIPTION_LABEL,
  REPORT_LOINC,
  reportKey,
  TECHNICAL_INCIDENT_EXTENSION,
  TELESANTE_CONSENT,
  TELESANTE_ENCOUNTER,
  TELESANTE_REPORT,
  V3_ACT_CODE,
  type ParticipantKind,
} from './act-coding.ts';
import { roleRef } from './act-directory.ts';
import type { Directory } from './act-directory.ts';
import { OFFER_IDENTIFIER_SYSTEM } from './offer-coding.ts';
import { put, ref, rewritable } from './transaction.ts';
import type { Ref, Write } from './transaction.ts';

export function identifierOf(act: Pick<Act, 'source' | 'actId'>, suffix: string): { system: string; value: string } {
  const id = actIdentifier(act, suffix);
  return { system: id.system ?? act.source, value: id.value ?? act.actId };
}

export function incidentExtension(incident: ActIncident): Extension {
  const parts: Extension[] = [
    { url: 'type', valueCodeableConcept: { coding: [{ system: INCIDENT_TYPE_SYSTEM, code: incident.type, display: INCIDENT_TYPE_DISPLAY[incident.type] }] } },
    { url: 'time', valueDateTime: incident.time },
  ];
  if (incident.description !== undefined) parts.push({ url: 'description', valueString: incident.description });
  parts.push({ url: 'effect', valueCodeableConcept: { coding: [{ system: INCIDENT_EFFECT_SYSTEM, code: incident.effect, display: INCIDENT_EFFECT_DISPLAY[incident.effect] }] } });
  return { url: TECHNICAL_INCIDENT_EXTENSION, extension: parts };
}

function participant(kind: ParticipantKind, individual: Ref): EncounterParticipant {
  return { type: [{ coding: [PARTICIPANT_CODING[kind]] }], individual };
}

function typeOf(act: Act): CodeableConcept {
  const national = actTypeCoding(act);
  if (national === undefined) throw new RangeError(`no national code for act type ${act.type}`);
  return { coding: [national], text: national.display };
}

export function encounterOf(act: Act, refs: { patient: Ref; directory: Directory }): Encounter {
  // Who may read the act: its structures, searchable as tags (act-structures.ts).
  const tags = careStructureTags(act);
  const extension: Extension[] = [
    { url: MODALITY_EXTENSION, valueCoding: { system: MODALITY_SYSTEM, code: act.modality, display: MODALITY_DISPLAY[act.modality] } },
  ];
  if (act.billingCode !== undefined) extension.push({ url: BILLING_CODE_EXTENSION, valueCoding: billingCoding(act.billingCode) });
  if (act.offerId !== undefined) {
    extension.push({ url: OFFER_EXTENSION, valueReference: { type: 'HealthcareService', identifier: { system: OFFER_IDENTIFIER_SYSTEM, value: act.offerId } } });
  }
  for (const incident of act.incidents ?? []) extension.push(incidentExtension(incident));
  const participants: EncounterParticipant[] = act.performers.map((p) => participant(p.role, roleRef(refs.directory, p.rpps)));
  if (act.requester !== undefined) participants.push(participant('requester', roleRef(refs.directory, act.requester.rpps)));
  if (act.onSiteAssistant !== undefined) participants.push(participant('on-site-assistant', roleRef(refs.directory, act.onSiteAssistant.rpps)));
  const encounter: Encounter = {
    resourceType: 'Encounter',
    meta: { profile: [TELESANTE_ENCOUNTER], ...(tags.length === 0 ? {} : { tag: tags }) },
    extension,
    identifier: [{ use: 'official', type: { coding: [{ system: FR_CORE_ENCOUNTER_IDENTIFIER_TYPE, code: 'VN', display: 'Visit Number' }] }, system: act.source, value: act.actId }],
    status: act.status,
    class: { system: V3_ACT_CODE, code: 'VR', display: 'virtual' },
    type: [typeOf(act)],
    subject: refs.patient,
    participant: participants,
    period: act.end === undefined ? { start: act.start } : { start: act.start, end: act.end },
  };
  const provider = act.performers.find((p) => p.finess !== undefined)?.finess;
  const organization = provider === undefined ? undefined : refs.directory.organizations.get(provider);
  if (organization !== undefined) encounter.serviceProvider = ref(organization);
  return encounter;
}

export function consentOf(act: Act, consent: NonNullable<Act['consent']>, refs: { patient: Ref; encounter: Ref; directory: Directory }): Consent {
  const given = consent.decision === 'given';
  const performer: Ref[] = [refs.patient];
  if (consent.collectedByRpps !== undefined) performer.push(roleRef(refs.directory, consent.collectedByRpps));
  return {
    resourceType: 'Consent',
    meta: { profile: [TELESANTE_CONSENT] },
    extension: [{ url: CONSENT_METHOD_EXTENSION, valueCoding: { system: CONSENT_METHOD_SYSTEM, code: consent.method, display: CONSENT_METHOD_DISPLAY[consent.method] } }],
    identifier: [actIdentifier(act, 'consent')],
    // A refusal is recorded, not dropped: status rejected and provision deny say it twice, for searches
    // on either. The policy stays OPTIN (the rule under which the act asks for consent, fixed by the profile).
    status: given ? 'active' : 'rejected',
    scope: { coding: [{ system: CONSENT_SCOPE, code: 'treatment', display: 'Treatment' }] },
    category: [{ coding: [{ ...CONSENT_LOINC }] }],
    patient: refs.patient,
    dateTime: consent.dateTime,
    performer,
    policyRule: { coding: [{ system: V3_ACT_CODE, code: 'OPTIN', display: 'opt-in' }] },
    provision: { type: given ? 'permit' : 'deny', data: [{ meaning: 'related', reference: refs.encounter }] },
  };
}

function base64Utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function reportContent(report: ActReport): DocumentReferenceContent[] {
  const title = report.title ?? 'Compte rendu de télémédecine';
  const main: DocumentReferenceContent =
    report.pdfBase64 !== undefined
      ? { attachment: { contentType: 'application/pdf', language: 'fr-FR', data: report.pdfBase64, title } }
      : // text/plain without parameters (the profile's mime binding); the bytes are always UTF-8.
        { attachment: { contentType: 'text/plain', language: 'fr-FR', data: base64Utf8(report.text ?? ''), title } };
  const extra = (report.attachments ?? []).map((a): DocumentReferenceContent => ({
    attachment: a.title === undefined ? { contentType: a.contentType, data: a.dataBase64 } : { contentType: a.contentType, data: a.dataBase64, title: a.title },
  }));
  return [main, ...extra];
}

export interface StoredAct {
  readonly encounter?: Encounter;
  readonly reports: readonly DocumentReference[];
  readonly byType: (type: string) => Resource[];
}

export function storedActOf(resources: readonly Resource[] | undefined): StoredAct {
  const list = resources ?? [];
  const byType = (type: string) => list.filter((r) => r.resourceType === type);
  return {
    encounter: byType('Encounter')[0] as Encounter | undefined,
    reports: byType('DocumentReference') as DocumentReference[],
    byType,
  };
}

function hasIdentifier(resource: { identifier?: Identifier[] }, system: string, value: string): boolean {
  return (resource.identifier ?? []).some((i) => i.system === system && i.value === value);
}

/**
 * The report's writes: the DocumentReference, and the reports it replaces marked superseded. A report is
 * known by `<actId>/report/<id>`; a different id while another report is current is an amendment
 * (relatesTo replaces, docStatus amended). A report already stored is written again as stored (status,
 * relatesTo), so that a repost never resurrects a superseded report nor drops a relation.
 */
export function reportWrites(
  act: Pick<Act, 'source' | 'actId' | 'start' | 'end'>,
  report: ActReport,
  stored: StoredAct,
  refs: { patient: Ref; encounter: Ref; author: Ref },
): Write[] {
  const key = identifierOf(act, `report/${reportKey(report)}`);
  const same = stored.reports.find((r) => hasIdentifier(r, key.system, key.value));
  const superseded: Write[] = [];
  if (same === undefined) {
    for (const old of stored.reports) {
      if (old.status !== 'current') continue;
      const oldKey = old.identifier?.find((i) => i.system === act.source && i.value?.startsWith(`${act.actId}/report/`));
      if (oldKey?.value === undefined) continue;
      superseded.push(put({ ...rewritable(old), status: 'superseded' }, { system: act.source, value: oldKey.value }));
    }
  }
  const document: DocumentReference = {
    resourceType: 'DocumentReference',
    meta: { profile: [TELESANTE_REPORT] },
    identifier: [{ system: key.system, value: key.value }],
    status: same?.status ?? 'current',
    docStatus: superseded.length > 0 || same?.docStatus === 'amended' ? 'amended' : 'final',
    type: { coding: [{ ...REPORT_LOINC }] },
    subject: refs.patient,
    date: report.date,
    author: [refs.author],
    description: report.title ?? 'Compte rendu de télémédecine',
    content: reportContent(report),
    context: { encounter: [refs.encounter], period: act.end === undefined ? { start: act.start } : { start: act.start, end: act.end } },
  };
  const relatesTo: DocumentReferenceRelatesTo[] | undefined =
    same !== undefined ? same.relatesTo : superseded.map((w) => ({ code: 'replaces', target: ref(w) }));
  if (relatesTo !== undefined && relatesTo.length > 0) document.relatesTo = relatesTo;
  return [put(document, key), ...superseded];
}

export function prescriptionWrite(act: Act, p: ActPrescription, index: number, refs: { patient: Ref; encounter: Ref; directory: Directory }): Write {
  const key = identifierOf(act, `prescription/${p.id ?? String(index + 1)}`);
  const authoredOn = p.date ?? act.end ?? act.start;
  const requester = roleRef(refs.directory, p.prescriberRpps);
  if (p.kind === 'medication') {
    const request: MedicationRequest = {
      resourceType: 'MedicationRequest',
      identifier: [{ system: key.system, value: key.value }],
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: p.text },
      subject: refs.patient,
      encounter: refs.encounter,
      authoredOn,
      requester,
    };
    if (p.dosage !== undefined) request.dosageInstruction = [{ text: p.dosage }];
    return put(request, key);
  }
  const request: ServiceRequest = {
    resourceType: 'ServiceRequest',
    identifier: [{ system: key.system, value: key.value }],
    status: 'active',
    intent: 'order',
    code: { text: p.text },
    subject: refs.patient,
    encounter: refs.encounter,
    authoredOn,
    requester,
  };
  const category = PRESCRIPTION_CATEGORY[p.kind];
  request.category = [category === undefined ? { text: PRESCRIPTION_LABEL[p.kind] } : { coding: [category], text: PRESCRIPTION_LABEL[p.kind] }];
  if (p.dosage !== undefined) request.patientInstruction = p.dosage;
  return put(request, key);
}

export function incidentWrite(act: Act, incident: ActIncident, index: number, refs: { patient: Ref; encounter: Ref }): Write {
  const key = identifierOf(act, `incident/${index + 1}`);
  const observation: Observation = {
    resourceType: 'Observation',
    identifier: [{ system: key.system, value: key.value }],
    status: 'final',
    code: { coding: [{ system: INCIDENT_TYPE_SYSTEM, code: incident.type, display: INCIDENT_TYPE_DISPLAY[incident.type] }], text: INCIDENT_TYPE_DISPLAY[incident.type] },
    subject: refs.patient,
    encounter: refs.encounter,
    effectiveDateTime: incident.time,
    valueCodeableConcept: { coding: [{ system: INCIDENT_EFFECT_SYSTEM, code: incident.effect, display: INCIDENT_EFFECT_DISPLAY[incident.effect] }] },
  };
  if (incident.description !== undefined) observation.note = [{ text: incident.description }];
  return put(observation, key);
}

/** How many incidents the stored Encounter lists: the Observations past the new count are deleted. */
export function storedIncidentCount(stored: StoredAct): number {
  return (stored.encounter?.extension ?? []).filter((e) => e.url === TECHNICAL_INCIDENT_EXTENSION).length;
}
