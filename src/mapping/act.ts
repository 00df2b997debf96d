// A telemedicine or telecare act (issue 6) as one FHIR transaction with the traceability CSP R6316-4
// asks for. Pure and deterministic: no clock (the caller passes `receivedAt`), urn:uuid fullUrls derived
// from business identifiers, so that the same act gives byte-identical bundles.
//
// Every write is conditional on a business identifier derived from (source, actId):
// - PUT `Type?identifier=…` for what the act owns and may change: Patient (on the IPP), PractitionerRole,
//   Encounter, Consent, DocumentReference, MedicationRequest/ServiceRequest, incident Observations;
// - POST with ifNoneExist for Practitioner (idNatPs) and Organization (FINESS): directory data (RPPS,
//   FINESS, the offers' ROR feed) that a DPI message must create when missing but never overwrite;
// - POST with ifNoneExist for the Provenance, keyed by the hash of the act content: a repost of the same
//   act is a no-op, a changed act adds one Provenance. R4 Provenance has no `identifier`: the key
//   `{ system: <source>, code: '<actId>/provenance/<hash>' }` is a meta.tag (searchable by `_tag` on
//   every server) and the same key is in entity.what.identifier as `<actId>#<hash>`.
//
// Where R6316-4's five items are found, from the Provenance: 1° the report = target DocumentReference;
// 2° the act and prescriptions = target Encounter, MedicationRequest, ServiceRequest; 3° the
// professionals = agent (type = their role in the act); 4° date and time = occurredPeriod; 5° incidents =
// the technicalIncident extensions and the target incident Observations.
import type {
  Bundle,
  BundleEntry,
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
  Organization,
  Practitioner,
  PractitionerRole,
  Provenance,
  ProvenanceAgent,
  Reference,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { INS_OIDS } from '../ins/index.ts';
import type { Act, ActCancellation, ActIncident, ActIssue, ActPrescription, ActProfessional, ActReport, ActType } from '../model/act.ts';
import { checkAct, professionalsOf, type ActCheckOptions } from './act-check.ts';
import {
  actIdentifier,
  actTypeCoding,
  actTypeCodings,
  BILLING_CODE_EXTENSION,
  billingCoding,
  CONSENT_LOINC,
  CONSENT_METHOD_DISPLAY,
  CONSENT_METHOD_EXTENSION,
  CONSENT_METHOD_SYSTEM,
  CONSENT_SCOPE,
  contentHash,
  FR_CORE_ENCOUNTER_IDENTIFIER_TYPE,
  identifierQuery,
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
  PROFESSION_CODE,
  PROVENANCE_PARTICIPANT_TYPE,
  REPORT_LOINC,
  reportKey,
  ACT_ROLE_IDENTIFIER_SYSTEM,
  roleValue,
  stableUuid,
  TECHNICAL_INCIDENT_EXTENSION,
  TELESANTE_CONSENT,
  TELESANTE_ENCOUNTER,
  TELESANTE_PROVENANCE,
  TELESANTE_REPORT,
  tokenQuery,
  URI_SYSTEM,
  V3_ACT_CODE,
  V3_DATA_OPERATION,
  type ParticipantKind,
} from './act-coding.ts';
import { OFFER_IDENTIFIER_SYSTEM } from './offer-coding.ts';
import { CODE_SETS } from './codes/index.ts';
import { toFrCorePatient } from './patient.ts';
import { FINESS_SYSTEM, FR_CORE_IDENTIFIER_TYPE, FR_CORE_ORGANIZATION, FR_CORE_PRACTITIONER, FR_CORE_PRACTITIONER_ROLE, ID_NAT_PS_SYSTEM, ID_NAT_ST_SYSTEM, RPPS_SYSTEM } from './fr-core.ts';

/**
 * A reference that fits every typed Reference<T> slot: medplum types narrow `resource`, which we never
 * fill (the reference is a urn:uuid, a Type/id or a logical identifier).
 */
type Ref = Reference<never>;


export interface ActMappingOptions extends ActCheckOptions {
  /** FHIR instant at which the service received the message: Provenance.recorded, nothing else. */
  readonly receivedAt: string;
  /**
   * What the store holds for this act (the answer to actReadSearch), when it exists: makes the
   * Provenance an UPDATE, supersedes a report replaced by another one, deletes incidents no longer sent.
   */
  readonly existing?: readonly Resource[];
}

export interface ActMapping {
  readonly bundle: Bundle;
  /** The checkAct warnings (report missing, INS not shared…), for the 2xx answer. */
  readonly warnings: readonly ActIssue[];
  /** First 16 hex digits of the SHA-256 of the canonical content written: the Provenance key. */
  readonly hash: string;
  /** `Provenance?` + this finds the Provenance of this write. */
  readonly provenanceSearch: string;
}

/** The act breaks a business rule; `issues` holds every one (checkAct). Answer 422. */
export class InvalidActError extends Error {
  readonly issues: readonly ActIssue[];
  constructor(issues: readonly ActIssue[]) {
    super(`invalid act: ${issues.map((i) => `${i.field}: ${i.code}`).join(', ')}`);
    this.name = 'InvalidActError';
    this.issues = issues;
  }
}

/** Nothing is stored for this act (toReportAmendment, toCancellation): answer 404. */
export class UnknownActError extends Error {
  constructor(message = "Aucun acte n'est enregistré sous cet identifiant.") {
    super(message);
    this.name = 'UnknownActError';
  }
}

/** `Encounter?` + this finds the act's Encounter. */
export function actSearch(source: string, actId: string): string {
  return identifierQuery(source, actId);
}

/**
 * `Encounter?` + this reads an act back with everything actFromFhir, toReportAmendment and toCancellation
 * need, in one search.
 */
export function actReadSearch(source: string, actId: string): string {
  return [
    actSearch(source, actId),
    '_include=Encounter:subject',
    '_include=Encounter:participant',
    '_include=Encounter:service-provider',
    '_include:iterate=PractitionerRole:practitioner',
    '_include:iterate=PractitionerRole:organization',
    '_revinclude=DocumentReference:encounter',
    '_revinclude=Consent:data',
    '_revinclude=MedicationRequest:encounter',
    '_revinclude=ServiceRequest:encounter',
    '_revinclude=Observation:encounter',
    '_revinclude=Provenance:target',
  ].join('&');
}

/** `Encounter?` + this keeps only telehealth acts: toActBundle writes every act as a virtual encounter (VR). */
export function actClassSearch(): string {
  return tokenQuery('class', [{ system: V3_ACT_CODE, code: 'VR' }]);
}

/** `Encounter?` + this finds the acts of a type, whatever their delay (téléexpertise) or programme (télésurveillance). */
export function actTypeSearch(type: ActType): string {
  return tokenQuery(
    'type',
    actTypeCodings(type).map((coding) => ({ system: coding.system ?? '', code: coding.code ?? '' })),
  );
}

/** `Patient?` + this finds the patient who carries this INS, under any INS OID (NIR, NIA, test, demo). */
export function insPatientSearch(ins: string): string {
  return tokenQuery(
    'identifier',
    Object.values(INS_OIDS).map((system) => ({ system, code: ins })),
  );
}

/** `Organization?` + this finds the structure an act names by its FINESS (the key toActBundle creates it on). */
export function finessOrganizationSearch(finess: string): string {
  return identifierQuery(FINESS_SYSTEM, finess);
}

// --- entries -------------------------------------------------------------------------------------------

type Method = 'PUT' | 'POST';
interface Write {
  readonly fullUrl: string;
  readonly resource: Resource;
  readonly method: Method;
  /** PUT: `Type?identifier=…`; POST: the ifNoneExist query. */
  readonly query: string;
}

function put(resource: Resource, identifier: { system: string; value: string }): Write {
  const query = identifierQuery(identifier.system, identifier.value);
  return { fullUrl: stableUuid(`${resource.resourceType}?${query}`), resource, method: 'PUT', query };
}

function createOnce(resource: Resource, query: string): Write {
  return { fullUrl: stableUuid(`${resource.resourceType}?${query}`), resource, method: 'POST', query };
}

function entryOf(write: Write): BundleEntry {
  const type = write.resource.resourceType;
  return {
    fullUrl: write.fullUrl,
    resource: write.resource,
    request: write.method === 'PUT' ? { method: 'PUT', url: `${type}?${write.query}` } : { method: 'POST', url: type, ifNoneExist: write.query },
  };
}

function ref(write: Write, display?: string): Ref {
  const reference: Ref = { reference: write.fullUrl, type: write.resource.resourceType };
  if (display !== undefined) reference.display = display;
  return reference;
}

function identifierOf(act: Pick<Act, 'source' | 'actId'>, suffix: string): { system: string; value: string } {
  const id = actIdentifier(act, suffix);
  return { system: id.system ?? act.source, value: id.value ?? act.actId };
}

function displayName(p: ActProfessional): string {
  return p.givenName === undefined ? p.familyName : `${p.givenName} ${p.familyName}`;
}

// --- directory: Organizations, Practitioners, PractitionerRoles ------------------------------------------

function organizationOf(finess: string, name: string | undefined): Organization {
  const organization: Organization = {
    resourceType: 'Organization',
    meta: { profile: [FR_CORE_ORGANIZATION] },
    identifier: [
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'FINEG', display: "FINESS d'entité géographique" }] }, system: FINESS_SYSTEM, value: finess },
      // idNatSt prefix 1 = FINESS.
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'IDNST', display: 'Identification nationale de structure' }] }, system: ID_NAT_ST_SYSTEM, value: `1${finess}` },
    ],
  };
  if (name !== undefined) organization.name = name;
  return organization;
}

function practitionerOf(p: ActProfessional): Practitioner {
  return {
    resourceType: 'Practitioner',
    meta: { profile: [FR_CORE_PRACTITIONER] },
    identifier: [
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'IDNPS', display: 'Identifiant National de Professionnel de Santé' }] }, system: ID_NAT_PS_SYSTEM, value: `8${p.rpps}` },
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'RPPS', display: 'N° RPPS' }] }, system: RPPS_SYSTEM, value: p.rpps },
    ],
    name: [{ family: p.familyName, ...(p.givenName === undefined ? {} : { given: [p.givenName] }) }],
  };
}

interface Directory {
  readonly writes: Write[];
  /** PractitionerRole write by RPPS (one exercise situation per professional in an act). */
  readonly roles: Map<string, Write>;
  readonly organizations: Map<string, Write>;
}

function directoryOf(professionals: readonly ActProfessional[]): Directory {
  const organizations = new Map<string, Write>();
  const practitioners = new Map<string, Write>();
  const roles = new Map<string, Write>();
  for (const p of professionals) {
    if (p.finess !== undefined && !organizations.has(p.finess)) {
      organizations.set(p.finess, createOnce(organizationOf(p.finess, p.structureName), identifierQuery(FINESS_SYSTEM, p.finess)));
    }
    if (!practitioners.has(p.rpps)) practitioners.set(p.rpps, createOnce(practitionerOf(p), identifierQuery(ID_NAT_PS_SYSTEM, `8${p.rpps}`)));
  }
  for (const p of professionals) {
    if (roles.has(p.rpps)) continue;
    const practitioner = practitioners.get(p.rpps);
    const organization = p.finess === undefined ? undefined : organizations.get(p.finess);
    const key = roleValue(p.rpps, p.finess);
    const g15 = CODE_SETS.profession;
    const code = PROFESSION_CODE[p.profession];
    const role: PractitionerRole = {
      resourceType: 'PractitionerRole',
      meta: { profile: [FR_CORE_PRACTITIONER_ROLE] },
      identifier: [{ system: ACT_ROLE_IDENTIFIER_SYSTEM, value: key }],
      active: true,
      code: [{ coding: [{ system: g15.system, code, display: g15.concepts[code]?.display ?? code }] }],
    };
    if (practitioner !== undefined) role.practitioner = ref(practitioner, displayName(p));
    if (organization !== undefined) role.organization = ref(organization, p.structureName);
    roles.set(p.rpps, put(role, { system: ACT_ROLE_IDENTIFIER_SYSTEM, value: key }));
  }
  // Sorted by key so that reordering professionals in the message does not reorder the bundle.
  const sorted = (m: Map<string, Write>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w);
  return { writes: [...sorted(organizations), ...sorted(practitioners), ...sorted(roles)], roles, organizations };
}

function roleRef(directory: Directory, rpps: string): Ref {
  const role = directory.roles.get(rpps);
  if (role === undefined) throw new RangeError(`no PractitionerRole for RPPS ${rpps}`);
  return ref(role);
}

// --- the act ----------------------------------------------------------------------------------------------

function incidentExtension(incident: ActIncident): Extension {
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

function encounterOf(act: Act, refs: { patient: Ref; directory: Directory }): Encounter {
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
    meta: { profile: [TELESANTE_ENCOUNTER] },
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

function consentOf(act: Act, consent: NonNullable<Act['consent']>, refs: { patient: Ref; encounter: Ref; directory: Directory }): Consent {
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

interface StoredAct {
  readonly encounter?: Encounter;
  readonly reports: readonly DocumentReference[];
  readonly byType: (type: string) => Resource[];
}

function storedActOf(resources: readonly Resource[] | undefined): StoredAct {
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

/** A stored resource prepared for a conditional rewrite: server-assigned fields dropped. */
function rewritable<T extends Resource>(stored: T): T {
  const copy = structuredClone(stored);
  delete copy.id;
  if (copy.meta !== undefined) copy.meta = copy.meta.profile === undefined ? {} : { profile: copy.meta.profile };
  if (copy.meta !== undefined && Object.keys(copy.meta).length === 0) delete copy.meta;
  return copy;
}

/**
 * The report's writes: the DocumentReference, and the reports it replaces marked superseded. A report is
 * known by `<actId>/report/<id>`; a different id while another report is current is an amendment
 * (relatesTo replaces, docStatus amended). A report already stored is written again as stored (status,
 * relatesTo), so that a repost never resurrects a superseded report nor drops a relation.
 */
function reportWrites(
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

function prescriptionWrite(act: Act, p: ActPrescription, index: number, refs: { patient: Ref; encounter: Ref; directory: Directory }): Write {
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

function incidentWrite(act: Act, incident: ActIncident, index: number, refs: { patient: Ref; encounter: Ref }): Write {
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

function professionalAgent(kind: ParticipantKind, p: ActProfessional, directory: Directory): ProvenanceAgent {
  const out: ProvenanceAgent = { type: { coding: [PARTICIPANT_CODING[kind]] }, who: { ...roleRef(directory, p.rpps), display: displayName(p) } };
  const organization = p.finess === undefined ? undefined : directory.organizations.get(p.finess);
  if (organization !== undefined) out.onBehalfOf = ref(organization);
  return out;
}

/** The role a professional holds in the act: performer role first, then requester, then assistant. */
function kindOf(act: Act, rpps: string): ParticipantKind {
  const performer = act.performers.find((p) => p.rpps === rpps);
  if (performer !== undefined) return performer.role;
  return act.requester?.rpps === rpps ? 'requester' : 'on-site-assistant';
}

function agentsOf(act: Act, directory: Directory): ProvenanceAgent[] {
  const agents = act.performers.map((p) => professionalAgent(p.role, p, directory));
  if (act.requester !== undefined) agents.push(professionalAgent('requester', act.requester, directory));
  if (act.onSiteAssistant !== undefined) agents.push(professionalAgent('on-site-assistant', act.onSiteAssistant, directory));
  agents.push(sourceAgent(act.source));
  return agents;
}

/** The source system (DPI/DUI) that assembled the message: a logical Device named by its URI. */
function sourceAgent(source: string): ProvenanceAgent {
  return {
    type: { coding: [{ system: PROVENANCE_PARTICIPANT_TYPE, code: 'assembler', display: 'Assembler' }] },
    who: { type: 'Device', identifier: { system: URI_SYSTEM, value: source }, display: 'Système source (DPI/DUI)' },
  };
}

/** The tag that keys a Provenance for its conditional create (R4 Provenance has no identifier). */
export function provenanceTag(source: string, actId: string, hash: string): { system: string; code: string } {
  return { system: source, code: `${actId}/provenance/${hash}` };
}

function provenanceSearchOf(source: string, actId: string, hash: string): string {
  const tag = provenanceTag(source, actId, hash);
  return identifierQuery(tag.system, tag.code).replace(/^identifier=/, '_tag=');
}

interface ProvenanceInput {
  readonly act: Pick<Act, 'source' | 'actId' | 'start' | 'end' | 'incidents'>;
  readonly hash: string;
  readonly receivedAt: string;
  readonly activity: 'CREATE' | 'UPDATE' | 'CANCEL' | 'NULLIFY';
  readonly targets: readonly Ref[];
  readonly agents: readonly ProvenanceAgent[];
  readonly reason?: string;
}

const ACTIVITY_DISPLAY = { CREATE: 'create', UPDATE: 'revise', CANCEL: 'cancel', NULLIFY: 'nullify' } as const;

function provenanceWrite(input: ProvenanceInput): Write {
  const { act, hash } = input;
  const tag = provenanceTag(act.source, act.actId, hash);
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: { profile: [TELESANTE_PROVENANCE], tag: [{ system: tag.system, code: tag.code }] },
    target: [...input.targets],
    occurredPeriod: act.end === undefined ? { start: act.start } : { start: act.start, end: act.end },
    recorded: input.receivedAt,
    activity: { coding: [{ system: V3_DATA_OPERATION, code: input.activity, display: ACTIVITY_DISPLAY[input.activity] }] },
    agent: [...input.agents],
    // The message itself is not stored (it carries personal data): its fingerprint names it.
    entity: [{ role: 'source', what: { identifier: { system: act.source, value: `${act.actId}#${hash}` }, display: 'message DPI' } }],
  };
  const incidents = (act.incidents ?? []).map(incidentExtension);
  if (incidents.length > 0) provenance.extension = incidents;
  if (input.reason !== undefined) provenance.reason = [{ text: input.reason }];
  return createOnce(provenance, provenanceSearchOf(act.source, act.actId, hash));
}

function bundleOf(writes: readonly Write[], deletes: readonly string[] = []): Bundle {
  const entry = writes.map(entryOf);
  for (const url of deletes) entry.push({ request: { method: 'DELETE', url } });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** How many incidents the stored Encounter lists: the Observations past the new count are deleted. */
function storedIncidentCount(stored: StoredAct): number {
  return (stored.encounter?.extension ?? []).filter((e) => e.url === TECHNICAL_INCIDENT_EXTENSION).length;
}

/**
 * The act as one transaction: Organizations, Practitioners, PractitionerRoles, Patient, Encounter,
 * Consent, report (and the reports it supersedes), prescriptions, incident Observations, then the
 * Provenance that targets all of them. Throws InvalidActError when checkAct finds an error.
 */
export function toActBundle(act: Act, options: ActMappingOptions): ActMapping {
  const issues = checkAct(act, options);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new InvalidActError(errors);
  const stored = storedActOf(options.existing);

  const directory = directoryOf(professionalsOf(act).map((p) => p.professional));
  const patientMapping = toFrCorePatient(act.patient, options);
  const ipp = act.patient.ipp;
  const patient = put(patientMapping.patient, { system: ipp.system, value: ipp.value });
  const patientRef = ref(patient);

  const encounterKey = { system: act.source, value: act.actId };
  // The Encounter's fullUrl is known before the Encounter is built: Consent and report point at it.
  const encounterFullUrl = stableUuid(`Encounter?${identifierQuery(encounterKey.system, encounterKey.value)}`);
  const encounterRef: Ref = { reference: encounterFullUrl, type: 'Encounter' };
  const encounter = put(encounterOf(act, { patient: patientRef, directory }), encounterKey);

  const writes: Write[] = [...directory.writes, patient, encounter];
  if (act.consent !== undefined) {
    writes.push(put(consentOf(act, act.consent, { patient: patientRef, encounter: encounterRef, directory }), identifierOf(act, 'consent')));
  }
  if (act.report !== undefined) {
    writes.push(...reportWrites(act, act.report, stored, { patient: patientRef, encounter: encounterRef, author: roleRef(directory, act.report.authorRpps) }));
  }
  (act.prescriptions ?? []).forEach((p, i) => writes.push(prescriptionWrite(act, p, i, { patient: patientRef, encounter: encounterRef, directory })));
  const incidents = act.incidents ?? [];
  incidents.forEach((incident, i) => writes.push(incidentWrite(act, incident, i, { patient: patientRef, encounter: encounterRef })));
  const deletes: string[] = [];
  for (let n = incidents.length + 1; n <= storedIncidentCount(stored); n += 1) {
    const key = identifierOf(act, `incident/${n}`);
    deletes.push(`Observation?${identifierQuery(key.system, key.value)}`);
  }

  const hash = contentHash(act);
  const provenance = provenanceWrite({
    act,
    hash,
    receivedAt: options.receivedAt,
    activity: stored.encounter === undefined ? 'CREATE' : 'UPDATE',
    targets: writes.map((w) => ref(w)),
    agents: agentsOf(act, directory),
  });
  return {
    bundle: bundleOf([...writes, provenance], deletes),
    warnings: issues,
    hash,
    provenanceSearch: provenanceSearchOf(act.source, act.actId, hash),
  };
}

function storedReference(resource: Resource | undefined): Ref | undefined {
  if (resource?.id === undefined) return undefined;
  return { reference: `${resource.resourceType}/${resource.id}`, type: resource.resourceType };
}

/**
 * A report sent later or amended (PUT /v1/acts/{source}/{actId}/report): the new DocumentReference
 * (relatesTo replaces the current one, which becomes superseded), the author's directory entries, and a
 * Provenance (UPDATE) keyed by the report's content, so that sending the same report again is a no-op.
 * `act` is the act as stored (actFromFhir), for the author's details; `existing` is the actReadSearch answer.
 */
export function toReportAmendment(act: Act, report: ActReport, existing: readonly Resource[], options: { readonly receivedAt: string }): ActMapping {
  const stored = storedActOf(existing);
  const encounterRef = storedReference(stored.encounter);
  const subject = stored.encounter?.subject?.reference;
  if (encounterRef === undefined || subject === undefined) throw new UnknownActError();
  const patientRef: Ref = { reference: subject, type: 'Patient' };
  const author = professionalsOf(act).find((p) => p.professional.rpps === report.authorRpps)?.professional;
  if (author === undefined) {
    throw new InvalidActError([
      {
        severity: 'error',
        code: 'ACT_PROFESSIONAL_UNKNOWN',
        field: 'authorRpps',
        message: `L'auteur du compte rendu (RPPS ${report.authorRpps}) n'est pas un professionnel de l'acte.`,
      },
    ]);
  }
  const directory = directoryOf([author]);
  const reports = reportWrites(act, report, stored, { patient: patientRef, encounter: encounterRef, author: roleRef(directory, author.rpps) });
  const hash = contentHash({ report });
  const writes = [...directory.writes, ...reports];
  const provenance = provenanceWrite({
    act: { ...act, incidents: [] },
    hash,
    receivedAt: options.receivedAt,
    activity: 'UPDATE',
    targets: [encounterRef, ...reports.map((w) => ref(w))],
    agents: [professionalAgent(kindOf(act, author.rpps), author, directory), sourceAgent(act.source)],
    reason: 'Compte rendu transmis ou modifié',
  });
  return { bundle: bundleOf([...writes, provenance]), warnings: [], hash, provenanceSearch: provenanceSearchOf(act.source, act.actId, hash) };
}

const CANCELLED_STATUS = {
  cancelled: { MedicationRequest: 'cancelled', ServiceRequest: 'revoked' },
  'entered-in-error': { MedicationRequest: 'entered-in-error', ServiceRequest: 'entered-in-error' },
} as const;

/**
 * A cancelled or erroneous act (DELETE /v1/acts/{source}/{actId} with a reason): nothing is deleted, the
 * record of the act must stay. The Encounter takes status cancelled or entered-in-error; for
 * entered-in-error its report, consent, prescriptions and incidents are marked entered-in-error too; for
 * cancelled the prescriptions are withdrawn (cancelled / revoked). A Provenance (CANCEL or NULLIFY) keeps
 * the reason. Sending the same cancellation again changes nothing.
 */
export function toCancellation(existing: readonly Resource[], cancellation: ActCancellation, receivedAt: string): ActMapping {
  const stored = storedActOf(existing);
  const encounter = stored.encounter;
  const key = encounter?.identifier?.find((i) => i.system !== undefined && i.value !== undefined);
  if (encounter === undefined || key?.system === undefined || key.value === undefined) throw new UnknownActError();
  const act = { source: key.system, actId: key.value };
  const status = cancellation.status ?? 'cancelled';
  const writes: Write[] = [put({ ...rewritable(encounter), status }, { system: act.source, value: act.actId })];
  const keyOf = (r: { identifier?: Identifier[] }) => r.identifier?.find((i) => i.system === act.source && i.value?.startsWith(`${act.actId}/`))?.value;
  for (const type of ['MedicationRequest', 'ServiceRequest'] as const) {
    for (const r of stored.byType(type) as (MedicationRequest | ServiceRequest)[]) {
      const value = keyOf(r);
      if (value !== undefined) writes.push(put({ ...rewritable(r), status: CANCELLED_STATUS[status][type] } as Resource, { system: act.source, value }));
    }
  }
  if (status === 'entered-in-error') {
    for (const type of ['DocumentReference', 'Consent', 'Observation'] as const) {
      for (const r of stored.byType(type) as (DocumentReference | Consent | Observation)[]) {
        const value = keyOf(r);
        if (value !== undefined) writes.push(put({ ...rewritable(r), status: 'entered-in-error' } as Resource, { system: act.source, value }));
      }
    }
  }
  const hash = contentHash({ cancellation: { reason: cancellation.reason, status } });
  const period = encounter.period ?? {};
  const provenance = provenanceWrite({
    act: { ...act, start: period.start ?? receivedAt, end: period.end, incidents: [] },
    hash,
    receivedAt,
    activity: status === 'cancelled' ? 'CANCEL' : 'NULLIFY',
    targets: writes.map((w) => ref(w)),
    agents: [sourceAgent(act.source)],
    reason: cancellation.reason,
  });
  return { bundle: bundleOf([...writes, provenance]), warnings: [], hash, provenanceSearch: provenanceSearchOf(act.source, act.actId, hash) };
}
