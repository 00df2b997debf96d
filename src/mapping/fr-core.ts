// FR Core's canonical URLs and the national identifier systems (structures: FINESS, idNatSt; professionals:
// idNatPs, RPPS), shared by offers, acts and patients: one place for each.
import type { Identifier } from '@medplum/fhirtypes';

export const FR_CORE_PATIENT = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient';
export const FR_CORE_ORGANIZATION = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-organization';
export const FR_CORE_PRACTITIONER = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner';
export const FR_CORE_PRACTITIONER_ROLE = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner-role';
export const FR_CORE_IDENTIFIER_TYPE = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203';
export const FINESS_SYSTEM = 'https://finess.esante.gouv.fr';
export const ID_NAT_ST_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.2';
export const ID_NAT_PS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
export const RPPS_SYSTEM = 'https://rpps.esante.gouv.fr';

/** The value of the first identifier of `system` whose value begins with `prefix`, the prefix cut off. */
export function identifierValue(identifiers: readonly Identifier[] | undefined, system: string, prefix = ''): string | undefined {
  return identifiers?.find((identifier) => identifier.system === system && identifier.value?.startsWith(prefix) === true)?.value?.slice(prefix.length);
}

/** A professional's RPPS: its RPPS identifier, or its national identifier (idNatPs, `8` + RPPS). */
export function rppsIn(identifiers: readonly Identifier[] | undefined): string | undefined {
  return identifierValue(identifiers, RPPS_SYSTEM) ?? identifierValue(identifiers, ID_NAT_PS_SYSTEM, '8');
}

/** A structure's FINESS: its FINESS identifier, or its national identifier (idNatSt, `1` + FINESS). */
export function finessIn(identifiers: readonly Identifier[] | undefined): string | undefined {
  return identifierValue(identifiers, FINESS_SYSTEM) ?? identifierValue(identifiers, ID_NAT_ST_SYSTEM, '1');
}
