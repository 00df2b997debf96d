// FHIR in: the Bundle a FHIR-capable DPI posts to POST /v1/acts (transaction, collection or document), in
// FR Core / CI-SIS shape or ours, read into the act JSON the JSON door takes. The act then goes through
// the same checks (validateAct) and the same path. What this reader gives back beside the act:
//   - where each field of the act came from in the posted Bundle (a FHIRPath), so that a problem found
//     later on `performers[0].rpps` or a missing `start` names the element the sender must fix;
//   - warnings for what the act model cannot hold (elements, extensions, resources), so nothing is
//     dropped silently; and errors for what it cannot read where the record needs it (a consent whose
//     decision or method is unreadable, an Encounter that is not a remote one).
import type {
  Bundle,
  BundleEntry,
  Composition,
  Consent,
  DocumentReference,
  Encounter,
  Extension,
  Identifier,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { ActIssue, Profession } from '../model/act.ts';
import {
  actTypeOfCoding,
  BILLING_ACT_SYSTEM,
  BILLING_CODE_EXTENSION,
  CONSENT_METHOD_EXTENSION,
  INCIDENT_EFFECT_SYSTEM,
  INCIDENT_TYPE_SYSTEM,
  MODALITY_EXTENSION,
  OFFER_EXTENSION,
  participantKindOf,
  PRESCRIPTION_CATEGORY,
  PROFESSION_CODE,
  TECHNICAL_INCIDENT_EXTENSION,
  V3_ACT_CODE,
} from './act-coding.ts';
import { incidentOf, patientOf, UnreadableActError } from './act-reverse.ts';
import { finessIn, rppsIn } from './fr-core.ts';
import { elementsNotHeld, FieldPaths } from './fhir-input.ts';
import { OFFER_IDENTIFIER_SYSTEM } from './offer-coding.ts';

type Json = Record<string, unknown>;

/** What the reader made of a posted Bundle. */
export interface PostedAct {
  /** The act as the JSON door takes it; validateAct checks it next (it may lack what the Bundle lacked). */
  readonly body: Json;
  /** Errors (the Bundle cannot be read into an act) and warnings (what the model cannot hold); fields are FHIRPaths. */
  readonly issues: readonly ActIssue[];
  /** False when the Bundle holds no act to check at all (not a Bundle, no single Encounter): only its issues say why. */
  readonly readable: boolean;
  /** The FHIRPath in the posted Bundle of a field of the act (`performers[0].rpps`, `end`). */
  pathOf(field: string): string;
}

const ACCEPTED_BUNDLE_TYPES = new Set(['transaction', 'collection', 'document']);

/** Top-level elements each resource type has read from it (besides id, meta, text, which carry no act data). */
const READ: Readonly<Record<string, ReadonlySet<string>>> = {
  Encounter: new Set(['identifier', 'status', 'class', 'type', 'subject', 'participant', 'period', 'serviceProvider', 'extension']),
  Patient: new Set(['identifier', 'name', 'gender', 'birthDate', 'extension', 'active']),
  Practitioner: new Set(['identifier', 'name', 'qualification', 'active']),
  PractitionerRole: new Set(['identifier', 'practitioner', 'organization', 'code', 'active']),
  Organization: new Set(['identifier', 'name', 'active', 'type']),
  DocumentReference: new Set(['identifier', 'status', 'type', 'category', 'subject', 'date', 'author', 'content', 'context', 'masterIdentifier', 'docStatus', 'relatesTo']),
  Composition: new Set(['identifier', 'status', 'type', 'category', 'subject', 'encounter', 'date', 'author', 'title', 'section']),
  Consent: new Set(['identifier', 'status', 'scope', 'category', 'patient', 'dateTime', 'performer', 'provision', 'extension', 'policyRule', 'sourceReference']),
  MedicationRequest: new Set(['identifier', 'status', 'intent', 'medicationCodeableConcept', 'subject', 'encounter', 'authoredOn', 'requester', 'dosageInstruction']),
  ServiceRequest: new Set(['identifier', 'status', 'intent', 'category', 'code', 'subject', 'encounter', 'authoredOn', 'requester', 'patientInstruction']),
  Observation: new Set(['identifier', 'status', 'category', 'code', 'subject', 'encounter', 'effectiveDateTime', 'valueCodeableConcept', 'note', 'focus']),
};
/** Extensions of the Encounter that the act holds. */
const READ_ENCOUNTER_EXTENSIONS = new Set([MODALITY_EXTENSION, OFFER_EXTENSION, BILLING_CODE_EXTENSION, TECHNICAL_INCIDENT_EXTENSION]);
const PROFESSION_OF_CODE = new Map<string, Profession>(Object.entries(PROFESSION_CODE).map(([k, v]) => [v, k as Profession]));

interface Located<T extends Resource> {
  readonly resource: T;
  /** `Bundle.entry[3].resource` */
  readonly path: string;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  readonly issues: ActIssue[] = [];
  private readonly paths = new FieldPaths('Bundle');
  private readonly byKey = new Map<string, Located<Resource>>();
  readonly entries: Located<Resource>[] = [];
  /** Entries something of the act was read from: the others are reported as not held. */
  private readonly used = new Set<string>();

  constructor(bundle: Bundle) {
    (bundle.entry ?? []).forEach((entry: BundleEntry, i) => {
      const resource = entry.resource;
      if (!isObject(resource) || typeof resource.resourceType !== 'string') return;
      const located = { resource, path: `Bundle.entry[${i}].resource` };
      this.entries.push(located);
      if (typeof entry.fullUrl === 'string') {
        this.byKey.set(entry.fullUrl, located);
        // An absolute fullUrl (https://server/fhir/Patient/1) also answers the relative reference Patient/1.
        const tail = /([A-Z][A-Za-z]+\/[^/]+)$/.exec(entry.fullUrl)?.[1];
        if (tail !== undefined && !entry.fullUrl.startsWith('urn:')) this.byKey.set(tail, located);
      }
      if (resource.id !== undefined) this.byKey.set(`${resource.resourceType}/${resource.id}`, located);
    });
  }

  error(code: string, path: string, message: string): void {
    this.issues.push({ severity: 'error', code, field: path, message });
  }

  warn(code: string, path: string, message: string): void {
    this.issues.push({ severity: 'warning', code, field: path, message });
  }

  /** Says that `field` of the act comes from `path` of the Bundle. */
  from(field: string, path: string): void {
    this.paths.from(field, path);
  }

  pathOf(field: string): string {
    return this.paths.pathOf(field);
  }

  resolve<T extends Resource>(reference: Reference | undefined, ...types: T['resourceType'][]): Located<T> | undefined {
    const target = reference?.reference;
    if (target === undefined) return undefined;
    const found = this.byKey.get(target) ?? this.byKey.get(target.split('/').slice(-2).join('/'));
    if (found === undefined || !(types as string[]).includes(found.resource.resourceType)) return undefined;
    this.used.add(found.path);
    return found as Located<T>;
  }

  all<T extends Resource>(type: T['resourceType']): Located<T>[] {
    return this.entries.filter((e): e is Located<T> => e.resource.resourceType === type);
  }

  use(located: Located<Resource>): void {
    this.used.add(located.path);
  }

  /** Warnings for the elements of the resources read that the act cannot hold, and for the resources not read. */
  reportNotHeld(): void {
    for (const { resource, path } of this.entries) {
      if (resource.resourceType === 'Provenance') {
        this.warn('FHIR_PROVENANCE_REPLACED', path, "La Provenance est établie par le service à partir de l'acte reçu : celle envoyée n'est pas conservée.");
        continue;
      }
      if (!this.used.has(path)) {
        this.warn('FHIR_RESOURCE_NOT_HELD', path, `Ressource ${resource.resourceType} non rattachée à l'acte : elle n'est pas enregistrée.`);
        continue;
      }
      this.issues.push(...elementsNotHeld(resource, path, READ[resource.resourceType] ?? new Set<string>()));
    }
  }
}

/** A professional from a PractitionerRole (FR Core, ours) or a bare Practitioner; undefined fields are left out. */
function professionalOf(reader: Reader, reference: Reference | undefined, field: string, at: string): Json | undefined {
  const located = reader.resolve<PractitionerRole | Practitioner>(reference, 'PractitionerRole', 'Practitioner');
  if (located === undefined) {
    reader.from(field, at);
    return undefined;
  }
  const role = located.resource.resourceType === 'PractitionerRole' ? (located as Located<PractitionerRole>) : undefined;
  const practitioner = role === undefined ? (located as Located<Practitioner>) : reader.resolve<Practitioner>(role.resource.practitioner, 'Practitioner');
  const organization = role === undefined ? undefined : reader.resolve<Organization>(role.resource.organization, 'Organization');
  const ids = practitioner?.resource.identifier;
  const rpps = rppsIn(ids);
  const codes = [...(role?.resource.code ?? []), ...(practitioner?.resource.qualification ?? []).map((q) => q.code)].flatMap((c) => c.coding ?? []);
  const profession = codes.map((c) => PROFESSION_OF_CODE.get(c.code ?? '')).find((p) => p !== undefined);
  const name = practitioner?.resource.name?.[0];
  const finess = finessIn(organization?.resource.identifier);
  const practitionerPath = practitioner?.path ?? located.path;
  reader.from(field, at);
  reader.from(`${field}.rpps`, `${practitionerPath}.identifier`);
  reader.from(`${field}.familyName`, `${practitionerPath}.name`);
  reader.from(`${field}.givenName`, `${practitionerPath}.name`);
  reader.from(`${field}.profession`, role === undefined ? `${practitionerPath}.qualification` : `${role.path}.code`);
  if (organization !== undefined) {
    reader.from(`${field}.finess`, `${organization.path}.identifier`);
    reader.from(`${field}.structureName`, `${organization.path}.name`);
  }
  return {
    ...(rpps === undefined ? {} : { rpps }),
    ...(name?.family === undefined ? {} : { familyName: name.family }),
    ...(name?.given?.[0] === undefined ? {} : { givenName: name.given[0] }),
    ...(profession === undefined ? {} : { profession }),
    ...(finess === undefined ? {} : { finess }),
    ...(organization?.resource.name === undefined ? {} : { structureName: organization.resource.name }),
  };
}

function rppsOf(reader: Reader, reference: Reference | undefined, field: string, at: string): string | undefined {
  const professional = professionalOf(reader, reference, field, at);
  reader.from(field, at);
  return typeof professional?.rpps === 'string' ? professional.rpps : undefined;
}

/** The identifier suffix after `/report/` or `/prescription/`: our own ids when the Bundle is one we wrote. */
function localIdOf(identifiers: readonly Identifier[] | undefined, source: string, kind: string): string | undefined {
  for (const identifier of identifiers ?? []) {
    if (identifier.system !== source) continue;
    const match = new RegExp(`/${kind}/([^/]+)$`).exec(identifier.value ?? '');
    if (match?.[1] !== undefined && !match[1].startsWith('r-')) return match[1];
  }
  return undefined;
}

function readEncounter(reader: Reader, located: Located<Encounter>, body: Json): void {
  const { resource: encounter, path } = located;
  reader.use(located);
  reader.from('', path);
  const keyIndex = Math.max(0, encounter.identifier?.findIndex((i) => i.type?.coding?.some((c) => c.code === 'VN')) ?? 0);
  const key = encounter.identifier?.[keyIndex];
  reader.from('source', `${path}.identifier[${keyIndex}].system`);
  reader.from('actId', `${path}.identifier[${keyIndex}].value`);
  if (key?.system !== undefined) body.source = key.system;
  if (key?.value !== undefined) body.actId = key.value;

  if (encounter.class?.system !== V3_ACT_CODE || encounter.class.code !== 'VR') {
    reader.error('FHIR_ENCOUNTER_NOT_REMOTE', `${path}.class`, `Un acte de télésanté est une rencontre à distance : Encounter.class doit être ${V3_ACT_CODE}|VR.`);
  }
  reader.from('type', `${path}.type`);
  reader.from('teleexpertiseDelay', `${path}.type`);
  reader.from('telesurveillanceProgram', `${path}.type`);
  const actType = (encounter.type ?? []).flatMap((t) => t.coding ?? []).map(actTypeOfCoding).find((t) => t !== undefined);
  if (actType !== undefined) Object.assign(body, actType);
  const billing = encounter.extension?.find((e) => e.url === BILLING_CODE_EXTENSION)?.valueCoding?.code ??
    (encounter.type ?? []).flatMap((t) => t.coding ?? []).find((c) => c.system === BILLING_ACT_SYSTEM)?.code;
  reader.from('billingCode', `${path}.extension`);
  if (billing !== undefined) body.billingCode = billing;
  reader.from('status', `${path}.status`);
  if (encounter.status !== undefined) body.status = encounter.status;
  reader.from('start', `${path}.period.start`);
  reader.from('end', `${path}.period.end`);
  if (encounter.period?.start !== undefined) body.start = encounter.period.start;
  if (encounter.period?.end !== undefined) body.end = encounter.period.end;

  reader.from('modality', `${path}.extension`);
  const modality = encounter.extension?.find((e) => e.url === MODALITY_EXTENSION)?.valueCoding?.code;
  if (modality !== undefined) {
    body.modality = modality;
  } else {
    body.modality = 'video';
    reader.warn('FHIR_MODALITY_ASSUMED', `${path}.extension`, `Modalité non donnée (extension ${MODALITY_EXTENSION}) : l'acte est enregistré en vidéotransmission.`);
  }
  const offer = encounter.extension?.find((e) => e.url === OFFER_EXTENSION)?.valueReference?.identifier;
  reader.from('offerId', `${path}.extension`);
  if (offer?.system === OFFER_IDENTIFIER_SYSTEM && offer.value !== undefined) body.offerId = offer.value;
  (encounter.extension ?? []).forEach((extension: Extension, i) => {
    if (!READ_ENCOUNTER_EXTENSIONS.has(extension.url)) {
      reader.warn('FHIR_EXTENSION_NOT_HELD', `${path}.extension[${i}]`, `L'extension ${extension.url} n'est pas reprise dans l'acte enregistré.`);
    }
  });

  const performers: Json[] = [];
  reader.from('performers', `${path}.participant`);
  (encounter.participant ?? []).forEach((participant, i) => {
    const at = `${path}.participant[${i}]`;
    const coding = participant.type?.flatMap((t) => t.coding ?? [])[0];
    const kind = coding === undefined ? 'primary' : participantKindOf(coding);
    if (kind === undefined) {
      reader.error('FHIR_PARTICIPANT_TYPE_UNKNOWN', `${at}.type`, `Rôle du participant inconnu (${coding?.system ?? ''}|${coding?.code ?? ''}) : PPRF, SPRF, CON, REF (v3-ParticipationType) ou on-site-assistant.`);
      return;
    }
    if (kind === 'requester' || kind === 'on-site-assistant') {
      const field = kind === 'requester' ? 'requester' : 'onSiteAssistant';
      const professional = professionalOf(reader, participant.individual, field, at);
      if (professional !== undefined) body[field] = professional;
      return;
    }
    const field = `performers[${performers.length}]`;
    const professional = professionalOf(reader, participant.individual, field, at) ?? {};
    reader.from(`${field}.role`, `${at}.type`);
    performers.push({ ...professional, role: kind });
  });
  if (performers.length > 0) body.performers = performers;
  // Ours puts the structure on the first performer; FR Core senders may give it on the Encounter only.
  const provider = reader.resolve<Organization>(encounter.serviceProvider, 'Organization');
  const first = performers[0];
  if (provider !== undefined && first !== undefined && first.finess === undefined) {
    const finess = finessIn(provider.resource.identifier);
    if (finess !== undefined) {
      first.finess = finess;
      reader.from('performers[0].finess', `${provider.path}.identifier`);
      if (provider.resource.name !== undefined) first.structureName = provider.resource.name;
    }
  }

  reader.from('patient', `${path}.subject`);
  const patient = reader.resolve<Patient>(encounter.subject, 'Patient');
  if (patient !== undefined) {
    reader.from('patient', patient.path);
    reader.from('patient.ins', `${patient.path}.identifier`);
    reader.from('patient.insOid', `${patient.path}.identifier`);
    reader.from('patient.ipp', `${patient.path}.identifier`);
    reader.from('patient.identityStatus', `${patient.path}.extension`);
    reader.from('patient.traits', `${patient.path}.name`);
    reader.from('patient.traits.birthDate', `${patient.path}.birthDate`);
    reader.from('patient.traits.sex', `${patient.path}.gender`);
    reader.from('patient.traits.birthplaceCode', `${patient.path}.extension`);
    try {
      body.patient = patientOf(patient.resource);
    } catch (error) {
      if (!(error instanceof UnreadableActError)) throw error;
      reader.error('FHIR_PATIENT_UNREADABLE', `${patient.path}.identifier`, `${error.message} Donnez l'IPP (identifier de type PI) et, s'il est connu, l'INS.`);
    }
  }

  const incidents = (encounter.extension ?? []).filter((e) => e.url === TECHNICAL_INCIDENT_EXTENSION).map(incidentOf);
  reader.from('incidents', `${path}.extension`);
  if (incidents.length > 0) body.incidents = incidents.filter((i) => i !== undefined);
}

function readReport(reader: Reader, body: Json, source: string): void {
  const documents = reader.all<DocumentReference>('DocumentReference').filter((d) => d.resource.status !== 'superseded' && d.resource.status !== 'entered-in-error');
  const document = documents[0];
  if (document !== undefined) {
    reader.use(document);
    const { resource, path } = document;
    const [main, ...rest] = resource.content ?? [];
    const contentType = main?.attachment.contentType;
    reader.from('report', path);
    reader.from('report.text', `${path}.content[0].attachment`);
    reader.from('report.pdfBase64', `${path}.content[0].attachment`);
    reader.from('report.date', `${path}.date`);
    const report: Json = {};
    const id = localIdOf(resource.identifier, source, 'report');
    if (id !== undefined) report.id = id;
    if (main?.attachment.data !== undefined) {
      if (contentType === 'application/pdf') report.pdfBase64 = main.attachment.data;
      else report.text = Buffer.from(main.attachment.data, 'base64').toString('utf8');
    }
    if (contentType !== undefined && contentType !== 'application/pdf' && !contentType.startsWith('text/')) {
      reader.error('FHIR_REPORT_TYPE', `${path}.content[0].attachment.contentType`, `Le compte rendu doit être un texte (text/plain) ou un PDF (application/pdf), pas ${contentType}.`);
    }
    if (main?.attachment.title !== undefined && main.attachment.title !== 'Compte rendu de télémédecine') report.title = main.attachment.title;
    const author = rppsOf(reader, resource.author?.[0], 'report.authorRpps', `${path}.author`);
    if (author !== undefined) report.authorRpps = author;
    if (resource.date !== undefined) report.date = resource.date;
    const attachments = rest.flatMap((c) => (c.attachment.data === undefined ? [] : [{ contentType: c.attachment.contentType, dataBase64: c.attachment.data, ...(c.attachment.title === undefined ? {} : { title: c.attachment.title }) }]));
    if (attachments.length > 0) report.attachments = attachments;
    reader.from('report.attachments', `${path}.content`);
    body.report = report;
    for (const other of documents.slice(1)) reader.warn('FHIR_REPORT_EXTRA', other.path, "Un seul compte rendu par acte : ce DocumentReference n'est pas enregistré (PUT …/report pour le remplacer).");
    return;
  }
  const composition = reader.all<Composition>('Composition')[0];
  if (composition === undefined) return;
  reader.use(composition);
  const { resource, path } = composition;
  reader.from('report', path);
  reader.from('report.text', `${path}.section`);
  reader.from('report.date', `${path}.date`);
  // A CDA-like document: its sections' narratives, in order, are the report's text.
  const text = (resource.section ?? [])
    .map((s) => [s.title, (s.text?.div ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim()].filter((x) => x).join('\n'))
    .filter((x) => x !== '')
    .join('\n\n');
  const author = rppsOf(reader, resource.author?.[0], 'report.authorRpps', `${path}.author`);
  body.report = {
    ...(text === '' ? {} : { text }),
    ...(resource.title === undefined ? {} : { title: resource.title }),
    ...(author === undefined ? {} : { authorRpps: author }),
    ...(resource.date === undefined ? {} : { date: resource.date }),
  };
  (resource.section ?? []).forEach((s, i) => {
    if (s.entry !== undefined) reader.warn('FHIR_ELEMENT_NOT_HELD', `${path}.section[${i}].entry`, 'Les entrées structurées de la section ne sont pas reprises : seul son texte est enregistré.');
  });
}

function readConsent(reader: Reader, body: Json): void {
  const located = reader.all<Consent>('Consent')[0];
  if (located === undefined) return;
  reader.use(located);
  const { resource, path } = located;
  reader.from('consent', path);
  reader.from('consent.dateTime', `${path}.dateTime`);
  reader.from('consent.method', `${path}.extension`);
  const method = resource.extension?.find((e) => e.url === CONSENT_METHOD_EXTENSION)?.valueCoding?.code;
  if (method === undefined) {
    reader.error('FHIR_CONSENT_METHOD', `${path}.extension`, `Dites comment le consentement a été recueilli (extension ${CONSENT_METHOD_EXTENSION} : oral, written ou electronic).`);
  }
  const refused = resource.provision?.type === 'deny' || resource.status === 'rejected';
  const collector = resource.performer?.map((p, i) => rppsOf(reader, p, 'consent.collectedByRpps', `${path}.performer[${i}]`)).find((r) => r !== undefined);
  body.consent = {
    decision: refused ? 'refused' : 'given',
    ...(resource.dateTime === undefined ? {} : { dateTime: resource.dateTime }),
    ...(method === undefined ? {} : { method }),
    ...(collector === undefined ? {} : { collectedByRpps: collector }),
  };
}

function readPrescriptions(reader: Reader, body: Json, source: string): void {
  // What toActBundle writes when the sender gave none: the position as id, the act's end (else start) as date.
  const defaultDate = typeof body.end === 'string' ? body.end : body.start;
  const requests = reader.entries.filter((e): e is Located<MedicationRequest | ServiceRequest> => e.resource.resourceType === 'MedicationRequest' || e.resource.resourceType === 'ServiceRequest');
  const prescriptions = requests.map(({ resource, path }, i) => {
    reader.use({ resource, path });
    const field = `prescriptions[${i}]`;
    reader.from(field, path);
    reader.from(`${field}.date`, `${path}.authoredOn`);
    const id = localIdOf(resource.identifier, source, 'prescription');
    const prescriber = rppsOf(reader, resource.requester, `${field}.prescriberRpps`, `${path}.requester`);
    const common = {
      ...(id === undefined || id === String(i + 1) ? {} : { id }),
      ...(prescriber === undefined ? {} : { prescriberRpps: prescriber }),
      ...(resource.authoredOn === undefined || resource.authoredOn === defaultDate ? {} : { date: resource.authoredOn }),
    };
    if (resource.resourceType === 'MedicationRequest') {
      reader.from(`${field}.text`, `${path}.medicationCodeableConcept`);
      const concept = resource.medicationCodeableConcept;
      const text = concept?.text ?? concept?.coding?.[0]?.display;
      const dosage = resource.dosageInstruction?.[0]?.text;
      return { kind: 'medication', ...(text === undefined ? {} : { text }), ...(dosage === undefined ? {} : { dosage }), ...common };
    }
    reader.from(`${field}.text`, `${path}.code`);
    const text = resource.code?.text ?? resource.code?.coding?.[0]?.display;
    const category = resource.category?.flatMap((c) => c.coding ?? []).map((c) => c.code);
    const kind = category?.includes(PRESCRIPTION_CATEGORY.laboratory?.code) ? 'laboratory' : category?.includes(PRESCRIPTION_CATEGORY.imaging?.code) ? 'imaging' : resource.category?.[0]?.text === 'Soins' ? 'care' : 'other';
    return { kind, ...(text === undefined ? {} : { text }), ...(resource.patientInstruction === undefined ? {} : { dosage: resource.patientInstruction }), ...common };
  });
  if (prescriptions.length > 0) body.prescriptions = prescriptions;
}

/** Incidents as Observations (coded with our incident types), when the Encounter does not carry them. */
function readIncidentObservations(reader: Reader, body: Json): void {
  const observations = reader.all<Observation>('Observation').filter((o) => o.resource.code.coding?.some((c) => c.system === INCIDENT_TYPE_SYSTEM));
  for (const o of observations) reader.use(o);
  if (body.incidents !== undefined) return;
  const incidents = observations.map(({ resource, path }, i) => {
    reader.from(`incidents[${i}]`, path);
    reader.from(`incidents[${i}].time`, `${path}.effectiveDateTime`);
    reader.from(`incidents[${i}].effect`, `${path}.valueCodeableConcept`);
    const type = resource.code.coding?.find((c) => c.system === INCIDENT_TYPE_SYSTEM)?.code;
    const effect = resource.valueCodeableConcept?.coding?.find((c) => c.system === INCIDENT_EFFECT_SYSTEM)?.code;
    const description = resource.note?.map((n) => n.text).join('\n');
    return {
      ...(type === undefined ? {} : { type }),
      ...(resource.effectiveDateTime === undefined ? {} : { time: resource.effectiveDateTime }),
      ...(description === undefined || description === '' ? {} : { description }),
      ...(effect === undefined ? {} : { effect }),
    };
  });
  if (incidents.length > 0) body.incidents = incidents;
}

/** Reads a posted Bundle into the act JSON; never throws on the content of the Bundle. */
export function readPostedAct(posted: unknown): PostedAct {
  const bundle = (isObject(posted) ? posted : {}) as unknown as Bundle;
  const reader = new Reader(bundle);
  const body: Json = {};
  if (bundle.resourceType !== 'Bundle' || !ACCEPTED_BUNDLE_TYPES.has(bundle.type ?? '')) {
    reader.error('FHIR_NOT_AN_ACT_BUNDLE', bundle.resourceType === 'Bundle' ? 'Bundle.type' : 'resourceType', "Envoyez l'acte en Bundle FHIR de type transaction, collection ou document.");
    return { body, issues: reader.issues, readable: false, pathOf: (field) => reader.pathOf(field) };
  }
  const encounters = reader.all<Encounter>('Encounter');
  const encounter = encounters[0];
  if (encounter === undefined || encounters.length > 1) {
    reader.error('FHIR_ENCOUNTER_COUNT', 'Bundle.entry', `Un acte est une rencontre : le Bundle doit contenir exactement une Encounter (il en a ${encounters.length}).`);
    return { body, issues: reader.issues, readable: false, pathOf: (field) => reader.pathOf(field) };
  }
  readEncounter(reader, encounter, body);
  const source = typeof body.source === 'string' ? body.source : '';
  readReport(reader, body, source);
  readConsent(reader, body);
  readPrescriptions(reader, body, source);
  readIncidentObservations(reader, body);
  reader.reportNotHeld();
  return { body, issues: reader.issues, readable: true, pathOf: (field) => reader.pathOf(field) };
}
