import type { Coding, Extension, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import {
  checkIns,
  INS_OIDS,
  insExchangeDecision,
  type IdentityStatus,
  type InsCheckOptions,
  type InsCheckResult,
  type InsExclusionCode,
  type InsKind,
  type Sex,
} from '../ins/index.ts';
import { FR_CORE_IDENTIFIER_TYPE, FR_CORE_PATIENT } from './fr-core.ts';
import { identifierQuery } from './keys.ts';

// Everything below is read from the FR Core 2.2.0-ballot-2 package (snapshots of fr-core-patient and
// fr-core-patient-ins, the extensions and the code systems they bind).
export const FR_CORE_PATIENT_INS = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins';
export const HL7_IDENTIFIER_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const BIRTH_LIST_GIVEN_NAME = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name';
export const PATIENT_BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
export const ADDRESS_INSEE_CODE = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code';
export const INSEE_COMMUNE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM';
export const IDENTITY_RELIABILITY = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability';
export const IDENTITY_RELIABILITY_SYSTEM = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445';
export const METHOD_COLLECTION_SYSTEM = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-method-collection';

/** fr-core-cs-method-collection: how the identity was collected. */
export const METHOD_COLLECTION = {
  SM: 'Saisie manuelle',
  CV: 'Carte vitale',
  INSI: 'Téléservice INSI',
  CB: 'Code à barre',
  RFID: 'Puce RFID',
} as const;
export type MethodCollection = keyof typeof METHOD_COLLECTION;

export interface PatientTraits {
  readonly birthFamilyName: string;
  /** Every given name of the birth certificate, in order; the first is the one used in official name. */
  readonly birthGivenNames: readonly string[];
  /** FHIR date, YYYY-MM-DD for an INS identity. */
  readonly birthDate: string;
  readonly sex: Sex;
  /** INSEE COG code: a commune, or 99 + the INSEE country code for a birth abroad. */
  readonly birthplaceCode?: string;
  readonly usedFamilyName?: string;
  readonly usedGivenName?: string;
}

export interface PatientInput {
  readonly ins?: string;
  readonly insOid?: string;
  readonly identityStatus: IdentityStatus;
  /** How the identity was collected; INSI is assumed for RECUP and QUAL, whose traits come from INSi. */
  readonly methodCollection?: MethodCollection;
  readonly traits: PatientTraits;
  /** The patient's identifier in the source system (IPP). */
  readonly ipp: { readonly system: string; readonly value: string };
}

export interface PatientMapping {
  readonly patient: Patient;
  readonly insIncluded: boolean;
  /** Why the INS was left out (also when there was none), in French; absent when it was included. */
  readonly insExclusionReason?: string;
  readonly insExclusionCode?: InsExclusionCode;
  /** The INS check, when an INS was given: the caller can surface its warnings. */
  readonly insCheck?: InsCheckResult;
  /**
   * Search that identifies this patient for a conditional write (append to `Patient?`): always the IPP,
   * the identifier of the source system. Keying on the INS instead would create a second Patient the day
   * a provisional identity becomes qualified, and would let two source systems overwrite each other.
   */
  readonly conditionalKey: string;
  /** Search on the INS, when it was included: to find the same person across source systems. */
  readonly insSearch?: string;
}

/**
 * Our RNIV statuses in the codes FR Core 2.2.0-ballot-2 binds (fr-core-cs-v2-0445, extensible), which
 * predate the RNIV and have neither RECUP nor QUAL:
 * - QUAL → VALI: the package's own invariants fr-core-1 and fr-core-2 tie VALI to the presence of exactly
 *   one official INS identifier, so in this version "VALI + INS" is how a qualified identity is written.
 * - VALI → VALI: validated identity; it never carries the INS, which keeps it apart from QUAL.
 * - RECUP → VIDE ("Identité non encore qualifiée"): INS retrieved, identity not yet checked on a document.
 * - PROV → PROV.
 * The mapping is reversible: VALI with an INS identifier is QUAL, VALI without it is VALI. FR Core 2.2.0
 * (final) adds RECUP and QUAL; when we move to it, emit them as they are.
 */
export const FR_CORE_IDENTITY_STATUS = {
  PROV: { code: 'PROV', display: 'Identité provisoire' },
  RECUP: { code: 'VIDE', display: 'Identité non encore qualifiée' },
  VALI: { code: 'VALI', display: 'Identité validée' },
  QUAL: { code: 'VALI', display: 'Identité validée' },
} as const satisfies Record<IdentityStatus, { code: string; display: string }>;

const INS_TYPE_DISPLAY: Record<InsKind, string> = {
  'INS-NIR': 'NIR définitif',
  'INS-NIA': 'NIR temporaire',
  'INS-NIR-TEST': 'NIR TEST',
  'INS-NIR-DEMO': 'NIR DEMO',
};

// Every INS slice of fr-core-patient-ins binds `use` to official|old (required), and fr-core-1 looks for
// use = official; that holds for the NIA too, even though DOMAIN.md lists `temp` for it.
function insIdentifier(kind: InsKind, value: string): Identifier {
  return {
    use: 'official',
    type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: kind, display: INS_TYPE_DISPLAY[kind] }] },
    system: INS_OIDS[kind],
    value,
  };
}

// The PI slice excludes `official` from its uses, and fr-core-2 allows only one official identifier (the INS).
function ippIdentifier(ipp: PatientInput['ipp']): Identifier {
  return {
    use: 'usual',
    type: { coding: [{ system: HL7_IDENTIFIER_TYPE, code: 'PI', display: 'Patient internal identifier' }] },
    system: ipp.system,
    value: ipp.value,
  };
}

function cleanGivenNames(names: readonly string[]): string[] {
  return names.map((name) => name.trim()).filter((name) => name !== '');
}

// The INS profile allows exactly one `given` in the official name (the first birth given name); the full
// list travels, space-separated as INSi returns it, in the birth-list-given-name extension.
function officialName(traits: PatientTraits): HumanName {
  const given = cleanGivenNames(traits.birthGivenNames);
  const name: HumanName = { use: 'official', family: traits.birthFamilyName.trim() };
  if (given.length > 0) {
    name.extension = [{ url: BIRTH_LIST_GIVEN_NAME, valueString: given.join(' ') }];
    name.given = [given[0] as string];
  }
  return name;
}

function usualName(traits: PatientTraits): HumanName | undefined {
  const family = traits.usedFamilyName?.trim();
  const given = traits.usedGivenName?.trim();
  if (!family && !given) return undefined;
  const name: HumanName = { use: 'usual' };
  if (family) name.family = family;
  if (given) name.given = [given];
  return name;
}

// FR Core binds gender (required) to male | female | unknown: 'other' has no place there.
function frCoreGender(sex: Sex): 'male' | 'female' | 'unknown' {
  return sex === 'other' ? 'unknown' : sex;
}

// patient-birthPlace carries an fr-core-address whose insee-code extension holds the COG code. The package
// binds that code to TRE_R13-CommuneOM only, yet its invariant fr-core-3 reads 99xxx country codes at the
// same place, so births abroad (99 + country) use the same extension and system.
function birthPlaceExtension(code: string): Extension {
  return {
    url: PATIENT_BIRTH_PLACE,
    valueAddress: { extension: [{ url: ADDRESS_INSEE_CODE, valueCoding: { system: INSEE_COMMUNE_SYSTEM, code } }] },
  };
}

function identityReliabilityExtension(input: PatientInput): Extension {
  const status = FR_CORE_IDENTITY_STATUS[input.identityStatus];
  const parts: Extension[] = [
    { url: 'identityStatus', valueCoding: { system: IDENTITY_RELIABILITY_SYSTEM, code: status.code, display: status.display } },
  ];
  const method = methodCollectionOf(input);
  if (method !== undefined) parts.push({ url: 'methodCollection', valueCoding: method });
  return { url: IDENTITY_RELIABILITY, extension: parts };
}

function methodCollectionOf(input: PatientInput): Coding | undefined {
  const fromInsi = input.identityStatus === 'RECUP' || input.identityStatus === 'QUAL';
  const code = input.methodCollection ?? (fromInsi ? 'INSI' : undefined);
  if (code === undefined) return undefined;
  return { system: METHOD_COLLECTION_SYSTEM, code, display: METHOD_COLLECTION[code] };
}

function basePatient(input: PatientInput, profile: string, identifiers: Identifier[]): Patient {
  const { traits } = input;
  const extension: Extension[] = [];
  if (traits.birthplaceCode) extension.push(birthPlaceExtension(traits.birthplaceCode));
  extension.push(identityReliabilityExtension(input));
  const names: HumanName[] = [officialName(traits)];
  const usual = usualName(traits);
  if (usual) names.push(usual);
  return {
    resourceType: 'Patient',
    meta: { profile: [profile] },
    extension,
    identifier: identifiers,
    name: names,
    gender: frCoreGender(traits.sex),
    birthDate: traits.birthDate,
  };
}

/**
 * The FR Core Patient for an identity: fr-core-patient-ins with the INS when the RNIV allows sharing it
 * (qualified identity, valid INS, complete traits), otherwise fr-core-patient with the IPP only and the
 * reason the INS was left out.
 */
export function toFrCorePatient(input: PatientInput, options: InsCheckOptions = {}): PatientMapping {
  const { traits } = input;
  const hasIns = input.ins !== undefined && input.ins.trim() !== '';
  const insCheck = hasIns
    ? checkIns(
        { ins: input.ins, oid: input.insOid, traits: { sex: traits.sex, birthDate: traits.birthDate, birthplaceCode: traits.birthplaceCode } },
        options,
      )
    : undefined;
  const decision = insExchangeDecision({ identityStatus: input.identityStatus, insCheck, traits });
  const conditionalKey = identifierQuery(input.ipp.system, input.ipp.value);

  if (decision.allowed) {
    const identifiers = [insIdentifier(decision.kind, decision.ins), ippIdentifier(input.ipp)];
    return {
      patient: basePatient(input, FR_CORE_PATIENT_INS, identifiers),
      insIncluded: true,
      insCheck,
      conditionalKey,
      insSearch: identifierQuery(INS_OIDS[decision.kind], decision.ins),
    };
  }
  const excluded: PatientMapping = {
    patient: basePatient(input, FR_CORE_PATIENT, [ippIdentifier(input.ipp)]),
    insIncluded: false,
    insExclusionCode: decision.code,
    insExclusionReason: decision.reason,
    conditionalKey,
  };
  return insCheck === undefined ? excluded : { ...excluded, insCheck };
}
