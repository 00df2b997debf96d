// Codes, systems and key derivations of the act mapping (issue 6). Every code here was checked against
// the code sets shipped with the project (mapping/codes, mappings/, the FR Core package).
import type { Coding, Identifier } from '@medplum/fhirtypes';
import type {
  Act,
  ActType,
  ConsentMethod,
  IncidentEffect,
  IncidentType,
  PerformerRole,
  PrescriptionKind,
  Profession,
  TeleexpertiseDelay,
  TelesurveillanceProgram,
} from '../model/act.ts';
import { CODE_SETS } from './codes/index.ts';
import { contentHash } from './keys.ts';

const TS = 'https://telesante-fhir.fr/fhir';
export const TELESANTE_ENCOUNTER = `${TS}/StructureDefinition/telesante-encounter`;
export const TELESANTE_REPORT = `${TS}/StructureDefinition/telesante-report`;
export const TELESANTE_PROVENANCE = `${TS}/StructureDefinition/telesante-provenance`;
export const TELESANTE_CONSENT = `${TS}/StructureDefinition/telesante-consent`;
export const TECHNICAL_INCIDENT_EXTENSION = `${TS}/StructureDefinition/telesante-technical-incident`;
export const MODALITY_EXTENSION = `${TS}/StructureDefinition/telesante-modality`;
/**
 * How the consent was collected (oral, written, electronic). R4 Consent has no element for it; an
 * extension keeps it apart from `source[x]` (which would claim a document exists when consent was oral).
 */
export const CONSENT_METHOD_EXTENSION = `${TS}/StructureDefinition/telesante-consent-method`;
export const INCIDENT_TYPE_SYSTEM = `${TS}/CodeSystem/telesante-incident-type`;
export const INCIDENT_EFFECT_SYSTEM = `${TS}/CodeSystem/telesante-incident-effect`;
export const PARTICIPANT_ROLE_SYSTEM = `${TS}/CodeSystem/telesante-participant-role`;
export const MODALITY_SYSTEM = `${TS}/CodeSystem/telesante-modality`;
export const CONSENT_METHOD_SYSTEM = `${TS}/CodeSystem/telesante-consent-method`;
/** Our code system for the billing codes of telehealth acts: NGAP letter keys and CCAM codes as the CPAM lists them. */
export const BILLING_ACT_SYSTEM = `${TS}/CodeSystem/telesante-billing-act`;
/**
 * The billing code of an act, on its Encounter. Not a second coding of Encounter.type: a billing code says
 * how the act is billed, not what it is, and HAPI (8.8, ValidationSupportChain default, hapi-fhir#8345)
 * fails a required binding on a CodeableConcept unless every coding is in the value set.
 */
export const BILLING_CODE_EXTENSION = `${TS}/StructureDefinition/telesante-billing-code`;
/** PractitionerRole key of an act participant: `<RPPS>` or `<RPPS>-<FINESS>` (the exercise situation). */
export const ACT_ROLE_IDENTIFIER_SYSTEM = `${TS}/sid/exercice`;

/** fr-core-encounter binds identifier.type (1..1, extensible) to this system: VN visit number. */
export const FR_CORE_ENCOUNTER_IDENTIFIER_TYPE = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identifier-type';
/** Link from the Encounter to the telehealth offer used (ROR HealthcareService, logical reference by identifiantOffre). */
export const OFFER_EXTENSION = `${TS}/StructureDefinition/telesante-offer`;

export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V3_PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const V3_DATA_OPERATION = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
export const PROVENANCE_PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
export const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const URI_SYSTEM = 'urn:ietf:rfc:3986';
export const REPORT_LOINC = { system: LOINC, code: '85208-7', display: 'Telehealth consult note' } as const;
export const CONSENT_LOINC = { system: LOINC, code: '59284-0', display: 'Consent Document' } as const;

/** TRE_G15 ProfessionSante codes (checked in mapping/codes/g15-profession-sante.json). */
export const PROFESSION_CODE: Readonly<Record<Profession, string>> = {
  medecin: '10',
  pharmacien: '21',
  'chirurgien-dentiste': '40',
  'sage-femme': '50',
  infirmier: '60',
  'masseur-kinesitherapeute': '70',
  'pedicure-podologue': '80',
  orthophoniste: '91',
  orthoptiste: '92',
  ergotherapeute: '94',
  dieteticien: '95',
  psychomotricien: '96',
};

const TELEEXPERTISE_CODE: Readonly<Record<TeleexpertiseDelay, string>> = { lt24h: '1271', lt7d: '1272', gt7d: '1273' };
const TELESURVEILLANCE_CODE: Readonly<Record<TelesurveillanceProgram, string>> = {
  'arythmie-cardiaque': '1279',
  'insuffisance-cardiaque': '1483',
  'maladie-renale-chronique': '1484',
  'insuffisance-respiratoire': '1485',
  diabete: '1486',
  oncologie: '1487',
};

/**
 * The national code of an act. TRE_R210 (acte spécifique) for every act that has one: it is the finest
 * national code (téléexpertise by delay, télésurveillance by programme), the one the ROR offers use for
 * the same acts, and the one our Encounter profile binds (ValueSet telesante-act-type). Régulation has
 * no TRE_R210 code: it takes TRE_R213 27 (mode de prise en charge), the only national code for it.
 * Undefined when the act lacks the detail its code needs (checkAct reports it).
 */
export function actTypeCoding(act: Pick<Act, 'type' | 'teleexpertiseDelay' | 'telesurveillanceProgram'>): Coding | undefined {
  const r210 = CODE_SETS.specificAct;
  const code = ((): string | undefined => {
    switch (act.type) {
      case 'teleconsultation':
        return '0988';
      case 'telesoin':
        return '1474';
      case 'teleassistance':
        return '0824';
      case 'teleexpertise':
        return act.teleexpertiseDelay === undefined ? undefined : TELEEXPERTISE_CODE[act.teleexpertiseDelay];
      case 'telesurveillance':
        return act.telesurveillanceProgram === undefined ? undefined : TELESURVEILLANCE_CODE[act.telesurveillanceProgram];
      case 'regulation':
        return undefined;
    }
  })();
  if (act.type === 'regulation') {
    const r213 = CODE_SETS.careMode;
    return { system: r213.system, code: '27', display: r213.concepts['27']?.display ?? 'Régulation médicale téléphonique' };
  }
  if (code === undefined) return undefined;
  return { system: r210.system, code, display: r210.concepts[code]?.display ?? code };
}

/**
 * Every national coding an act type keyword may carry: one for most types, one per delay for
 * téléexpertise and one per programme for télésurveillance (the same tables as actTypeCoding).
 */
export function actTypeCodings(type: ActType): Coding[] {
  const variants: Pick<Act, 'type' | 'teleexpertiseDelay' | 'telesurveillanceProgram'>[] =
    type === 'teleexpertise'
      ? (Object.keys(TELEEXPERTISE_CODE) as TeleexpertiseDelay[]).map((teleexpertiseDelay) => ({ type, teleexpertiseDelay }))
      : type === 'telesurveillance'
        ? (Object.keys(TELESURVEILLANCE_CODE) as TelesurveillanceProgram[]).map((telesurveillanceProgram) => ({ type, telesurveillanceProgram }))
        : [{ type }];
  return variants.flatMap((variant) => {
    const coding = actTypeCoding(variant);
    return coding === undefined ? [] : [coding];
  });
}

/** Reads the act type back from its national coding (the inverse of actTypeCoding). */
export function actTypeOfCoding(coding: Coding): Pick<Act, 'type' | 'teleexpertiseDelay' | 'telesurveillanceProgram'> | undefined {
  if (coding.system === CODE_SETS.careMode.system && coding.code === '27') return { type: 'regulation' };
  if (coding.system !== CODE_SETS.specificAct.system) return undefined;
  switch (coding.code) {
    case '0988':
      return { type: 'teleconsultation' };
    case '1474':
      return { type: 'telesoin' };
    case '0824':
      return { type: 'teleassistance' };
  }
  for (const [delay, code] of Object.entries(TELEEXPERTISE_CODE)) {
    if (code === coding.code) return { type: 'teleexpertise', teleexpertiseDelay: delay as TeleexpertiseDelay };
  }
  for (const [program, code] of Object.entries(TELESURVEILLANCE_CODE)) {
    if (code === coding.code) return { type: 'telesurveillance', telesurveillanceProgram: program as TelesurveillanceProgram };
  }
  return undefined;
}

/**
 * Billing codes of telehealth acts (NGAP, avenants 6, 9 and later of the convention médicale and the
 * paramedical conventions), and the act types each may bill. A code outside this list is a 422: a typo
 * here would be a wrong bill later.
 */
export const BILLING_ACTS: Readonly<Record<string, { readonly display: string; readonly types: readonly ActType[] }>> = {
  TCG: { display: 'Téléconsultation du médecin généraliste', types: ['teleconsultation'] },
  TC: { display: 'Téléconsultation du médecin spécialiste', types: ['teleconsultation'] },
  TE1: { display: 'Téléexpertise de niveau 1 (médecin requis)', types: ['teleexpertise'] },
  TE2: { display: 'Téléexpertise de niveau 2 (médecin requis)', types: ['teleexpertise'] },
  RQD: { display: 'Demande de téléexpertise (professionnel requérant)', types: ['teleexpertise'] },
  TLD: { display: "Accompagnement d'une téléconsultation à domicile par un infirmier", types: ['teleconsultation'] },
  TLL: { display: "Accompagnement d'une téléconsultation dans un lieu dédié par un infirmier", types: ['teleconsultation'] },
  TLM: { display: "Accompagnement d'une téléconsultation au cours d'un soin infirmier", types: ['teleconsultation'] },
  TLS: { display: 'Télésoin infirmier', types: ['telesoin'] },
  AMO: { display: "Acte d'orthophonie (télésoin)", types: ['telesoin'] },
  AMY: { display: "Acte d'orthoptie (télésoin)", types: ['telesoin'] },
  AMK: { display: 'Acte de masso-kinésithérapie (télésoin)', types: ['telesoin'] },
  AMP: { display: 'Acte de pédicurie-podologie (télésoin)', types: ['telesoin'] },
};

export function billingCoding(code: string): Coding {
  return { system: BILLING_ACT_SYSTEM, code, display: BILLING_ACTS[code]?.display ?? code };
}

/** Encounter.participant.type and Provenance.agent.type: a code of ValueSet telesante-participant-role. */
export type ParticipantKind = PerformerRole | 'requester' | 'on-site-assistant';
export const PARTICIPANT_CODING: Readonly<Record<ParticipantKind, Coding>> = {
  primary: { system: V3_PARTICIPATION_TYPE, code: 'PPRF', display: 'primary performer' },
  secondary: { system: V3_PARTICIPATION_TYPE, code: 'SPRF', display: 'secondary performer' },
  consultant: { system: V3_PARTICIPATION_TYPE, code: 'CON', display: 'consultant' },
  requester: { system: V3_PARTICIPATION_TYPE, code: 'REF', display: 'referrer' },
  'on-site-assistant': { system: PARTICIPANT_ROLE_SYSTEM, code: 'on-site-assistant', display: 'Professionnel assistant le patient' },
};

export function participantKindOf(coding: Coding | undefined): ParticipantKind | undefined {
  if (coding === undefined) return undefined;
  for (const [kind, known] of Object.entries(PARTICIPANT_CODING)) {
    if (known.system === coding.system && known.code === coding.code) return kind as ParticipantKind;
  }
  return undefined;
}

export const INCIDENT_TYPE_DISPLAY: Readonly<Record<IncidentType, string>> = {
  'connection-loss': 'Perte de connexion',
  'audio-failure': 'Défaillance audio',
  'video-failure': 'Défaillance vidéo',
  'device-failure': 'Défaillance du matériel',
  'data-transmission-failure': 'Échec de transmission de données',
  other: 'Autre incident',
};
export const INCIDENT_EFFECT_DISPLAY: Readonly<Record<IncidentEffect, string>> = {
  none: 'Sans conséquence',
  degraded: 'Acte dégradé',
  interrupted: 'Acte interrompu',
  'converted-in-person': 'Basculé en présentiel',
};
export const MODALITY_DISPLAY = { video: 'Vidéotransmission', phone: 'Téléphone', asynchronous: 'Asynchrone' } as const;
export const CONSENT_METHOD_DISPLAY: Readonly<Record<ConsentMethod, string>> = { oral: 'Oral', written: 'Écrit', electronic: 'Électronique' };

/** ServiceRequest.category for the non-medicine prescriptions (SNOMED CT, the R4 example value set). */
export const PRESCRIPTION_CATEGORY: Readonly<Record<Exclude<PrescriptionKind, 'medication'>, Coding | undefined>> = {
  laboratory: { system: SNOMED, code: '108252007', display: 'Laboratory procedure' },
  imaging: { system: SNOMED, code: '363679005', display: 'Imaging' },
  // No code of the R4 example set means nursing or rehabilitation care: the text says it.
  care: undefined,
  other: undefined,
};

/** ServiceRequest.category text: the kind of a prescription, also when no code names it. */
export const PRESCRIPTION_LABEL: Readonly<Record<Exclude<PrescriptionKind, 'medication'>, string>> = {
  laboratory: 'Biologie',
  imaging: 'Imagerie',
  care: 'Soins',
  other: 'Autre',
};

// --- keys ------------------------------------------------------------------------------------------

/** The PractitionerRole key of a professional in an act: the exercise situation RPPS + FINESS. */
export function roleValue(rpps: string, finess: string | undefined): string {
  return finess === undefined ? rpps : `${rpps}-${finess}`;
}

/** The identifiers every resource of an act carries: `{ system: <source>, value: '<actId>/<suffix>' }`. */
export function actIdentifier(act: Pick<Act, 'source' | 'actId'>, suffix?: string): Identifier {
  return { system: act.source, value: suffix === undefined ? act.actId : `${act.actId}/${suffix}` };
}

/** The id of a report when the DPI gives none: derived from its content, so a resend keeps it. */
export function reportKey(report: NonNullable<Act['report']>): string {
  return report.id ?? `r-${contentHash(report)}`;
}
