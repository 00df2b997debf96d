// How an offer is coded: canonical URLs, identifier systems, the ROR codes behind each telehealth
// keyword, and the normal form of an offer (what the reverse mapping gives back).
import type { Coding } from '@medplum/fhirtypes';
import {
  DAYS_OF_WEEK,
  TELEHEALTH_MODALITIES,
  type CodeInput,
  type ContactChannel,
  type ConfidentialityLevel,
  type DayOfWeek,
  type NationalCode,
  type Offer,
  type OfferOpeningHours,
  type OfferPatientType,
  type TeleexpertiseDelay,
  type TelehealthModality,
} from '../model/offer.ts';
import { CODE_SETS, conceptOf, type CodeSet } from './codes/index.ts';

/** Our HealthcareService profile: fr-core-healthcare-service aligned with ror-healthcareservice. */
export const TELESANTE_HEALTHCARESERVICE = 'https://telesante-fhir.fr/fhir/StructureDefinition/telesante-healthcareservice';
// FR Core 2.2.0-ballot-2. The FINESS, idNatSt and SIRET identifier slices are defined on the
// établissement profile (derived from fr-core-organization), not on fr-core-organization itself.
export const FR_CORE_ORGANIZATION_ETABLISSEMENT = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-organization-etablissement';
export const FR_CORE_LOCATION = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-location';
export const FR_CORE_LOCATION_IDENTIFIER_TYPE = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-location-identifier-type';
export const FR_CORE_EMAIL_TYPE = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type';

/**
 * The offer identifier: ours, not the ROR's. The ROR assigns its own functional identifier (type
 * TRE_R355#35, e.g. "06/0099999") in its regional instances, and the systems that send us offers are not
 * those instances; their identifiantOffre is stable and unique in our system under this namespace.
 */
export const OFFER_IDENTIFIER_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/offre';
/** Sites without a FINESS: `<identifiantOffre>-site-<n>` (n from 1, position in `sites`). */
export const SITE_IDENTIFIER_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/lieu';
/** `<identifiantOffre>-<RPPS>`: one situation per professional and offer. */
export const ROLE_IDENTIFIER_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/situation';

export const SIRENE_SYSTEM = 'https://sirene.fr';
export const TYPE_MESSAGERIE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie';
/** The unit system of the ROR's own ageRange example (code `a`, years). */
export const UCUM_UNIT_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R247-UcumUniteMesure/FHIR/TRE-R247-UcumUniteMesure';

const ROR = 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition';
export const ROR_EXTENSION = {
  sensitiveUnit: `${ROR}/ror-healthcareservice-sensitive-unit`,
  patientType: `${ROR}/ror-healthcareservice-patient-type`,
  creationDate: `${ROR}/ror-meta-creation-date`,
  actType: `${ROR}/ror-act-type`,
  channel: `${ROR}/ror-telecom-communication-channel`,
  usage: `${ROR}/ror-telecom-usage`,
  confidentiality: `${ROR}/ror-telecom-confidentiality-level`,
  typeOfTime: `${ROR}/ror-available-time-type-of-time`,
  dayNumber: `${ROR}/ror-available-time-number-days-of-week`,
} as const;

// What each keyword writes (DOMAIN.md §3). Téléconsultation, téléexpertise and télésoin have a reception
// modality AND a specific act, both written so that a search on either finds the offer. Télésurveillance,
// téléassistance and régulation have no reception modality: the care mode (37, 36, 27, one per offer in the
// ROR) or the specific acts carry them, and checkOffer makes sure one of them does.
export const RECEPTION_OF_MODALITY: Readonly<Partial<Record<TelehealthModality, string>>> = { teleconsultation: '04', telesoin: '14' };
export const ACT_OF_MODALITY: Readonly<Partial<Record<TelehealthModality, string>>> = { teleconsultation: '0988', telesoin: '1474', teleassistance: '0824' };
/** TRE_R338 12 (> 7 days) is deprecated and left out of JDV_J226: the act 1273 alone says it. */
export const RECEPTION_OF_DELAY: Readonly<Record<TeleexpertiseDelay, string | undefined>> = { lt24h: '10', lt7d: '11', gt7d: undefined };
export const ACT_OF_DELAY: Readonly<Record<TeleexpertiseDelay, string>> = { lt24h: '1271', lt7d: '1272', gt7d: '1273' };
export const CARE_MODE_OF_MODALITY: Readonly<Partial<Record<TelehealthModality, string>>> = {
  teleexpertise: '35',
  teleassistance: '36',
  telesurveillance: '37',
  regulation: '27',
};
/** Télésurveillance médicale of: arythmie cardiaque, insuffisance cardiaque, MRC, insuffisance respiratoire, diabète, oncologie. */
export const TELESURVEILLANCE_ACTS: ReadonlySet<string> = new Set(['1279', '1483', '1484', '1485', '1486', '1487']);
/** Telehealth codes that only the keywords write, so that the reverse mapping can give the keywords back. */
export const KEYWORD_RECEPTION_CODES: ReadonlySet<string> = new Set(['04', '10', '11', '12', '14']);
export const KEYWORD_ACT_CODES: ReadonlySet<string> = new Set(['0988', '1271', '1272', '1273', '1474', '0824']);

/**
 * Every characteristic that marks an offer as offering a modality: the codes our mapping writes and the
 * other ways the ROR has of saying it (careMode 35 for téléexpertise, 36 for téléassistance…), which an
 * offer written elsewhere may use alone. fromFhir reads a keyword back from exactly these codes.
 */
export const MODALITY_CHARACTERISTICS: Readonly<Record<TelehealthModality, readonly { system: string; code: string }[]>> = (() => {
  const r338 = (code: string) => ({ system: CODE_SETS.receptionModality.system, code });
  const r213 = (code: string) => ({ system: CODE_SETS.careMode.system, code });
  const r210 = (code: string) => ({ system: CODE_SETS.specificAct.system, code });
  return {
    teleconsultation: [r338('04'), r210('0988')],
    teleexpertise: [r338('10'), r338('11'), r338('12'), r210('1271'), r210('1272'), r210('1273'), r213('35')],
    telesoin: [r338('14'), r210('1474')],
    telesurveillance: [r213('37'), ...[...TELESURVEILLANCE_ACTS].map(r210)],
    teleassistance: [r213('36'), r210('0824')],
    regulation: [r213('27')],
  };
})();

/** `characteristic=<system>|<code>,…`: the HealthcareService search for the offers of a modality (OR). */
export function modalitySearch(modality: TelehealthModality): string {
  return `characteristic=${MODALITY_CHARACTERISTICS[modality].map((c) => `${c.system}|${c.code}`).join(',')}`;
}

export const CHANNEL_CODING: Readonly<Record<ContactChannel, { system: 'phone' | 'fax' | 'email' | 'url'; coding: Coding }>> = {
  landline: { system: 'phone', coding: nationalCoding(CODE_SETS.channel, '2') },
  mobile: { system: 'phone', coding: nationalCoding(CODE_SETS.channel, '1') },
  fax: { system: 'fax', coding: nationalCoding(CODE_SETS.channel, '6') },
  email: { system: 'email', coding: nationalCoding(CODE_SETS.channel, '3') },
  // JDV_J225 admits TRE_R256#MSSANTE beside the TRE_R200 codes.
  mssante: { system: 'email', coding: { system: TYPE_MESSAGERIE_SYSTEM, code: 'MSSANTE', display: 'MSSANTE' } },
  web: { system: 'url', coding: nationalCoding(CODE_SETS.channel, '4') },
};
export const CONFIDENTIALITY_CODE: Readonly<Record<ConfidentialityLevel, string>> = { public: '1', professionals: '2', regulation: '3' };

export const DEFAULT_PATIENT_AGES: OfferPatientType = { minAge: 0, maxAge: 120 };

/** The code with its code system and display; the code must be in the set (checkOffer makes sure). */
export function nationalCoding(set: CodeSet, code: string): Coding {
  const concept = conceptOf(set, code);
  if (concept === undefined) throw new RangeError(`${code} is not in ${set.name}`);
  return { system: set.system, code, display: concept.display };
}

/** Translates a local code (from mappings/, through the caller) into the code system given. */
export type LocalCodeTranslator = (localSystem: string, localCode: string, targetSystem: string) => string | undefined;

export interface CodeOptions {
  readonly translate?: LocalCodeTranslator;
}

export function isNationalCode(input: CodeInput): input is NationalCode {
  return (input as Partial<NationalCode>).code !== undefined;
}

/** The national code an input stands for, or undefined when a local code has no translation. */
export function nationalCodeOf(input: CodeInput, set: CodeSet, options: CodeOptions = {}): string | undefined {
  if (isNationalCode(input)) return input.code;
  return options.translate?.(input.localSystem, input.localCode, set.system);
}

const DAY_INDEX: Readonly<Record<DayOfWeek, number>> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
/** ISO day number, the value of ror-available-time-number-days-of-week (1 = Monday). */
export function dayNumber(day: DayOfWeek): number {
  return DAY_INDEX[day];
}

export interface DaySlot {
  readonly day: DayOfWeek;
  readonly opens: string;
  readonly closes: string;
  readonly hoursType?: string;
}

export function compareSlots(a: DaySlot, b: DaySlot): number {
  return (
    dayNumber(a.day) - dayNumber(b.day) ||
    a.opens.localeCompare(b.opens) ||
    a.closes.localeCompare(b.closes) ||
    (a.hoursType ?? '').localeCompare(b.hoursType ?? '')
  );
}

/**
 * Day slots gathered back into opening-hours entries: one entry per (opens, closes, type) with its days
 * in week order, entries ordered by their first day then hours. The FHIR side has one availableTime per
 * day (ROR: daysOfWeek 0..1), so this is the only grouping that survives a round trip.
 */
export function groupedHours(slots: readonly DaySlot[]): OfferOpeningHours[] {
  const groups = new Map<string, { days: Set<DayOfWeek>; opens: string; closes: string; hoursType: string | undefined }>();
  for (const slot of slots) {
    const key = `${slot.opens}|${slot.closes}|${slot.hoursType ?? ''}`;
    const group = groups.get(key) ?? { days: new Set<DayOfWeek>(), opens: slot.opens, closes: slot.closes, hoursType: slot.hoursType };
    group.days.add(slot.day);
    groups.set(key, group);
  }
  const entries = [...groups.values()].map((g) => ({
    days: DAYS_OF_WEEK.filter((d) => g.days.has(d)),
    opens: g.opens,
    closes: g.closes,
    hoursType: g.hoursType,
  }));
  entries.sort((a, b) =>
    compareSlots(
      { day: a.days[0] ?? 'mon', opens: a.opens, closes: a.closes, hoursType: a.hoursType },
      { day: b.days[0] ?? 'mon', opens: b.opens, closes: b.closes, hoursType: b.hoursType },
    ),
  );
  return entries.map((e) => ({ days: e.days, opens: e.opens, closes: e.closes, ...(e.hoursType === undefined ? {} : { hoursType: { code: e.hoursType } }) }));
}

export function daySlotsOf(hours: readonly OfferOpeningHours[], options: CodeOptions = {}): DaySlot[] {
  return hours.flatMap((h) => {
    const hoursType = h.hoursType === undefined ? undefined : nationalCodeOf(h.hoursType, CODE_SETS.hoursType, options);
    return h.days.map((day) => ({ day, opens: h.opens, closes: h.closes, ...(hoursType === undefined ? {} : { hoursType }) }));
  });
}

function sortedCodes(inputs: readonly CodeInput[] | undefined, set: CodeSet, options: CodeOptions): NationalCode[] {
  const codes = new Set<string>();
  const kept: NationalCode[] = [];
  for (const input of inputs ?? []) {
    const code = nationalCodeOf(input, set, options);
    // An untranslatable local code stays as it was: checkOffer reports it, normalisation does not hide it.
    if (code === undefined) kept.push(input as NationalCode);
    else codes.add(code);
  }
  return [...[...codes].sort().map((code) => ({ code })), ...kept];
}

function codeOf(input: CodeInput, set: CodeSet, options: CodeOptions): CodeInput {
  const code = nationalCodeOf(input, set, options);
  return code === undefined ? input : { code };
}

/**
 * The normal form of an offer, which is what fromFhir gives back for it:
 * - defaults written out: active true, structure.finessType EG, patientType 0–120 years, contact
 *   confidentiality public;
 * - local codes replaced by the national codes they translate to;
 * - modalities deduplicated in the order of TELEHEALTH_MODALITIES; reception modalities, specific acts and
 *   publics deduplicated and sorted by code; professionals sorted by RPPS;
 * - opening hours regrouped by groupedHours (same hours and type → one entry, days in week order);
 * - empty optional lists dropped.
 * Sites and contacts keep their order: it carries meaning (site keys, preferred contact first).
 */
export function normalizeOffer(offer: Offer, options: CodeOptions = {}): Offer {
  const modalities = TELEHEALTH_MODALITIES.filter((m) => offer.modalities.includes(m));
  const receptionModalities = sortedCodes(offer.receptionModalities, CODE_SETS.receptionModality, options);
  const specificActs = sortedCodes(offer.specificActs, CODE_SETS.specificAct, options);
  const patientType = offer.patientType ?? DEFAULT_PATIENT_AGES;
  const publics = sortedCodes(patientType.publics, CODE_SETS.public, options);
  const professionals = [...(offer.professionals ?? [])]
    .sort((a, b) => a.rpps.localeCompare(b.rpps))
    .map((p) => ({ ...p, profession: codeOf(p.profession, CODE_SETS.profession, options) }));
  const openingHours = groupedHours(daySlotsOf(offer.openingHours ?? [], options));
  const contacts = (offer.contacts ?? []).map((c) => ({ ...c, confidentiality: c.confidentiality ?? 'public' }));
  // Field by field, so that the normal form holds the contract's fields only and no empty list.
  return {
    identifiantOffre: offer.identifiantOffre,
    name: offer.name,
    ...(offer.description === undefined ? {} : { description: offer.description }),
    active: offer.active ?? true,
    sensitiveUnit: offer.sensitiveUnit,
    structure: { ...offer.structure, finessType: offer.structure.finessType ?? 'EG' },
    sites: offer.sites,
    activityField: codeOf(offer.activityField, CODE_SETS.activityField, options),
    operationalActivity: codeOf(offer.operationalActivity, CODE_SETS.operationalActivity, options),
    careMode: codeOf(offer.careMode, CODE_SETS.careMode, options),
    modalities,
    ...(offer.teleexpertiseDelay === undefined ? {} : { teleexpertiseDelay: offer.teleexpertiseDelay }),
    ...(receptionModalities.length > 0 ? { receptionModalities } : {}),
    ...(specificActs.length > 0 ? { specificActs } : {}),
    patientType: { minAge: patientType.minAge, maxAge: patientType.maxAge, ...(publics.length > 0 ? { publics } : {}) },
    ...(professionals.length > 0 ? { professionals } : {}),
    ...(openingHours.length > 0 ? { openingHours } : {}),
    ...(contacts.length > 0 ? { contacts } : {}),
  };
}
