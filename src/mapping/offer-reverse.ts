// FHIR → offer: what GET /v1/offers/{id} answers, and the other half of the round trip. It reads our own
// transaction Bundle (urn:uuid references) as well as a search result of the server (`Type/id` or
// absolute references), e.g. the answer to `HealthcareService?` + offerReadSearch(id).
import type {
  Bundle,
  CodeableConcept,
  Coding,
  ContactPoint,
  Extension,
  HealthcareService,
  Location,
  Organization,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type {
  ConfidentialityLevel,
  ContactChannel,
  DayOfWeek,
  NationalCode,
  Offer,
  OfferContact,
  OfferProfessional,
  OfferSite,
  TeleexpertiseDelay,
} from '../model/offer.ts';
import { DAYS_OF_WEEK, TELEHEALTH_MODALITIES } from '../model/offer.ts';
import { CODE_SETS } from './codes/index.ts';
import {
  CHANNEL_CODING,
  CONFIDENTIALITY_CODE,
  groupedHours,
  KEYWORD_ACT_CODES,
  KEYWORD_RECEPTION_CODES,
  MODALITY_CHARACTERISTICS,
  normalizeOffer,
  OFFER_IDENTIFIER_SYSTEM,
  ROR_EXTENSION,
  SIRENE_SYSTEM,
  type DaySlot,
} from './offer-coding.ts';
import { ADDRESS_INSEE_CODE } from './patient.ts';
import { FINESS_SYSTEM, ID_NAT_ST_SYSTEM, rppsIn } from './fr-core.ts';

/** The resources cannot make an offer (no HealthcareService, no organization, a required code missing). */
export class UnreadableOfferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableOfferError';
  }
}

export type OfferSource = Bundle | readonly Resource[];

interface Indexed {
  readonly resources: readonly Resource[];
  resolve(reference: Reference | undefined): Resource | undefined;
}

function indexed(source: OfferSource): Indexed {
  const entries = Array.isArray(source)
    ? (source as readonly Resource[]).map((resource) => ({ resource, fullUrl: undefined }))
    : ((source as Bundle).entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [{ resource: e.resource, fullUrl: e.fullUrl }]));
  const byKey = new Map<string, Resource>();
  for (const { resource, fullUrl } of entries) {
    if (fullUrl !== undefined) byKey.set(fullUrl, resource);
    if (resource.id !== undefined) byKey.set(`${resource.resourceType}/${resource.id}`, resource);
  }
  return {
    resources: entries.map((e) => e.resource),
    resolve(reference) {
      const ref = reference?.reference;
      if (ref === undefined) return undefined;
      const direct = byKey.get(ref);
      if (direct !== undefined) return direct;
      // Absolute or versioned: https://server/fhir/Location/12/_history/3 → Location/12.
      const match = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
      return match?.[1] === undefined ? undefined : byKey.get(match[1]);
    },
  };
}

function codeIn(concepts: readonly CodeableConcept[] | undefined, system: string): string | undefined {
  for (const c of concepts ?? []) {
    const coding = c.coding?.find((x) => x.system === system && x.code !== undefined);
    if (coding?.code !== undefined) return coding.code;
  }
  return undefined;
}

function extensionOf(extensions: readonly Extension[] | undefined, url: string): Extension | undefined {
  return extensions?.find((e) => e.url === url);
}

function siteOf(location: Location): OfferSite {
  const address = location.address ?? {};
  const inseeCode = extensionOf(address.extension, ADDRESS_INSEE_CODE)?.valueCoding?.code;
  const finess = location.identifier?.find((i) => i.system === FINESS_SYSTEM)?.value;
  const { latitude, longitude } = location.position ?? {};
  return {
    name: location.name ?? '',
    ...(finess === undefined ? {} : { finess }),
    address: { lines: [...(address.line ?? [])], postalCode: address.postalCode ?? '', city: address.city ?? '', inseeCode: inseeCode ?? '' },
    ...(latitude === undefined || longitude === undefined ? {} : { coordinates: { latitude, longitude } }),
  };
}

function structureOf(organization: Organization): Offer['structure'] {
  const finess = organization.identifier?.find((i) => i.system === FINESS_SYSTEM);
  // The ROR and FR Core also name a structure by its idNatSt: 1 + FINESS.
  const idNatSt = organization.identifier?.find((i) => i.system === ID_NAT_ST_SYSTEM && i.value?.startsWith('1') === true)?.value?.slice(1);
  const ej = finess?.type?.coding?.some((c) => c.code === 'FINEJ') === true;
  const siret = organization.identifier?.find((i) => i.system === SIRENE_SYSTEM && (i.type?.coding?.some((c) => c.code === 'SIRET') ?? i.value?.length === 14));
  const value = finess?.value ?? idNatSt;
  if (value === undefined) throw new UnreadableOfferError(`Organization/${organization.id ?? '?'} has no FINESS identifier`);
  return { finess: value, finessType: ej ? 'EJ' : 'EG', name: organization.name ?? '', ...(siret?.value === undefined ? {} : { siret: siret.value }) };
}

function channelOf(contact: ContactPoint): ContactChannel {
  const coding = extensionOf(contact.extension, ROR_EXTENSION.channel)?.valueCodeableConcept?.coding?.[0];
  const known = (Object.entries(CHANNEL_CODING) as [ContactChannel, { coding: Coding }][]).find(
    ([, c]) => c.coding.system === coding?.system && c.coding.code === coding?.code,
  );
  if (known !== undefined) return known[0];
  switch (contact.system) {
    case 'email':
      return 'email';
    case 'url':
      return 'web';
    case 'fax':
      return 'fax';
    default:
      return 'landline';
  }
}

function contactOf(contact: ContactPoint): OfferContact {
  const level = extensionOf(contact.extension, ROR_EXTENSION.confidentiality)?.valueCodeableConcept?.coding?.find((c) => c.system === CODE_SETS.confidentiality.system)?.code;
  const confidentiality = (Object.entries(CONFIDENTIALITY_CODE) as [ConfidentialityLevel, string][]).find(([, code]) => code === level)?.[0] ?? 'public';
  const usage = extensionOf(contact.extension, ROR_EXTENSION.usage)?.valueString;
  return { channel: channelOf(contact), value: contact.value ?? '', confidentiality, ...(usage === undefined ? {} : { usage }) };
}

function daySlotsOf(service: HealthcareService): DaySlot[] {
  return (service.availableTime ?? []).flatMap((time) => {
    if (time.availableStartTime === undefined || time.availableEndTime === undefined) return [];
    const number = extensionOf(time.extension, ROR_EXTENSION.dayNumber)?.valueInteger;
    const days: DayOfWeek[] = time.daysOfWeek !== undefined && time.daysOfWeek.length > 0 ? [...time.daysOfWeek] : number === undefined ? [] : [DAYS_OF_WEEK[number - 1] ?? 'mon'];
    const hoursType = extensionOf(time.extension, ROR_EXTENSION.typeOfTime)?.valueCodeableConcept?.coding?.find((c) => c.system === CODE_SETS.hoursType.system)?.code;
    return days.map((day) => ({
      day,
      opens: time.availableStartTime?.slice(0, 5) ?? '',
      closes: time.availableEndTime?.slice(0, 5) ?? '',
      ...(hoursType === undefined ? {} : { hoursType }),
    }));
  });
}

function professionalOf(role: PractitionerRole, practitioner: Practitioner | undefined): OfferProfessional | undefined {
  const rpps = rppsIn(practitioner?.identifier);
  const profession = codeIn(role.code, CODE_SETS.profession.system);
  if (rpps === undefined || profession === undefined) return undefined;
  const name = practitioner?.name?.[0];
  const given = name?.given?.join(' ');
  return { rpps, familyName: name?.family ?? '', ...(given === undefined || given === '' ? {} : { givenName: given }), profession: { code: profession } };
}

/** What the characteristics say, split between the keywords and the lists they did not write. */
function telehealthOf(careMode: string, reception: readonly string[], acts: readonly string[]) {
  const present = new Set([
    `${CODE_SETS.careMode.system}|${careMode}`,
    ...reception.map((code) => `${CODE_SETS.receptionModality.system}|${code}`),
    ...acts.map((code) => `${CODE_SETS.specificAct.system}|${code}`),
  ]);
  const modalities = TELEHEALTH_MODALITIES.filter((m) => MODALITY_CHARACTERISTICS[m].some((c) => present.has(`${c.system}|${c.code}`)));
  let delay: TeleexpertiseDelay | undefined;
  if (reception.includes('10') || acts.includes('1271')) delay = 'lt24h';
  else if (reception.includes('11') || acts.includes('1272')) delay = 'lt7d';
  else if (reception.includes('12') || acts.includes('1273')) delay = 'gt7d';
  return {
    modalities,
    teleexpertiseDelay: modalities.includes('teleexpertise') ? delay : undefined,
    receptionModalities: reception.filter((c) => !KEYWORD_RECEPTION_CODES.has(c)).map((code): NationalCode => ({ code })),
    specificActs: acts.filter((c) => !KEYWORD_ACT_CODES.has(c)).map((code): NationalCode => ({ code })),
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new UnreadableOfferError(`the HealthcareService has no ${what}`);
  return value;
}

/**
 * The offer that FHIR resources describe, in normal form (normalizeOffer): the HealthcareService carrying
 * our offer identifier (else the first one), the Organization and Locations it references, and the
 * PractitionerRoles that reference it with their Practitioners. Throws UnreadableOfferError when a piece
 * the offer cannot do without is missing.
 */
export function fromFhir(source: OfferSource): Offer {
  const index = indexed(source);
  const services = index.resources.filter((r): r is HealthcareService => r.resourceType === 'HealthcareService');
  const service = services.find((s) => s.identifier?.some((i) => i.system === OFFER_IDENTIFIER_SYSTEM)) ?? services[0];
  if (service === undefined) throw new UnreadableOfferError('no HealthcareService');
  const identifiantOffre = required((service.identifier?.find((i) => i.system === OFFER_IDENTIFIER_SYSTEM) ?? service.identifier?.[0])?.value, 'identifier');

  const organization = index.resolve(service.providedBy);
  if (organization?.resourceType !== 'Organization') throw new UnreadableOfferError('the organization of the HealthcareService (providedBy) is missing');
  const sites = (service.location ?? []).map((reference) => {
    const location = index.resolve(reference);
    if (location?.resourceType !== 'Location') throw new UnreadableOfferError(`location ${reference.reference ?? '?'} is missing`);
    return siteOf(location);
  });

  const characteristics = service.characteristic ?? [];
  const careMode = required(codeIn(characteristics, CODE_SETS.careMode.system), 'care mode (TRE_R213)');
  const reception = characteristics.flatMap((c) => c.coding?.filter((x) => x.system === CODE_SETS.receptionModality.system).map((x) => x.code ?? '') ?? []);
  const acts = characteristics.flatMap((c) => c.coding?.filter((x) => x.system === CODE_SETS.specificAct.system).map((x) => x.code ?? '') ?? []);
  const telehealth = telehealthOf(careMode, reception, acts);

  const patientType = extensionOf(service.extension, ROR_EXTENSION.patientType);
  const ageRange = extensionOf(patientType?.extension, 'ageRange')?.valueRange;
  const publics = (patientType?.extension ?? [])
    .filter((e) => e.url === 'supportedPatientInfo')
    .flatMap((e) => e.valueCodeableConcept?.coding?.filter((c) => c.system === CODE_SETS.public.system && c.code !== undefined).map((c): NationalCode => ({ code: c.code ?? '' })) ?? []);

  const professionals = index.resources
    .filter((r): r is PractitionerRole => r.resourceType === 'PractitionerRole')
    .filter((role) => (role.healthcareService ?? []).some((ref) => index.resolve(ref) === service))
    .flatMap((role) => {
      const practitioner = index.resolve(role.practitioner);
      const professional = professionalOf(role, practitioner?.resourceType === 'Practitioner' ? practitioner : undefined);
      return professional === undefined ? [] : [professional];
    });

  const offer: Offer = {
    identifiantOffre,
    name: service.name ?? '',
    ...(service.comment === undefined ? {} : { description: service.comment }),
    active: service.active ?? true,
    sensitiveUnit: extensionOf(service.extension, ROR_EXTENSION.sensitiveUnit)?.valueBoolean ?? false,
    structure: structureOf(organization),
    sites,
    activityField: { code: required(codeIn(service.type, CODE_SETS.activityField.system), 'activity field (TRE_R227)') },
    operationalActivity: { code: required(codeIn(service.specialty, CODE_SETS.operationalActivity.system), 'operational activity (TRE_R211)') },
    careMode: { code: careMode },
    modalities: telehealth.modalities,
    ...(telehealth.teleexpertiseDelay === undefined ? {} : { teleexpertiseDelay: telehealth.teleexpertiseDelay }),
    receptionModalities: telehealth.receptionModalities,
    specificActs: telehealth.specificActs,
    patientType: { minAge: ageRange?.low?.value ?? 0, maxAge: ageRange?.high?.value ?? 120, publics },
    professionals,
    openingHours: groupedHours(daySlotsOf(service)),
    contacts: (service.telecom ?? []).map(contactOf),
  };
  return normalizeOffer(offer);
}
