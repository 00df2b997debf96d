// FHIR → our act JSON, for GET /v1/acts/{source}/{actId}: the answer of actReadSearch (Encounter with
// its included and revincluded resources) read back into an Act. Best effort, and what round-trips:
// - everything toActBundle writes comes back as sent, except:
//   · a report or prescription sent without `id` comes back with the id derived when it was stored
//     (`r-<hash>` for a report, the position `1`, `2`… for a prescription): sending the act back unchanged
//     still hits the same identifiers;
//   · the report returned is the current one (a superseded report is history, reachable in FHIR);
//   · the patient is the Patient as stored, which another act may have updated since (same IPP);
//   · professionals are read from the stored PractitionerRole/Practitioner/Organization: the directory
//     copy (created once, never overwritten by an act) wins over the names this act sent.
import type {
  Consent,
  DocumentReference,
  Encounter,
  Extension,
  Identifier,
  MedicationRequest,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { INS_OIDS } from '../ins/index.ts';
import type {
  Act,
  ActAttachment,
  ActConsent,
  ActIncident,
  ActPatient,
  ActPerformer,
  ActPrescription,
  ActProfessional,
  ActReport,
  ActStatus,
  ActType,
  ConsentMethod,
  IncidentEffect,
  IncidentType,
  Profession,
} from '../model/act.ts';
import { ACT_STATUSES, CONSENT_METHODS, INCIDENT_EFFECTS, INCIDENT_TYPES } from '../model/act.ts';
import {
  actTypeOfCoding,
  BILLING_ACT_SYSTEM,
  BILLING_CODE_EXTENSION,
  CONSENT_METHOD_EXTENSION,
  MODALITY_EXTENSION,
  OFFER_EXTENSION,
  participantKindOf,
  PRESCRIPTION_CATEGORY,
  PROFESSION_CODE,
  TECHNICAL_INCIDENT_EXTENSION,
} from './act-coding.ts';
import { OFFER_IDENTIFIER_SYSTEM } from './offer-coding.ts';
import { BIRTH_LIST_GIVEN_NAME, IDENTITY_RELIABILITY, METHOD_COLLECTION, PATIENT_BIRTH_PLACE } from './patient.ts';
import { FINESS_SYSTEM, identifierValue, rppsIn } from './fr-core.ts';

/** The resources do not hold a readable act (no Encounter, no act identifier, unknown codes). */
export class UnreadableActError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableActError';
  }
}

type Index = ReadonlyMap<string, Resource>;

function indexOf(resources: readonly Resource[]): Index {
  const index = new Map<string, Resource>();
  for (const r of resources) if (r.id !== undefined) index.set(`${r.resourceType}/${r.id}`, r);
  return index;
}

function resolve<T extends Resource>(index: Index, reference: Reference | undefined, type: T['resourceType']): T | undefined {
  const target = reference?.reference;
  if (target === undefined) return undefined;
  // Servers may answer absolute references: keep the Type/id tail.
  const tail = target.split('/').slice(-2).join('/');
  const found = index.get(tail);
  return found?.resourceType === type ? (found as T) : undefined;
}

function sub(extension: Extension, url: string): Extension | undefined {
  return extension.extension?.find((e) => e.url === url);
}

function oneOf<T extends string>(values: readonly T[], value: string | undefined): T | undefined {
  return value !== undefined && (values as readonly string[]).includes(value) ? (value as T) : undefined;
}

const PROFESSION_OF_CODE = new Map<string, Profession>(Object.entries(PROFESSION_CODE).map(([k, v]) => [v, k as Profession]));

function professionalOf(index: Index, reference: Reference | undefined): ActProfessional | undefined {
  const role = resolve<PractitionerRole>(index, reference, 'PractitionerRole');
  if (role === undefined) return undefined;
  const practitioner = resolve<Practitioner>(index, role.practitioner, 'Practitioner');
  const ids = practitioner?.identifier ?? [];
  const rpps = rppsIn(ids);
  const profession = PROFESSION_OF_CODE.get(role.code?.[0]?.coding?.[0]?.code ?? '');
  const name = practitioner?.name?.[0];
  if (rpps === undefined || profession === undefined || name?.family === undefined) return undefined;
  const organization = resolve<Organization>(index, role.organization, 'Organization');
  const finess = organization?.identifier?.find((i) => i.system === FINESS_SYSTEM)?.value;
  return {
    rpps,
    familyName: name.family,
    ...(name.given?.[0] === undefined ? {} : { givenName: name.given[0] }),
    profession,
    ...(finess === undefined ? {} : { finess }),
    ...(organization?.name === undefined ? {} : { structureName: organization.name }),
  };
}

/** The act's patient from its FR Core Patient; throws UnreadableActError without one or without an IPP. */
export function patientOf(patient: Patient | undefined): ActPatient {
  if (patient === undefined) throw new UnreadableActError("Le patient de l'acte est introuvable.");
  const ids = patient.identifier ?? [];
  const insOids = new Set<string>(Object.values(INS_OIDS));
  const ins = ids.find((i) => i.system !== undefined && insOids.has(i.system));
  const ipp = ids.find((i) => i.type?.coding?.some((c) => c.code === 'PI'));
  if (ipp?.system === undefined || ipp.value === undefined) throw new UnreadableActError("Le patient n'a pas d'IPP.");
  const reliability = patient.extension?.find((e) => e.url === IDENTITY_RELIABILITY);
  const statusCode = reliability === undefined ? undefined : sub(reliability, 'identityStatus')?.valueCoding?.code;
  // FR Core 2.2.0-ballot-2 codes (mapping/patient.ts): VALI with the INS is QUAL, VIDE is RECUP.
  const identityStatus = statusCode === 'VALI' ? (ins === undefined ? 'VALI' : 'QUAL') : statusCode === 'VIDE' ? 'RECUP' : 'PROV';
  const methodCode = reliability === undefined ? undefined : sub(reliability, 'methodCollection')?.valueCoding?.code;
  const methodCollection = methodCode !== undefined && Object.hasOwn(METHOD_COLLECTION, methodCode) ? (methodCode as keyof typeof METHOD_COLLECTION) : undefined;
  const official = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const usual = patient.name?.find((n) => n.use === 'usual');
  const list = official?.extension?.find((e) => e.url === BIRTH_LIST_GIVEN_NAME)?.valueString;
  const birthplace = patient.extension?.find((e) => e.url === PATIENT_BIRTH_PLACE)?.valueAddress?.extension?.[0]?.valueCoding?.code;
  const gender = patient.gender === 'male' || patient.gender === 'female' || patient.gender === 'other' ? patient.gender : 'unknown';
  return {
    ...(ins?.value === undefined ? {} : { ins: ins.value, insOid: ins.system }),
    identityStatus,
    // INSI is what the mapping assumes for RECUP and QUAL when the sender gave none: not sent back then.
    ...(methodCollection === undefined || (methodCollection === 'INSI' && (identityStatus === 'QUAL' || identityStatus === 'RECUP')) ? {} : { methodCollection }),
    traits: {
      birthFamilyName: official?.family ?? '',
      birthGivenNames: list !== undefined ? list.split(' ') : (official?.given ?? []),
      birthDate: patient.birthDate ?? '',
      sex: gender,
      ...(birthplace === undefined ? {} : { birthplaceCode: birthplace }),
      ...(usual?.family === undefined ? {} : { usedFamilyName: usual.family }),
      ...(usual?.given?.[0] === undefined ? {} : { usedGivenName: usual.given[0] }),
    },
    ipp: { system: ipp.system, value: ipp.value },
  };
}

/** An incident from our technical-incident extension; undefined when a part is missing or unknown. */
export function incidentOf(extension: Extension): ActIncident | undefined {
  const type = oneOf<IncidentType>(INCIDENT_TYPES, sub(extension, 'type')?.valueCodeableConcept?.coding?.[0]?.code);
  const effect = oneOf<IncidentEffect>(INCIDENT_EFFECTS, sub(extension, 'effect')?.valueCodeableConcept?.coding?.[0]?.code);
  const time = sub(extension, 'time')?.valueDateTime;
  if (type === undefined || effect === undefined || time === undefined) return undefined;
  const description = sub(extension, 'description')?.valueString;
  return { type, time, ...(description === undefined ? {} : { description }), effect };
}

function rppsOf(index: Index, reference: Reference | undefined): string | undefined {
  return professionalOf(index, reference)?.rpps;
}

function reportOf(index: Index, doc: DocumentReference, source: string, actId: string): ActReport | undefined {
  const [main, ...rest] = doc.content ?? [];
  const authorRpps = rppsOf(index, doc.author?.[0]);
  if (main === undefined || authorRpps === undefined || doc.date === undefined) return undefined;
  const id = identifierValue(doc.identifier, source, `${actId}/report/`);
  const body =
    main.attachment.contentType === 'application/pdf'
      ? { pdfBase64: main.attachment.data ?? '' }
      : { text: Buffer.from(main.attachment.data ?? '', 'base64').toString('utf8') };
  const attachments = rest.flatMap((c): ActAttachment[] => {
    const type = c.attachment.contentType;
    if ((type !== 'image/jpeg' && type !== 'image/png' && type !== 'application/pdf') || c.attachment.data === undefined) return [];
    return [{ contentType: type, dataBase64: c.attachment.data, ...(c.attachment.title === undefined ? {} : { title: c.attachment.title }) }];
  });
  return {
    ...(id === undefined || id.startsWith('r-') ? {} : { id }),
    ...body,
    ...(main.attachment.title === undefined || main.attachment.title === 'Compte rendu de télémédecine' ? {} : { title: main.attachment.title }),
    authorRpps,
    date: doc.date,
    ...(attachments.length === 0 ? {} : { attachments }),
  };
}

function consentOf(index: Index, consent: Consent): ActConsent | undefined {
  if (consent.dateTime === undefined) return undefined;
  const method = oneOf<ConsentMethod>(CONSENT_METHODS, consent.extension?.find((e) => e.url === CONSENT_METHOD_EXTENSION)?.valueCoding?.code);
  if (method === undefined) return undefined;
  const collector = consent.performer?.map((p) => rppsOf(index, p)).find((r) => r !== undefined);
  return {
    decision: consent.provision?.type === 'deny' || consent.status === 'rejected' ? 'refused' : 'given',
    dateTime: consent.dateTime,
    method,
    ...(collector === undefined ? {} : { collectedByRpps: collector }),
  };
}

function prescriptionOf(index: Index, r: MedicationRequest | ServiceRequest, source: string, actId: string, position: number, defaultDate: string | undefined): ActPrescription | undefined {
  const prescriberRpps = rppsOf(index, r.requester);
  const id = identifierValue(r.identifier, source, `${actId}/prescription/`);
  if (prescriberRpps === undefined) return undefined;
  const common = { ...(id === undefined || id === String(position) ? {} : { id }), prescriberRpps, ...(r.authoredOn === undefined || r.authoredOn === defaultDate ? {} : { date: r.authoredOn }) };
  if (r.resourceType === 'MedicationRequest') {
    const text = r.medicationCodeableConcept?.text;
    const dosage = r.dosageInstruction?.[0]?.text;
    return text === undefined ? undefined : { kind: 'medication', text, ...(dosage === undefined ? {} : { dosage }), ...common };
  }
  const text = r.code?.text;
  if (text === undefined) return undefined;
  const categoryCode = r.category?.[0]?.coding?.[0]?.code;
  const kind = categoryCode === PRESCRIPTION_CATEGORY.laboratory?.code ? 'laboratory' : categoryCode === PRESCRIPTION_CATEGORY.imaging?.code ? 'imaging' : r.category?.[0]?.text === 'Soins' ? 'care' : 'other';
  return { kind, text, ...(r.patientInstruction === undefined ? {} : { dosage: r.patientInstruction }), ...common };
}

function positionOf(r: { identifier?: Identifier[] }, source: string, actId: string): number {
  const id = identifierValue(r.identifier, source, `${actId}/prescription/`);
  const n = id === undefined ? Number.NaN : Number(id);
  return Number.isInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/**
 * The act held by `resources` (an actReadSearch answer, or the resources of a stored transaction with
 * their server ids). Throws UnreadableActError when there is no Encounter or it cannot be read.
 */
export function actFromFhir(resources: readonly Resource[]): Act {
  const index = indexOf(resources);
  const encounter = resources.find((r): r is Encounter => r.resourceType === 'Encounter');
  if (encounter === undefined) throw new UnreadableActError("Aucune rencontre (Encounter) n'est enregistrée pour cet acte.");
  const key = encounter.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'VN')) ?? encounter.identifier?.[0];
  if (key?.system === undefined || key.value === undefined) throw new UnreadableActError("La rencontre n'a pas d'identifiant d'acte.");
  const source = key.system;
  const actId = key.value;
  const codings = encounter.type?.[0]?.coding ?? [];
  const actType = codings.map(actTypeOfCoding).find((t) => t !== undefined);
  if (actType === undefined) throw new UnreadableActError("Le type de l'acte n'a pas de code national connu.");
  // Acts stored before the billing code moved to its extension carry it as a second coding of type.
  const billingCode =
    encounter.extension?.find((e) => e.url === BILLING_CODE_EXTENSION)?.valueCoding?.code ?? codings.find((c) => c.system === BILLING_ACT_SYSTEM)?.code;
  const status = oneOf<ActStatus>(ACT_STATUSES, encounter.status) ?? 'finished';
  const modalityCode = encounter.extension?.find((e) => e.url === MODALITY_EXTENSION)?.valueCoding?.code;
  const modality = modalityCode === 'video' || modalityCode === 'phone' || modalityCode === 'asynchronous' ? modalityCode : 'video';
  const offer = encounter.extension?.find((e) => e.url === OFFER_EXTENSION)?.valueReference?.identifier;
  const offerId = offer?.system === OFFER_IDENTIFIER_SYSTEM ? offer.value : undefined;

  const performers: ActPerformer[] = [];
  let requester: ActProfessional | undefined;
  let onSiteAssistant: ActProfessional | undefined;
  for (const p of encounter.participant ?? []) {
    const kind = participantKindOf(p.type?.[0]?.coding?.[0]);
    const professional = professionalOf(index, p.individual);
    if (kind === undefined || professional === undefined) continue;
    if (kind === 'requester') requester = professional;
    else if (kind === 'on-site-assistant') onSiteAssistant = professional;
    else performers.push({ ...professional, role: kind });
  }

  const patient = patientOf(resolve<Patient>(index, encounter.subject, 'Patient'));
  const consentResource = resources.find((r): r is Consent => r.resourceType === 'Consent' && identifierValue(r.identifier, source, `${actId}/`) === 'consent');
  const consent = consentResource === undefined ? undefined : consentOf(index, consentResource);
  const reportResource = resources.find(
    (r): r is DocumentReference => r.resourceType === 'DocumentReference' && r.status === 'current' && identifierValue(r.identifier, source, `${actId}/report/`) !== undefined,
  );
  const report = reportResource === undefined ? undefined : reportOf(index, reportResource, source, actId);
  const requests = resources
    .filter((r): r is MedicationRequest | ServiceRequest => (r.resourceType === 'MedicationRequest' || r.resourceType === 'ServiceRequest') && identifierValue(r.identifier, source, `${actId}/prescription/`) !== undefined)
    // By position for those numbered by it, else by their own id: the same act reads the same whatever
    // order the store answers in (HAPI's _revinclude order is not fixed).
    .sort(
      (a, b) =>
        positionOf(a, source, actId) - positionOf(b, source, actId) ||
        (identifierValue(a.identifier, source, `${actId}/prescription/`) ?? '').localeCompare(identifierValue(b.identifier, source, `${actId}/prescription/`) ?? ''),
    );
  const prescriptions = requests.map((r) => prescriptionOf(index, r, source, actId, positionOf(r, source, actId), encounter.period?.end ?? encounter.period?.start)).filter((p): p is ActPrescription => p !== undefined);
  const incidents = (encounter.extension ?? [])
    .filter((e) => e.url === TECHNICAL_INCIDENT_EXTENSION)
    .map(incidentOf)
    .filter((i): i is ActIncident => i !== undefined);

  return {
    source,
    actId,
    ...actType,
    ...(billingCode === undefined ? {} : { billingCode }),
    status,
    start: encounter.period?.start ?? '',
    ...(encounter.period?.end === undefined ? {} : { end: encounter.period.end }),
    modality,
    patient,
    ...(requester === undefined ? {} : { requester }),
    performers,
    ...(onSiteAssistant === undefined ? {} : { onSiteAssistant }),
    ...(offerId === undefined ? {} : { offerId }),
    ...(consent === undefined ? {} : { consent }),
    ...(report === undefined ? {} : { report }),
    ...(prescriptions.length === 0 ? {} : { prescriptions }),
    ...(incidents.length === 0 ? {} : { incidents }),
  };
}

/** One line of an act search (GET /v1/acts): the act's key, type, status and start, from its Encounter alone. */
export interface ActSummary {
  readonly source: string;
  readonly actId: string;
  readonly type: ActType;
  readonly status: ActStatus;
  readonly start: string;
  readonly reference: string;
}

/** The summary of an act's Encounter; undefined when the Encounter is not one of our acts (no key, no national type). */
export function actSummaryOf(encounter: Encounter): ActSummary | undefined {
  const key = encounter.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'VN')) ?? encounter.identifier?.[0];
  const actType = (encounter.type?.[0]?.coding ?? []).map(actTypeOfCoding).find((t) => t !== undefined);
  const status = oneOf<ActStatus>(ACT_STATUSES, encounter.status);
  const start = encounter.period?.start;
  if (key?.system === undefined || key.value === undefined || actType === undefined || status === undefined || start === undefined || encounter.id === undefined) return undefined;
  return { source: key.system, actId: key.value, type: actType.type, status, start, reference: `Encounter/${encounter.id}` };
}
