// A telehealth offer as one FHIR transaction: the ROR-aligned HealthcareService, its Organization (by
// FINESS), its Locations, and a Practitioner and PractitionerRole per professional, each written by a
// conditional update on its business identifier. The mapping is deterministic (same offer → the same
// bytes: sorted lists, no clock, urn:uuid derived from the identifiers), so that sending an offer again
// is a no-op update on the server: no new resource, no new version, meta.lastUpdated unchanged.
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  ContactPoint,
  Extension,
  HealthcareService,
  HealthcareServiceAvailableTime,
  Identifier,
  Location,
  Organization,
  Practitioner,
  PractitionerRole,
  Resource,
} from '@medplum/fhirtypes';
import type { CodeInput, Offer, OfferContact, OfferIssue, OfferProfessional, OfferSite } from '../model/offer.ts';
import { CODE_SETS, type CodeSet } from './codes/index.ts';
import { checkOffer } from './offer-check.ts';
import {
  ACT_OF_DELAY,
  ACT_OF_MODALITY,
  CHANNEL_CODING,
  CONFIDENTIALITY_CODE,
  dayNumber,
  daySlotsOf,
  DEFAULT_PATIENT_AGES,
  FR_CORE_EMAIL_TYPE,
  FR_CORE_LOCATION,
  FR_CORE_LOCATION_IDENTIFIER_TYPE,
  FR_CORE_ORGANIZATION_ETABLISSEMENT,
  nationalCoding,
  nationalCodeOf,
  normalizeOffer,
  OFFER_IDENTIFIER_SYSTEM,
  RECEPTION_OF_DELAY,
  RECEPTION_OF_MODALITY,
  ROLE_IDENTIFIER_SYSTEM,
  ROR_EXTENSION,
  SIRENE_SYSTEM,
  SITE_IDENTIFIER_SYSTEM,
  TELESANTE_HEALTHCARESERVICE,
  UCUM_UNIT_SYSTEM,
  compareSlots,
  type CodeOptions,
} from './offer-coding.ts';
import { identifierQuery, stableUuid } from './keys.ts';
import { ADDRESS_INSEE_CODE, INSEE_COMMUNE_SYSTEM } from './patient.ts';
import { FINESS_SYSTEM, FR_CORE_IDENTIFIER_TYPE, FR_CORE_PRACTITIONER, FR_CORE_PRACTITIONER_ROLE, ID_NAT_PS_SYSTEM, ID_NAT_ST_SYSTEM, RPPS_SYSTEM } from './fr-core.ts';

export interface OfferMappingOptions extends CodeOptions {
  /** FHIR dateTime, the ROR creation date of an offer stored for the first time (the caller's clock). */
  readonly now: string;
  /** The HealthcareService as stored, when the offer already exists: its ROR creation date is kept. */
  readonly existing?: HealthcareService;
  /** The PractitionerRoles stored for the offer: those of professionals no longer listed are deleted. */
  readonly existingRoles?: readonly PractitionerRole[];
}

/** The offer breaks a business rule; `issues` holds every one of them (checkOffer). */
export class InvalidOfferError extends Error {
  readonly issues: readonly OfferIssue[];
  constructor(issues: readonly OfferIssue[]) {
    super(`invalid offer: ${issues.map((i) => `${i.field}: ${i.code}`).join(', ')}`);
    this.name = 'InvalidOfferError';
    this.issues = issues;
  }
}

/** The search that finds the offer's HealthcareService: `HealthcareService?` + this. */
export function offerSearch(identifiantOffre: string): string {
  return identifierQuery(OFFER_IDENTIFIER_SYSTEM, identifiantOffre);
}

/**
 * The search that reads an offer back with everything fromFhir needs, in one request:
 * `HealthcareService?` + this.
 */
export function offerReadSearch(identifiantOffre: string): string {
  return [
    offerSearch(identifiantOffre),
    '_include=HealthcareService:organization',
    '_include=HealthcareService:location',
    '_revinclude=PractitionerRole:service',
    '_include:iterate=PractitionerRole:practitioner',
  ].join('&');
}

interface Write<T extends Resource> {
  readonly resource: T;
  readonly url: string;
  readonly fullUrl: string;
}

function write<T extends Resource>(resource: T, system: string, value: string): Write<T> {
  const url = `${resource.resourceType}?${identifierQuery(system, value)}`;
  return { resource, url, fullUrl: stableUuid(url) };
}

function identifierType(code: string, display: string, system = FR_CORE_IDENTIFIER_TYPE): CodeableConcept {
  return { coding: [{ system, code, display }] };
}

function concept(set: CodeSet, code: string): CodeableConcept {
  return { coding: [nationalCoding(set, code)] };
}

/** The national code of a field of the normalised offer (local codes already translated). */
function codeIn(input: CodeInput, set: CodeSet): string {
  const code = nationalCodeOf(input, set);
  if (code === undefined) throw new RangeError(`no national code in ${set.name}`);
  return code;
}

function organizationOf(offer: Offer): Organization {
  const { structure } = offer;
  const fineg = (structure.finessType ?? 'EG') === 'EG';
  const identifier: Identifier[] = [
    {
      use: 'official',
      type: fineg ? identifierType('FINEG', "FINESS d'entité géographique") : identifierType('FINEJ', "FINESS d'entité juridique"),
      system: FINESS_SYSTEM,
      value: structure.finess,
    },
    {
      use: 'official',
      type: identifierType('IDNST', 'Identification nationale de structure définie par l’ANS dans le CI_SIS'),
      system: ID_NAT_ST_SYSTEM,
      // idNatSt prefix 1 = FINESS.
      value: `1${structure.finess}`,
    },
  ];
  if (structure.siret !== undefined) {
    identifier.push({ use: 'official', type: identifierType('SIRET', "Identification de l'organisation au SIRET"), system: SIRENE_SYSTEM, value: structure.siret });
  }
  return { resourceType: 'Organization', meta: { profile: [FR_CORE_ORGANIZATION_ETABLISSEMENT] }, identifier, name: structure.name };
}

/**
 * A site's key: its FINESS (entité géographique) when it has one, shared by every offer at that site;
 * otherwise `<identifiantOffre>-site-<n>` under our system, n being its position from 1. Reordering sites
 * without FINESS rewrites those Locations in place (no duplicate, no orphan).
 */
export function siteKey(offer: Offer, index: number): { system: string; value: string } {
  const site = offer.sites[index];
  if (site?.finess !== undefined) return { system: FINESS_SYSTEM, value: site.finess };
  return { system: SITE_IDENTIFIER_SYSTEM, value: `${offer.identifiantOffre}-site-${index + 1}` };
}

function locationOf(offer: Offer, site: OfferSite, index: number, organization: string): Location {
  const key = siteKey(offer, index);
  const identifier: Identifier =
    key.system === FINESS_SYSTEM
      ? { use: 'official', type: identifierType('FINEG', "FINESS d'entité géographique"), system: key.system, value: key.value }
      : { use: 'usual', type: identifierType('INTRN', 'Identifiant interne', FR_CORE_LOCATION_IDENTIFIER_TYPE), system: key.system, value: key.value };
  const location: Location = {
    resourceType: 'Location',
    meta: { profile: [FR_CORE_LOCATION] },
    identifier: [identifier],
    status: 'active',
    name: site.name,
    mode: 'instance',
    address: {
      extension: [{ url: ADDRESS_INSEE_CODE, valueCoding: { system: INSEE_COMMUNE_SYSTEM, code: site.address.inseeCode } }],
      use: 'work',
      type: 'physical',
      line: [...site.address.lines],
      city: site.address.city,
      postalCode: site.address.postalCode,
    },
    managingOrganization: { reference: organization },
  };
  if (site.coordinates !== undefined) {
    location.position = { longitude: site.coordinates.longitude, latitude: site.coordinates.latitude };
  }
  return location;
}

function practitionerOf(professional: OfferProfessional): Practitioner {
  return {
    resourceType: 'Practitioner',
    meta: { profile: [FR_CORE_PRACTITIONER] },
    identifier: [
      // idNatPs = 8 + RPPS.
      { use: 'official', type: identifierType('IDNPS', 'Identifiant National de Professionnel de Santé'), system: ID_NAT_PS_SYSTEM, value: `8${professional.rpps}` },
      { use: 'official', type: identifierType('RPPS', 'N° RPPS'), system: RPPS_SYSTEM, value: professional.rpps },
    ],
    name: [{ family: professional.familyName, ...(professional.givenName === undefined ? {} : { given: [professional.givenName] }) }],
  };
}

export function roleKey(offer: Offer, rpps: string): string {
  return `${offer.identifiantOffre}-${rpps}`;
}

function roleOf(
  offer: Offer,
  professional: OfferProfessional,
  refs: { practitioner: string | undefined; organization: string; service: string },
): PractitionerRole {
  if (refs.practitioner === undefined) throw new RangeError(`no Practitioner for ${professional.rpps}`);
  return {
    resourceType: 'PractitionerRole',
    meta: { profile: [FR_CORE_PRACTITIONER_ROLE] },
    identifier: [{ system: ROLE_IDENTIFIER_SYSTEM, value: roleKey(offer, professional.rpps) }],
    active: offer.active ?? true,
    practitioner: { reference: refs.practitioner },
    organization: { reference: refs.organization },
    // The ROR codes the professional's role in the offer by profession (JDV_J229, TRE_G15 codes).
    code: [concept(CODE_SETS.profession, codeIn(professional.profession, CODE_SETS.profession))],
    healthcareService: [{ reference: refs.service }],
  };
}

function telecomOf(contact: OfferContact): ContactPoint {
  const channel = CHANNEL_CODING[contact.channel];
  const extension: Extension[] = [];
  if (contact.channel === 'mssante') extension.push({ url: FR_CORE_EMAIL_TYPE, valueCoding: channel.coding });
  extension.push({ url: ROR_EXTENSION.channel, valueCodeableConcept: { coding: [channel.coding] } });
  if (contact.usage !== undefined) extension.push({ url: ROR_EXTENSION.usage, valueString: contact.usage });
  extension.push({
    url: ROR_EXTENSION.confidentiality,
    valueCodeableConcept: concept(CODE_SETS.confidentiality, CONFIDENTIALITY_CODE[contact.confidentiality ?? 'public']),
  });
  return { extension, system: channel.system, value: contact.value };
}

function ageQuantity(years: number): { value: number; unit: string; system: string; code: string } {
  return { value: years, unit: 'a', system: UCUM_UNIT_SYSTEM, code: 'a' };
}

function patientTypeExtension(offer: Offer): Extension {
  const patientType = offer.patientType ?? DEFAULT_PATIENT_AGES;
  return {
    url: ROR_EXTENSION.patientType,
    extension: [
      ...(patientType.publics ?? []).map((p) => ({ url: 'supportedPatientInfo', valueCodeableConcept: concept(CODE_SETS.public, codeIn(p, CODE_SETS.public)) })),
      { url: 'ageRange', valueRange: { low: ageQuantity(patientType.minAge), high: ageQuantity(patientType.maxAge) } },
    ],
  };
}

/** The creation date the ROR requires: the stored one when there is one, else the caller's `now`. */
function creationDateOf(options: OfferMappingOptions): string {
  const stored = options.existing?.extension?.find((e) => e.url === ROR_EXTENSION.creationDate)?.valueDateTime;
  return stored ?? options.now;
}

function characteristicsOf(offer: Offer): CodeableConcept[] {
  const modalities = new Set(offer.modalities);
  const reception = new Set((offer.receptionModalities ?? []).map((c) => codeIn(c, CODE_SETS.receptionModality)));
  const acts = new Set((offer.specificActs ?? []).map((c) => codeIn(c, CODE_SETS.specificAct)));
  for (const modality of modalities) {
    const receptionCode = RECEPTION_OF_MODALITY[modality];
    if (receptionCode !== undefined) reception.add(receptionCode);
    const act = ACT_OF_MODALITY[modality];
    if (act !== undefined) acts.add(act);
  }
  if (modalities.has('teleexpertise') && offer.teleexpertiseDelay !== undefined) {
    const receptionCode = RECEPTION_OF_DELAY[offer.teleexpertiseDelay];
    if (receptionCode !== undefined) reception.add(receptionCode);
    acts.add(ACT_OF_DELAY[offer.teleexpertiseDelay]);
  }
  return [
    concept(CODE_SETS.careMode, codeIn(offer.careMode, CODE_SETS.careMode)),
    ...[...reception].sort().map((code) => concept(CODE_SETS.receptionModality, code)),
    ...[...acts].sort().map((code) => ({
      extension: [{ url: ROR_EXTENSION.actType, valueCode: 'specificAct' }],
      ...concept(CODE_SETS.specificAct, code),
    })),
  ];
}

function availableTimesOf(offer: Offer): HealthcareServiceAvailableTime[] {
  return daySlotsOf(offer.openingHours ?? [])
    .sort(compareSlots)
    .map((slot) => {
      const extension: Extension[] = [];
      if (slot.hoursType !== undefined) extension.push({ url: ROR_EXTENSION.typeOfTime, valueCodeableConcept: concept(CODE_SETS.hoursType, slot.hoursType) });
      // ROR restricts daysOfWeek to one day and prefers the day number: both are written.
      extension.push({ url: ROR_EXTENSION.dayNumber, valueInteger: dayNumber(slot.day) });
      return { extension, daysOfWeek: [slot.day], availableStartTime: `${slot.opens}:00`, availableEndTime: `${slot.closes}:00` };
    });
}

function healthcareServiceOf(offer: Offer, options: OfferMappingOptions, refs: { organization: string; locations: string[] }): HealthcareService {
  const service: HealthcareService = {
    resourceType: 'HealthcareService',
    meta: { profile: [TELESANTE_HEALTHCARESERVICE] },
    extension: [
      { url: ROR_EXTENSION.sensitiveUnit, valueBoolean: offer.sensitiveUnit },
      patientTypeExtension(offer),
      { url: ROR_EXTENSION.creationDate, valueDateTime: creationDateOf(options) },
    ],
    identifier: [{ system: OFFER_IDENTIFIER_SYSTEM, value: offer.identifiantOffre }],
    active: offer.active ?? true,
    providedBy: { reference: refs.organization },
    type: [concept(CODE_SETS.activityField, codeIn(offer.activityField, CODE_SETS.activityField))],
    specialty: [concept(CODE_SETS.operationalActivity, codeIn(offer.operationalActivity, CODE_SETS.operationalActivity))],
    location: refs.locations.map((reference) => ({ reference })),
    name: offer.name,
  };
  if (offer.description !== undefined) service.comment = offer.description;
  if (offer.contacts !== undefined) service.telecom = offer.contacts.map(telecomOf);
  service.characteristic = characteristicsOf(offer);
  const times = availableTimesOf(offer);
  if (times.length > 0) service.availableTime = times;
  return service;
}

/**
 * The offer as one transaction of conditional updates (`PUT Type?identifier=system|value`), linked by
 * urn:uuid fullUrls, in the order Organization, Locations, HealthcareService, Practitioners,
 * PractitionerRoles, then the conditional deletes of roles no longer listed. Throws InvalidOfferError
 * when checkOffer finds an error: nothing half-valid reaches the server.
 */
export function toOfferBundle(offer: Offer, options: OfferMappingOptions): Bundle {
  const errors = checkOffer(offer, options).filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new InvalidOfferError(errors);
  const normal = normalizeOffer(offer, options);

  const organization = write(organizationOf(normal), FINESS_SYSTEM, normal.structure.finess);
  const locations = normal.sites.map((site, index) => {
    const key = siteKey(normal, index);
    return write(locationOf(normal, site, index, organization.fullUrl), key.system, key.value);
  });
  const service = write(
    healthcareServiceOf(normal, options, { organization: organization.fullUrl, locations: locations.map((l) => l.fullUrl) }),
    OFFER_IDENTIFIER_SYSTEM,
    normal.identifiantOffre,
  );
  const professionals = normal.professionals ?? [];
  const practitioners = professionals.map((p) => write(practitionerOf(p), ID_NAT_PS_SYSTEM, `8${p.rpps}`));
  const roles = professionals.map((professional, index) =>
    write(
      roleOf(normal, professional, { practitioner: practitioners[index]?.fullUrl, organization: organization.fullUrl, service: service.fullUrl }),
      ROLE_IDENTIFIER_SYSTEM,
      roleKey(normal, professional.rpps),
    ),
  );

  const entry: BundleEntry[] = [organization, ...locations, service, ...practitioners, ...roles].map((w) => ({
    fullUrl: w.fullUrl,
    resource: w.resource,
    request: { method: 'PUT', url: w.url },
  }));
  const kept = new Set(professionals.map((p) => roleKey(normal, p.rpps)));
  // Only this offer's own roles can go, whatever the caller passes: `<identifiantOffre>-<11-digit RPPS>`.
  const ours = (value: string) => value.startsWith(`${normal.identifiantOffre}-`) && /^\d{11}$/.test(value.slice(normal.identifiantOffre.length + 1));
  const stale = new Set<string>();
  for (const role of options.existingRoles ?? []) {
    for (const id of role.identifier ?? []) {
      if (id.system === ROLE_IDENTIFIER_SYSTEM && id.value !== undefined && ours(id.value) && !kept.has(id.value)) stale.add(id.value);
    }
  }
  for (const value of [...stale].sort()) {
    entry.push({ request: { method: 'DELETE', url: `PractitionerRole?${identifierQuery(ROLE_IDENTIFIER_SYSTEM, value)}` } });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** The stored HealthcareService of a withdrawn offer: inactive, everything else as it was. */
export function withdrawOffer(existing: HealthcareService): HealthcareService {
  return { ...structuredClone(existing), active: false };
}
