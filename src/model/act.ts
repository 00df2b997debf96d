// The input contract of a telemedicine or telecare act sent by a DPI/DUI (issue 6): the JSON Schema that
// validates POST /v1/acts and feeds the OpenAPI document, the TypeScript type written next to it, and the
// shape of the issues the business rules report.
//
// Like the offer schema it is draft-07 compatible without `$schema`, `$ref` or `default`, so that it
// compiles as is in Ajv 8 (strict mode) and in Fastify's route schemas. The patient part has the shape of
// mapping/patient.ts `PatientInput`, so it goes to `toFrCorePatient` untouched.

/** DOMAIN.md §1: the five télémédecine acts and télésoin. */
export const ACT_TYPES = ['teleconsultation', 'teleexpertise', 'telesurveillance', 'teleassistance', 'regulation', 'telesoin'] as const;
export type ActType = (typeof ACT_TYPES)[number];

/** The acts the law reserves to a medical professional among the participants (CSP L6316-1). */
export const TELEMEDICINE_ACT_TYPES: ReadonlySet<ActType> = new Set(['teleconsultation', 'teleexpertise', 'telesurveillance', 'teleassistance', 'regulation']);

/** The Encounter statuses a source system may send (FHIR R4 encounter-status, the meaningful subset). */
export const ACT_STATUSES = ['planned', 'in-progress', 'finished', 'cancelled', 'entered-in-error'] as const;
export type ActStatus = (typeof ACT_STATUSES)[number];

export const ACT_MODALITIES = ['video', 'phone', 'asynchronous'] as const;
export type ActModality = (typeof ACT_MODALITIES)[number];

/** Téléexpertise answer delay, as TRE_R210 splits the act: 1271 (< 24 h), 1272 (< 7 days), 1273 (> 7 days). */
export const TELEEXPERTISE_DELAYS = ['lt24h', 'lt7d', 'gt7d'] as const;
export type TeleexpertiseDelay = (typeof TELEEXPERTISE_DELAYS)[number];

/** Télésurveillance programmes, as TRE_R210 splits the act (1279, 1483–1487). */
export const TELESURVEILLANCE_PROGRAMS = ['arythmie-cardiaque', 'insuffisance-cardiaque', 'maladie-renale-chronique', 'insuffisance-respiratoire', 'diabete', 'oncologie'] as const;
export type TelesurveillanceProgram = (typeof TELESURVEILLANCE_PROGRAMS)[number];

/**
 * Professions as keywords a DPI can send without knowing TRE_G15; each maps to its TRE_G15 code
 * (mapping/act-coding.ts). `medecin`, `chirurgien-dentiste` and `sage-femme` are the medical professions
 * of the CSP (L4111-1): one of them must take part in a télémédecine act.
 */
export const PROFESSIONS = [
  'medecin',
  'pharmacien',
  'chirurgien-dentiste',
  'sage-femme',
  'infirmier',
  'masseur-kinesitherapeute',
  'pedicure-podologue',
  'orthophoniste',
  'orthoptiste',
  'ergotherapeute',
  'psychomotricien',
  'dieteticien',
] as const;
export type Profession = (typeof PROFESSIONS)[number];
export const MEDICAL_PROFESSIONS: ReadonlySet<Profession> = new Set(['medecin', 'chirurgien-dentiste', 'sage-femme']);

/** How a performer took part: PPRF, SPRF, or CON (the expert asked for an opinion) in v3-ParticipationType. */
export const PERFORMER_ROLES = ['primary', 'secondary', 'consultant'] as const;
export type PerformerRole = (typeof PERFORMER_ROLES)[number];

export const IDENTITY_STATUS_VALUES = ['PROV', 'RECUP', 'VALI', 'QUAL'] as const;
export const METHOD_COLLECTION_VALUES = ['SM', 'CV', 'INSI', 'CB', 'RFID'] as const;
export const SEX_VALUES = ['male', 'female', 'other', 'unknown'] as const;

export const CONSENT_DECISIONS = ['given', 'refused'] as const;
export const CONSENT_METHODS = ['oral', 'written', 'electronic'] as const;
export type ConsentMethod = (typeof CONSENT_METHODS)[number];

export const PRESCRIPTION_KINDS = ['medication', 'laboratory', 'imaging', 'care', 'other'] as const;
export type PrescriptionKind = (typeof PRESCRIPTION_KINDS)[number];

export const INCIDENT_TYPES = ['connection-loss', 'audio-failure', 'video-failure', 'device-failure', 'data-transmission-failure', 'other'] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];
export const INCIDENT_EFFECTS = ['none', 'degraded', 'interrupted', 'converted-in-person'] as const;
export type IncidentEffect = (typeof INCIDENT_EFFECTS)[number];

export const RPPS_PATTERN = '^[0-9]{11}$';
export const FINESS_PATTERN = '^(?:[0-9]{9}|2[AB][0-9]{7})$';
/** FHIR dateTime with a time: seconds and a time zone are required (an act without a zone is ambiguous). */
export const DATE_TIME_PATTERN = '^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?(?:Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])$';
export const DATE_PATTERN = '^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$';
/** A URI naming the source system: urn:oid:, urn:uuid: or http(s). It is the system of every identifier we derive. */
export const SOURCE_PATTERN = '^(?:urn:oid:[0-2](?:\\.(?:0|[1-9][0-9]*))+|urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|https?://[^\\s|]+)$';
/** Ids we put into identifier values after `<actId>/`: no `/`, `|` or spaces, to keep the derived keys unambiguous. */
export const LOCAL_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';
/**
 * The one cap on an attachment (a PDF report, a photo), decoded: the schema (in base64 characters), the
 * FHIR validation (base64Binary) and the README say the same. 3 MiB keeps an act with one at its cap
 * under the default body limit (BODY_LIMIT_BYTES, 5 MB).
 */
export const MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024;
/** The same cap as base64 characters (4 for every 3 bytes, padded). */
export const MAX_ATTACHMENT_BASE64_LENGTH = 4 * Math.ceil(MAX_ATTACHMENT_BYTES / 3);
/** Standard base64 (RFC 4648 §4), padded, no line breaks, at most the attachment cap: checked by a linear scan. */
const base64Attachment = (description: string) => ({ type: 'string', minLength: 4, maxLength: MAX_ATTACHMENT_BASE64_LENGTH, format: 'base64', description: `${description} (au plus ${MAX_ATTACHMENT_BYTES / 1024 / 1024} Mio)` }) as const;
export const BILLING_CODE_PATTERN = '^[A-Z0-9]{2,6}$';

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: '\\S' }) as const;
const dateTime = { type: 'string', pattern: DATE_TIME_PATTERN } as const;

const professionalProperties = {
  rpps: { type: 'string', pattern: RPPS_PATTERN, description: 'Numéro RPPS, 11 chiffres (idNatPs = 8 + RPPS)' },
  familyName: text(200),
  givenName: text(100),
  profession: { type: 'string', enum: PROFESSIONS, description: 'Profession (codée TRE_G15)' },
  finess: { type: 'string', pattern: FINESS_PATTERN, description: "FINESS de la structure d'exercice" },
  structureName: text(200),
} as const;

const professionalSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rpps', 'familyName', 'profession'],
  properties: professionalProperties,
} as const;

const performerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rpps', 'familyName', 'profession', 'role'],
  properties: {
    ...professionalProperties,
    role: { type: 'string', enum: PERFORMER_ROLES, description: 'primary (réalisant), secondary, consultant (requis en téléexpertise)' },
  },
} as const;

const patientSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['identityStatus', 'traits', 'ipp'],
  properties: {
    ins: { type: 'string', minLength: 1, maxLength: 40, description: 'Matricule INS (NIR ou NIA), 15 caractères' },
    insOid: { type: 'string', maxLength: 64, description: "OID de l'INS : urn:oid:1.2.250.1.213.1.4.8 (NIR), …4.9 (NIA), …4.10 (test), …4.11 (démo)" },
    identityStatus: { type: 'string', enum: IDENTITY_STATUS_VALUES, description: 'Statut RNIV : PROV, RECUP, VALI, QUAL' },
    methodCollection: { type: 'string', enum: METHOD_COLLECTION_VALUES },
    traits: {
      type: 'object',
      additionalProperties: false,
      required: ['birthFamilyName', 'birthGivenNames', 'birthDate', 'sex'],
      properties: {
        birthFamilyName: text(200),
        birthGivenNames: { type: 'array', minItems: 1, maxItems: 20, items: text(100) },
        birthDate: { type: 'string', pattern: DATE_PATTERN },
        sex: { type: 'string', enum: SEX_VALUES },
        birthplaceCode: { type: 'string', pattern: '^(?:[0-9]{5}|2[AB][0-9]{3})$' },
        usedFamilyName: text(200),
        usedGivenName: text(100),
      },
    },
    ipp: {
      type: 'object',
      additionalProperties: false,
      required: ['system', 'value'],
      properties: { system: { type: 'string', pattern: SOURCE_PATTERN }, value: { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\S+$' } },
    },
  },
} as const;

const attachmentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['contentType', 'dataBase64'],
  properties: {
    contentType: { type: 'string', enum: ['image/jpeg', 'image/png', 'application/pdf'] },
    dataBase64: base64Attachment('Contenu en base64'),
    title: text(200),
  },
} as const;

export const reportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['authorRpps', 'date'],
  properties: {
    id: { type: 'string', pattern: LOCAL_ID_PATTERN, description: 'Identifiant du compte rendu dans le DPI (sinon dérivé de son contenu)' },
    text: { type: 'string', minLength: 1, maxLength: 1_000_000, description: 'Compte rendu en texte' },
    pdfBase64: base64Attachment('Compte rendu PDF en base64'),
    title: text(200),
    authorRpps: { type: 'string', pattern: RPPS_PATTERN, description: "RPPS de l'auteur, l'un des professionnels de l'acte" },
    date: dateTime,
    attachments: { type: 'array', maxItems: 20, items: attachmentSchema, description: 'Pièces jointes (photos…)' },
  },
  oneOf: [{ required: ['text'] }, { required: ['pdfBase64'] }],
} as const;

export const ACT_SCHEMA = {
  $id: 'TelehealthAct',
  type: 'object',
  additionalProperties: false,
  required: ['source', 'actId', 'type', 'status', 'start', 'modality', 'patient', 'performers'],
  properties: {
    source: { type: 'string', maxLength: 256, pattern: SOURCE_PATTERN, description: 'Identifiant (URI) du système source : urn:oid:… ou https://…' },
    actId: { type: 'string', pattern: LOCAL_ID_PATTERN, description: "Identifiant de l'acte dans le système source ; (source, actId) est la clé d'idempotence" },
    type: { type: 'string', enum: ACT_TYPES },
    teleexpertiseDelay: { type: 'string', enum: TELEEXPERTISE_DELAYS, description: 'Obligatoire pour une téléexpertise' },
    telesurveillanceProgram: { type: 'string', enum: TELESURVEILLANCE_PROGRAMS, description: 'Obligatoire pour une télésurveillance' },
    billingCode: { type: 'string', pattern: BILLING_CODE_PATTERN, description: 'Code de facturation NGAP/CCAM (TCG, TC, TE1, TE2, RQD, TLS…)' },
    status: { type: 'string', enum: ACT_STATUSES },
    start: dateTime,
    end: dateTime,
    modality: { type: 'string', enum: ACT_MODALITIES },
    patient: patientSchema,
    requester: professionalSchema,
    performers: { type: 'array', minItems: 1, maxItems: 20, items: performerSchema },
    onSiteAssistant: professionalSchema,
    offerId: { type: 'string', minLength: 1, maxLength: 64, description: "identifiantOffre de l'offre de télésanté utilisée" },
    consent: {
      type: 'object',
      additionalProperties: false,
      required: ['decision', 'dateTime', 'method'],
      properties: {
        decision: { type: 'string', enum: CONSENT_DECISIONS },
        dateTime,
        method: { type: 'string', enum: CONSENT_METHODS },
        collectedByRpps: { type: 'string', pattern: RPPS_PATTERN, description: 'RPPS du professionnel qui a recueilli le consentement' },
      },
    },
    report: reportSchema,
    prescriptions: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'text', 'prescriberRpps'],
        properties: {
          id: { type: 'string', pattern: LOCAL_ID_PATTERN },
          kind: { type: 'string', enum: PRESCRIPTION_KINDS },
          text: text(2000),
          dosage: text(2000),
          prescriberRpps: { type: 'string', pattern: RPPS_PATTERN },
          date: dateTime,
        },
      },
    },
    incidents: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'time', 'effect'],
        properties: {
          type: { type: 'string', enum: INCIDENT_TYPES },
          time: dateTime,
          description: text(2000),
          effect: { type: 'string', enum: INCIDENT_EFFECTS },
        },
      },
    },
  },
} as const;

export interface ActProfessional {
  readonly rpps: string;
  readonly familyName: string;
  readonly givenName?: string;
  readonly profession: Profession;
  /** FINESS of the structure the professional works for in this act: becomes the Organization. */
  readonly finess?: string;
  readonly structureName?: string;
}

export interface ActPerformer extends ActProfessional {
  readonly role: PerformerRole;
}

export interface ActPatient {
  readonly ins?: string;
  readonly insOid?: string;
  readonly identityStatus: (typeof IDENTITY_STATUS_VALUES)[number];
  readonly methodCollection?: (typeof METHOD_COLLECTION_VALUES)[number];
  readonly traits: {
    readonly birthFamilyName: string;
    readonly birthGivenNames: readonly string[];
    readonly birthDate: string;
    readonly sex: (typeof SEX_VALUES)[number];
    readonly birthplaceCode?: string;
    readonly usedFamilyName?: string;
    readonly usedGivenName?: string;
  };
  readonly ipp: { readonly system: string; readonly value: string };
}

export interface ActConsent {
  readonly decision: (typeof CONSENT_DECISIONS)[number];
  readonly dateTime: string;
  readonly method: ConsentMethod;
  readonly collectedByRpps?: string;
}

export interface ActAttachment {
  readonly contentType: 'image/jpeg' | 'image/png' | 'application/pdf';
  readonly dataBase64: string;
  readonly title?: string;
}

export interface ActReport {
  readonly id?: string;
  /** Exactly one of text and pdfBase64. */
  readonly text?: string;
  readonly pdfBase64?: string;
  readonly title?: string;
  readonly authorRpps: string;
  readonly date: string;
  readonly attachments?: readonly ActAttachment[];
}

export interface ActPrescription {
  readonly id?: string;
  readonly kind: PrescriptionKind;
  readonly text: string;
  readonly dosage?: string;
  readonly prescriberRpps: string;
  /** Defaults to the end of the act, else its start. */
  readonly date?: string;
}

export interface ActIncident {
  readonly type: IncidentType;
  readonly time: string;
  readonly description?: string;
  readonly effect: IncidentEffect;
}

export interface Act {
  readonly source: string;
  readonly actId: string;
  readonly type: ActType;
  readonly teleexpertiseDelay?: TeleexpertiseDelay;
  readonly telesurveillanceProgram?: TelesurveillanceProgram;
  readonly billingCode?: string;
  readonly status: ActStatus;
  readonly start: string;
  readonly end?: string;
  readonly modality: ActModality;
  readonly patient: ActPatient;
  readonly requester?: ActProfessional;
  readonly performers: readonly ActPerformer[];
  readonly onSiteAssistant?: ActProfessional;
  readonly offerId?: string;
  readonly consent?: ActConsent;
  readonly report?: ActReport;
  readonly prescriptions?: readonly ActPrescription[];
  readonly incidents?: readonly ActIncident[];
}

/** One problem in a request body: `field` is its path there (`performers[1].rpps`). Maps onto api/errors Problem. */
export interface ActIssue {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

/** Body of PUT /v1/acts/{source}/{actId}/report. */
export const ACT_REPORT_SCHEMA = { $id: 'TelehealthActReport', ...reportSchema } as const;

/** Body of DELETE /v1/acts/{source}/{actId}: why the act is withdrawn. */
export const ACT_CANCELLATION_SCHEMA = {
  $id: 'TelehealthActCancellation',
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: {
    reason: text(1000),
    /** entered-in-error: the act never happened as recorded (wrong patient…); cancelled: it did not take place. */
    status: { type: 'string', enum: ['cancelled', 'entered-in-error'] },
  },
} as const;

export interface ActCancellation {
  readonly reason: string;
  readonly status?: 'cancelled' | 'entered-in-error';
}
