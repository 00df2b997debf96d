// FHIR in for offers: a HealthcareService with its Organization, Locations and PractitionerRoles in the
// ROR IG shape (a Bundle: ours, a ROR searchset, a transaction) read into the offer our JSON door takes.
// fromFhir reads the resources; this file adds what a door needs: one offer per HealthcareService, the
// FHIRPath of each field in what was posted, and warnings for the elements the offer does not hold.
import type { Bundle, HealthcareService, PractitionerRole, Reference, Resource } from '@medplum/fhirtypes';
import type { Offer } from '../model/offer.ts';
import { elementsNotHeld, FieldPaths } from './fhir-input.ts';
import type { InputIssue } from './fhir-input.ts';
import { fromFhir, UnreadableOfferError } from './offer-reverse.ts';

/** What was read of one HealthcareService. */
export interface PostedOffer {
  /** Undefined when the resources cannot make an offer: `issues` says why. */
  readonly offer?: Offer;
  readonly issues: readonly InputIssue[];
  /** Where the HealthcareService is among the resources or entries read (0-based). */
  readonly position: number;
  /** The FHIRPath in what was posted of a field of the offer (`sites[0].address.postalCode`). */
  pathOf(field: string): string;
}

/** Top-level elements fromFhir reads, per resource type. */
const READ: Readonly<Record<string, ReadonlySet<string>>> = {
  HealthcareService: new Set(['identifier', 'active', 'name', 'comment', 'providedBy', 'location', 'type', 'specialty', 'characteristic', 'extension', 'availableTime', 'telecom']),
  Organization: new Set(['identifier', 'name', 'active', 'type']),
  Location: new Set(['identifier', 'name', 'address', 'position', 'status', 'managingOrganization', 'mode']),
  PractitionerRole: new Set(['practitioner', 'healthcareService', 'code', 'organization', 'location', 'active', 'identifier']),
  Practitioner: new Set(['identifier', 'name', 'active']),
};

/** Where the offer's fields come from in the HealthcareService. */
const SERVICE_ELEMENT: Readonly<Record<string, string>> = {
  identifiantOffre: 'identifier',
  name: 'name',
  description: 'comment',
  active: 'active',
  sensitiveUnit: 'extension',
  activityField: 'type',
  operationalActivity: 'specialty',
  careMode: 'characteristic',
  modalities: 'characteristic',
  teleexpertiseDelay: 'characteristic',
  receptionModalities: 'characteristic',
  specificActs: 'characteristic',
  patientType: 'extension',
  openingHours: 'availableTime',
  contacts: 'telecom',
  structure: 'providedBy',
  sites: 'location',
};

interface Located {
  readonly resource: Resource;
  readonly path: string;
  readonly position: number;
  readonly fullUrl?: string;
}

function locate(source: Bundle | readonly Resource[]): Located[] {
  if (Array.isArray(source)) return (source as readonly Resource[]).map((resource, i) => ({ resource, path: `[${i}]`, position: i }));
  return ((source as Bundle).entry ?? []).flatMap((e, i) =>
    e.resource === undefined ? [] : [{ resource: e.resource, path: `Bundle.entry[${i}].resource`, position: i, ...(e.fullUrl === undefined ? {} : { fullUrl: e.fullUrl }) }],
  );
}

function finder(all: readonly Located[]): (reference: Reference | undefined) => Located | undefined {
  const byKey = new Map<string, Located>();
  for (const l of all) {
    if (l.fullUrl !== undefined) byKey.set(l.fullUrl, l);
    if (l.resource.id !== undefined) byKey.set(`${l.resource.resourceType}/${l.resource.id}`, l);
  }
  return (reference) => {
    const ref = reference?.reference;
    if (ref === undefined) return undefined;
    // Absolute or versioned: https://server/fhir/Location/12/_history/3 → Location/12.
    const tail = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref)?.[1];
    return byKey.get(ref) ?? (tail === undefined ? undefined : byKey.get(tail));
  };
}

function readService(all: readonly Located[], find: (reference: Reference | undefined) => Located | undefined, service: Located): PostedOffer {
  const hs = service.resource as HealthcareService;
  const paths = new FieldPaths(service.path);
  paths.from('', service.path);
  for (const [field, element] of Object.entries(SERVICE_ELEMENT)) paths.from(field, `${service.path}.${element}`);
  const organization = find(hs.providedBy);
  if (organization !== undefined) paths.from('structure', `${organization.path}.identifier`);
  if (organization !== undefined) paths.from('structure.name', `${organization.path}.name`);
  (hs.location ?? []).forEach((reference, i) => {
    const location = find(reference);
    paths.from(`sites[${i}]`, location?.path ?? `${service.path}.location[${i}]`);
    if (location !== undefined) paths.from(`sites[${i}].address`, `${location.path}.address`);
  });
  const roles = all.filter((l): l is Located & { resource: PractitionerRole } =>
    l.resource.resourceType === 'PractitionerRole' && ((l.resource as PractitionerRole).healthcareService ?? []).some((ref) => find(ref) === service),
  );
  // Everything of the offer is in the other resources: one HealthcareService with all the rest.
  const own: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [service, ...all.filter((l) => l.resource.resourceType !== 'HealthcareService')].map((l) => ({ resource: l.resource, ...(l.fullUrl === undefined ? {} : { fullUrl: l.fullUrl }) })),
  };
  let offer: Offer;
  try {
    offer = fromFhir(own);
  } catch (error) {
    if (!(error instanceof UnreadableOfferError)) throw error;
    return {
      issues: [{ severity: 'error', code: 'FHIR_OFFER_UNREADABLE', field: service.path, message: `L'offre ne se lit pas dans ces ressources : ${error.message}.` }],
      position: service.position,
      pathOf: (field) => paths.pathOf(field),
    };
  }
  (offer.professionals ?? []).forEach((professional, i) => {
    const role = roles.find((r) => {
      const practitioner = find(r.resource.practitioner)?.resource as { identifier?: { value?: string }[] } | undefined;
      return practitioner?.identifier?.some((id) => id.value === professional.rpps || id.value === `8${professional.rpps}`) === true;
    });
    if (role !== undefined) paths.from(`professionals[${i}]`, role.path);
  });
  const used = new Set<Located>([service, ...roles, ...(organization === undefined ? [] : [organization])]);
  for (const reference of hs.location ?? []) {
    const location = find(reference);
    if (location !== undefined) used.add(location);
  }
  for (const role of roles) {
    const practitioner = find(role.resource.practitioner);
    if (practitioner !== undefined) used.add(practitioner);
  }
  const issues = [...used].flatMap((l) => elementsNotHeld(l.resource, l.path, READ[l.resource.resourceType] ?? new Set<string>()));
  return { offer, issues, position: service.position, pathOf: (field) => paths.pathOf(field) };
}

/**
 * One PostedOffer per HealthcareService of the resources (a ROR searchset holds many, each with what
 * it references included), in their order.
 */
export function offersOfFhir(source: Bundle | readonly Resource[]): PostedOffer[] {
  const all = locate(source);
  const find = finder(all);
  return all.filter((l) => l.resource.resourceType === 'HealthcareService').map((service) => readService(all, find, service));
}

/** The one offer of a posted Bundle (POST /v1/offers): a Bundle with exactly one HealthcareService. */
export function readPostedOffer(posted: unknown): PostedOffer {
  const bundle = posted as Bundle;
  const refused = (field: string, message: string): PostedOffer => ({
    issues: [{ severity: 'error', code: 'FHIR_NOT_AN_OFFER_BUNDLE', field, message }],
    position: 0,
    pathOf: () => field,
  });
  if (typeof posted !== 'object' || posted === null || bundle.resourceType !== 'Bundle') {
    return refused('resourceType', "Envoyez l'offre en Bundle FHIR : le HealthcareService, son Organization, ses Location et ses PractitionerRole.");
  }
  const offers = offersOfFhir(bundle);
  const [first] = offers;
  if (first === undefined || offers.length > 1) {
    return refused('Bundle.entry', `Une offre par requête : le Bundle doit contenir exactement un HealthcareService (il en a ${offers.length}) ; plusieurs offres s'importent (telesante offers import --format fhir).`);
  }
  return first;
}
