// The FHIR searches that find acts: by their business identifier (and everything stored with them, in
// one read), by class, type, patient (INS) and structure (FINESS).
import { INS_OIDS } from '../ins/index.ts';
import type { ActType } from '../model/act.ts';
import { actTypeCodings, V3_ACT_CODE } from './act-coding.ts';
import { FINESS_SYSTEM } from './fr-core.ts';
import { identifierQuery, tokenQuery } from './keys.ts';

/** `Encounter?` + this finds the act's Encounter. */
export function actSearch(source: string, actId: string): string {
  return identifierQuery(source, actId);
}

const ACT_READ_INCLUDES: readonly string[] = [
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
];

/**
 * `Encounter?` + this reads acts back, each with everything actFromFhir, toReportAmendment and
 * toCancellation need, in one search (writes/acts.ts readStoredActs tells whose is what).
 */
export function actReadSearch(acts: readonly { readonly source: string; readonly actId: string }[]): string {
  return [tokenQuery('identifier', acts.map((act) => ({ system: act.source, code: act.actId }))), ...ACT_READ_INCLUDES, `_count=${acts.length}`].join('&');
}

/**
 * `Encounter?` + this, probed (FhirStore.probe), says which of these acts are stored: their Encounters'
 * identifiers only. Room for two Encounters an act: an act stored twice by mistake still shows.
 */
export function actProbeSearch(acts: readonly { readonly source: string; readonly actId: string }[]): string {
  return [tokenQuery('identifier', acts.map((act) => ({ system: act.source, code: act.actId }))), '_elements=identifier', `_count=${acts.length * 2}`].join('&');
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
