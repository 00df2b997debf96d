import type { Bundle, CodeableConcept, Extension, HealthcareService, Identifier, PractitionerRole, Reference } from '@medplum/fhirtypes';
import t from 'tap';
import type { Offer } from '../../../src/model/offer.ts';
import {
  CODE_SETS,
  identifierQuery,
  InvalidOfferError,
  MODALITY_CHARACTERISTICS,
  modalitySearch,
  OFFER_IDENTIFIER_SYSTEM,
  offerReadSearch,
  offerSearch,
  ROLE_IDENTIFIER_SYSTEM,
  ROR_EXTENSION,
  SITE_IDENTIFIER_SYSTEM,
  TELESANTE_HEALTHCARESERVICE,
  toOfferBundle,
  withdrawOffer,
} from '../../../src/mapping/index.ts';
import { example, examples, NOW, only } from './offer-examples.ts';
import { fileURLToPath } from 'node:url';
import { readFhirPackage } from '../../../src/fhir/validation/fhir-package.ts';

// --- The FR Core package, read the way patient.test.ts reads it: expectations come from the package.
const PACKAGE = new URL('../../../../shared/fhir-packages/hl7.fhir.fr.core-2.2.0-ballot-2.tgz', import.meta.url);
/** The package's files by path, read with the reader the validation gate uses. */
function readTgz(url: URL): Map<string, string> {
  return new Map(readFhirPackage(fileURLToPath(url)).files.map((file) => [file.path, file.content.toString('utf8')]));
}
interface ElementDefinition {
  id: string;
  patternUri?: string;
  patternCode?: string;
  patternCodeableConcept?: CodeableConcept;
}
interface StructureDefinition {
  url: string;
  snapshot: { element: ElementDefinition[] };
}
const files = readTgz(PACKAGE);
function packaged<T>(name: string): T {
  const text = files.get(`package/${name}.json`);
  if (text === undefined) throw new Error(`${name} is not in the FR Core package`);
  return JSON.parse(text) as T;
}
function element(sd: StructureDefinition, id: string): ElementDefinition {
  const found = sd.snapshot.element.find((e) => e.id === id);
  if (found === undefined) throw new Error(`${id} is not in ${sd.url}`);
  return found;
}
const identifierTypes = packaged<{ url: string; concept: { code: string; display: string }[] }>('CodeSystem-fr-core-cs-v2-0203');
const locationIdentifierTypes = packaged<{ url: string; concept: { code: string; display: string }[] }>('CodeSystem-fr-core-cs-location-identifier-type');

function inSlice(identifier: Identifier, sd: StructureDefinition, slice: string): boolean {
  const system = element(sd, `${slice}.system`).patternUri;
  const type = (() => {
    try {
      return element(sd, `${slice}.type`).patternCodeableConcept?.coding ?? [];
    } catch {
      return [];
    }
  })();
  return identifier.system === system && type.every((p) => identifier.type?.coding?.some((c) => c.system === p.system && c.code === p.code));
}

const ext = (owner: { extension?: Extension[] } | undefined, url: string): Extension[] => (owner?.extension ?? []).filter((e) => e.url === url);
const codesOf = (service: HealthcareService, system: string): string[] =>
  (service.characteristic ?? []).flatMap((c) => c.coding?.filter((x) => x.system === system).map((x) => x.code ?? '') ?? []);
function serviceOf(bundle: Bundle): HealthcareService {
  const [service] = only(bundle, 'HealthcareService');
  if (service === undefined) throw new Error('no HealthcareService');
  return service;
}
const bundleOf = (offer: Offer, options: Partial<Parameters<typeof toOfferBundle>[1]> = {}): Bundle => toOfferBundle(offer, { now: NOW, ...options });

t.test('one transaction of conditional updates on business identifiers', async (t) => {
  for (const { file, offer } of examples) {
    const bundle = bundleOf(offer);
    t.equal(bundle.type, 'transaction', file);
    const entries = bundle.entry ?? [];
    const professionals = offer.professionals?.length ?? 0;
    t.same(
      entries.map((e) => e.resource?.resourceType),
      ['Organization', ...offer.sites.map(() => 'Location'), 'HealthcareService', ...Array<string>(professionals).fill('Practitioner'), ...Array<string>(professionals).fill('PractitionerRole')],
      `${file}: one Organization, a Location per site, the HealthcareService, a Practitioner and a PractitionerRole per professional`,
    );
    const fullUrls = new Set<string>();
    for (const entry of entries) {
      t.match(entry.fullUrl, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `${file}: urn:uuid fullUrl`);
      fullUrls.add(entry.fullUrl ?? '');
      t.equal(entry.request?.method, 'PUT');
      // The conditional key must be one of the resource's own identifiers, or the server would create a
      // new resource on every send.
      const [type, query] = (entry.request?.url ?? '').split('?');
      t.equal(type, entry.resource?.resourceType);
      const identifiers = (entry.resource as { identifier?: Identifier[] }).identifier ?? [];
      t.ok(
        identifiers.some((i) => query === identifierQuery(i.system ?? '', i.value ?? '')),
        `${file}: ${entry.request?.url} matches an identifier of the resource`,
      );
    }
    t.equal(fullUrls.size, entries.length, `${file}: fullUrls are unique`);
    const references = [...JSON.stringify(bundle).matchAll(/"reference":"([^"]+)"/g)].map((m) => m[1]);
    t.ok(references.length > 0);
    for (const reference of references) t.ok(fullUrls.has(reference ?? ''), `${file}: ${reference} points into the transaction`);
  }
});

t.test('same offer, same bytes: sending it again changes nothing', async (t) => {
  for (const { file, offer } of examples) {
    const first = JSON.stringify(bundleOf(offer));
    t.equal(JSON.stringify(bundleOf(structuredClone(offer))), first, `${file}: byte-identical`);
    const stored = serviceOf(bundleOf(offer));
    t.equal(JSON.stringify(bundleOf(offer, { now: '2031-12-31T23:59:59+01:00', existing: stored })), first, `${file}: later, with the stored service: identical`);
  }
  const offer = example('multisite-cardiologie');
  const shuffled: Offer = {
    ...offer,
    modalities: [...offer.modalities].reverse(),
    specificActs: [...(offer.specificActs ?? [])].reverse(),
    professionals: [...(offer.professionals ?? [])].reverse(),
    openingHours: [
      { days: ['fri', 'wed', 'mon'], opens: '08:30', closes: '18:00', hoursType: { code: '02' } },
      { days: ['thu'], opens: '09:00', closes: '12:00', hoursType: { code: '10' } },
      { days: ['tue', 'thu'], opens: '08:30', closes: '18:00', hoursType: { code: '02' } },
      { days: ['tue'], opens: '09:00', closes: '12:00', hoursType: { code: '10' } },
    ],
  };
  t.equal(JSON.stringify(bundleOf(shuffled)), JSON.stringify(bundleOf(offer)), 'order of unordered lists and grouping of days do not matter');
});

t.test('the mapping never reads the clock', async (t) => {
  const RealDate = globalThis.Date;
  const trap = new Proxy(RealDate, {
    construct() {
      throw new Error('new Date() in the mapping');
    },
    get(target, property, receiver) {
      if (property === 'now') return () => {
        throw new Error('Date.now() in the mapping');
      };
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  globalThis.Date = trap;
  try {
    t.throws(() => new Date(), 'the trap is set');
    t.throws(() => Date.now(), 'for Date.now too');
    for (const { file, offer } of examples) t.doesNotThrow(() => bundleOf(offer), file);
  } finally {
    globalThis.Date = RealDate;
  }
});

t.test('ROR creation date: kept across updates, else the caller’s now', async (t) => {
  const offer = example('gp-teleconsultation');
  const creation = (bundle: Bundle) => ext(serviceOf(bundle), ROR_EXTENSION.creationDate)[0]?.valueDateTime;
  t.equal(creation(bundleOf(offer)), NOW, 'first time: now');
  const stored: HealthcareService = { ...serviceOf(bundleOf(offer, { now: '2024-06-01T08:00:00+02:00' })), id: '42', meta: { versionId: '3', lastUpdated: '2024-09-01T10:00:00Z' } };
  const changed = bundleOf({ ...offer, name: 'Nouveau nom' }, { existing: stored });
  t.equal(creation(changed), '2024-06-01T08:00:00+02:00', 'an update keeps the stored creation date');
  t.equal(serviceOf(changed).meta?.lastUpdated, undefined, 'meta.lastUpdated is the server’s to set');
  t.equal(serviceOf(changed).id, undefined, 'the conditional update finds the id');
  const foreign: HealthcareService = { ...stored, extension: [] };
  t.equal(creation(bundleOf(offer, { existing: foreign })), NOW, 'a stored service without the date gets now');
});

t.test('HealthcareService: our profile and the ROR’s required elements', async (t) => {
  for (const { file, offer } of examples) {
    const service = serviceOf(bundleOf(offer));
    t.same(service.meta?.profile, [TELESANTE_HEALTHCARESERVICE], `${file}: profile`);
    t.same(service.identifier, [{ system: OFFER_IDENTIFIER_SYSTEM, value: offer.identifiantOffre }], `${file}: exactly one identifier`);
    t.equal(service.type?.length, 1, `${file}: type 1..1`);
    t.equal(service.type?.[0]?.coding?.[0]?.system, CODE_SETS.activityField.system);
    const operational = (service.specialty ?? []).filter((s) => s.coding?.some((c) => c.system === CODE_SETS.operationalActivity.system));
    t.equal(operational.length, 1, `${file}: specialty[operationalActivity] 1..1`);
    t.equal(codesOf(service, CODE_SETS.careMode.system).length, 1, `${file}: characteristic[careMode] 1..1`);
    t.equal(ext(service, ROR_EXTENSION.sensitiveUnit).length, 1, `${file}: sensitive-unit 1..1`);
    t.equal(typeof ext(service, ROR_EXTENSION.sensitiveUnit)[0]?.valueBoolean, 'boolean');
    const patientType = ext(service, ROR_EXTENSION.patientType);
    t.equal(patientType.length, 1, `${file}: patient-type 1..1`);
    const ageRange = ext(patientType[0], 'ageRange');
    t.equal(ageRange.length, 1, `${file}: ageRange 1..1`);
    t.ok(ageRange[0]?.valueRange?.low?.value !== undefined && ageRange[0]?.valueRange?.high?.value !== undefined, `${file}: low and high`);
    t.equal(ext(service, ROR_EXTENSION.creationDate).length, 1, `${file}: creation date 1..1`);
    t.equal(service.providedBy?.reference, bundleOf(offer).entry?.[0]?.fullUrl, `${file}: providedBy the Organization`);
    for (const telecom of service.telecom ?? []) {
      t.equal(ext(telecom, ROR_EXTENSION.channel).length, 1, `${file}: telecom channel`);
      t.equal(ext(telecom, ROR_EXTENSION.confidentiality).length, 1, `${file}: telecom confidentiality`);
    }
    for (const c of service.characteristic ?? []) {
      const isAct = c.coding?.some((x) => x.system === CODE_SETS.specificAct.system) === true;
      t.same(
        ext(c, ROR_EXTENSION.actType).map((e) => e.valueCode),
        isAct ? ['specificAct'] : [],
        `${file}: ror-act-type on specific acts only (${c.coding?.[0]?.code})`,
      );
      for (const coding of c.coding ?? []) {
        const set = Object.values(CODE_SETS).find((s) => s.system === coding.system);
        const concept = set?.concepts[coding.code ?? ''];
        t.ok(concept !== undefined && concept.excluded !== true, `${file}: ${coding.code} is in ${set?.valueSet ?? set?.name}`);
        t.equal(coding.display, concept?.display, 'with the display of the code system');
      }
    }
  }
});

t.test('each telehealth keyword becomes the ROR codes for it', async (t) => {
  const base = example('gp-teleconsultation');
  const cases: { name: string; offer: Partial<Offer>; reception: string[]; acts: string[]; careMode: string }[] = [
    { name: 'téléconsultation', offer: { modalities: ['teleconsultation'] }, reception: ['03', '04'], acts: ['0988'], careMode: '32' },
    { name: 'télésoin', offer: { modalities: ['telesoin'] }, reception: ['03', '14'], acts: ['1474'], careMode: '32' },
    { name: 'téléexpertise < 24 h', offer: { modalities: ['teleexpertise'], teleexpertiseDelay: 'lt24h' }, reception: ['03', '10'], acts: ['1271'], careMode: '32' },
    { name: 'téléexpertise < 7 j', offer: { modalities: ['teleexpertise'], teleexpertiseDelay: 'lt7d', careMode: { code: '35' } }, reception: ['03', '11'], acts: ['1272'], careMode: '35' },
    { name: 'téléexpertise > 7 j: act only, R338 12 left JDV_J226', offer: { modalities: ['teleexpertise'], teleexpertiseDelay: 'gt7d' }, reception: ['03'], acts: ['1273'], careMode: '32' },
    { name: 'téléassistance', offer: { modalities: ['teleassistance'], careMode: { code: '36' } }, reception: ['03'], acts: ['0824'], careMode: '36' },
    { name: 'télésurveillance by care mode', offer: { modalities: ['telesurveillance'], careMode: { code: '37' } }, reception: ['03'], acts: [], careMode: '37' },
    { name: 'télésurveillance by act', offer: { modalities: ['telesurveillance'], specificActs: [{ code: '1485' }] }, reception: ['03'], acts: ['1485'], careMode: '32' },
    { name: 'régulation', offer: { modalities: ['regulation'], careMode: { code: '27' } }, reception: ['03'], acts: [], careMode: '27' },
  ];
  for (const c of cases) {
    const service = serviceOf(bundleOf({ ...base, ...c.offer }));
    t.same(codesOf(service, CODE_SETS.receptionModality.system), c.reception, `${c.name}: reception modalities`);
    t.same(codesOf(service, CODE_SETS.specificAct.system), c.acts, `${c.name}: specific acts`);
    t.same(codesOf(service, CODE_SETS.careMode.system), [c.careMode], `${c.name}: care mode`);
  }
});

t.test('a search by modality finds exactly the offers that have it', async (t) => {
  for (const { file, offer } of examples) {
    const service = serviceOf(bundleOf(offer));
    const tokens = new Set((service.characteristic ?? []).flatMap((c) => c.coding?.map((x) => `${x.system}|${x.code}`) ?? []));
    for (const modality of Object.keys(MODALITY_CHARACTERISTICS) as (keyof typeof MODALITY_CHARACTERISTICS)[]) {
      const wanted = modalitySearch(modality).slice('characteristic='.length).split(',');
      t.equal(wanted.some((token) => tokens.has(token)), offer.modalities.includes(modality), `${file}: ${modality}`);
    }
  }
  t.equal(modalitySearch('regulation'), `characteristic=${CODE_SETS.careMode.system}|27`);
});

t.test('Organization: FR Core établissement with FINESS, idNatSt and SIRET', async (t) => {
  const profile = packaged<StructureDefinition>('StructureDefinition-fr-core-organization-etablissement');
  const offer = example('multisite-cardiologie');
  const [organization] = only(bundleOf(offer), 'Organization');
  t.same(organization?.meta?.profile, [profile.url]);
  const identifiers = organization?.identifier ?? [];
  const idNatSt = identifiers.filter((i) => inSlice(i, profile, 'Organization.identifier:idNatSt'));
  t.same(idNatSt.map((i) => [i.use, i.value]), [[element(profile, 'Organization.identifier:idNatSt.use').patternCode, `1${offer.structure.finess}`]], 'idNatSt = 1 + FINESS, official');
  const finess = identifiers.filter((i) => inSlice(i, profile, 'Organization.identifier:finess'));
  t.same(finess.map((i) => [i.value, i.type?.coding?.[0]?.code]), [[offer.structure.finess, 'FINEJ']], 'FINESS slice, FINEJ for an entité juridique');
  t.same(identifiers.filter((i) => inSlice(i, profile, 'Organization.identifier:siret')).map((i) => i.value), [offer.structure.siret]);
  for (const identifier of identifiers) {
    const coding = identifier.type?.coding?.[0];
    t.equal(coding?.system, identifierTypes.url);
    t.equal(coding?.display, identifierTypes.concept.find((c) => c.code === coding?.code)?.display, `${coding?.code}: display of fr-core-cs-v2-0203`);
  }
  const [eg] = only(bundleOf(example('gp-teleconsultation')), 'Organization');
  t.equal(eg?.identifier?.[0]?.type?.coding?.[0]?.code, 'FINEG', 'entité géographique by default');
});

t.test('Location: FR Core, keyed on the site FINESS or on the offer and position', async (t) => {
  const profile = packaged<StructureDefinition>('StructureDefinition-fr-core-location');
  const offer = example('multisite-cardiologie');
  const bundle = bundleOf(offer);
  const locations = only(bundle, 'Location');
  t.same(locations.map((l) => l.meta?.profile), [[profile.url], [profile.url]]);
  t.same(locations.map((l) => [l.identifier?.[0]?.system, l.identifier?.[0]?.value]), [
    ['https://finess.esante.gouv.fr', '590120051'],
    [SITE_IDENTIFIER_SYSTEM, 'GHT-FLANDRE-CARDIO-TLM-site-2'],
  ]);
  const intrn = locations[1]?.identifier?.[0]?.type?.coding?.[0];
  t.equal(intrn?.display, locationIdentifierTypes.concept.find((c) => c.code === intrn?.code)?.display, 'INTRN of fr-core-cs-location-identifier-type');
  t.same(serviceOf(bundle).location?.map((r: Reference) => r.reference), bundle.entry?.slice(1, 3).map((e) => e.fullUrl), 'the service lists its sites in order');
  const lille = locations[0];
  t.same(lille?.address?.extension?.[0]?.valueCoding?.code, '59350', 'INSEE code in fr-core-address-insee-code');
  t.same(lille?.position, { longitude: 3.0573, latitude: 50.6292 });
  t.equal(locations[1]?.position, undefined);
});

t.test('Practitioner and PractitionerRole per professional', async (t) => {
  const practitionerProfile = packaged<StructureDefinition>('StructureDefinition-fr-core-practitioner');
  const roleProfile = packaged<StructureDefinition>('StructureDefinition-fr-core-practitioner-role');
  const offer = example('multisite-cardiologie');
  const bundle = bundleOf(offer);
  const practitioners = only(bundle, 'Practitioner');
  const rpps = [...(offer.professionals ?? [])].map((p) => p.rpps).sort();
  for (const [index, practitioner] of practitioners.entries()) {
    t.same(practitioner.meta?.profile, [practitionerProfile.url]);
    const idNatPs = (practitioner.identifier ?? []).filter((i) => inSlice(i, practitionerProfile, 'Practitioner.identifier:idNatPs'));
    t.same(idNatPs.map((i) => i.value), [`8${rpps[index] ?? ''}`], 'idNatPs = 8 + RPPS');
    const rppsSlice = (practitioner.identifier ?? []).filter((i) => inSlice(i, practitionerProfile, 'Practitioner.identifier:rpps'));
    t.same(rppsSlice.map((i) => i.value), [rpps[index]]);
  }
  const roles = only(bundle, 'PractitionerRole');
  const entries = bundle.entry ?? [];
  const urlOf = (type: string, i: number) => entries.filter((e) => e.resource?.resourceType === type)[i]?.fullUrl;
  for (const [index, role] of roles.entries()) {
    t.same(role.meta?.profile, [roleProfile.url]);
    t.same(role.identifier, [{ system: ROLE_IDENTIFIER_SYSTEM, value: `${offer.identifiantOffre}-${rpps[index] ?? ''}` }]);
    t.equal(role.practitioner?.reference, urlOf('Practitioner', index));
    t.equal(role.organization?.reference, urlOf('Organization', 0));
    t.same(role.healthcareService?.map((r) => r.reference), [urlOf('HealthcareService', 0)]);
    t.equal(role.code?.[0]?.coding?.[0]?.system, CODE_SETS.profession.system, 'profession (TRE_G15), as the ROR codes the role');
  }
});

t.test('telecom and hours as the ROR wants them', async (t) => {
  const service = serviceOf(bundleOf(example('multisite-cardiologie')));
  t.same(
    service.telecom?.map((c) => [c.system, ext(c, ROR_EXTENSION.channel)[0]?.valueCodeableConcept?.coding?.[0]?.code, ext(c, ROR_EXTENSION.confidentiality)[0]?.valueCodeableConcept?.coding?.[0]?.code]),
    [
      ['phone', '2', '1'],
      ['email', 'MSSANTE', '2'],
      ['fax', '6', '2'],
    ],
  );
  const times = service.availableTime ?? [];
  t.equal(times.length, 7, '5 weekdays of opening + 2 of téléconsultation, one availableTime each');
  for (const time of times) {
    t.equal(time.daysOfWeek?.length, 1, 'ROR: one day per availableTime');
    const number = ext(time, ROR_EXTENSION.dayNumber)[0]?.valueInteger;
    t.equal(number, ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].indexOf(time.daysOfWeek?.[0] ?? '') + 1, 'day number 1 = Monday');
    t.match(time.availableStartTime, /^\d\d:\d\d:00$/);
  }
  t.same(times.map((x) => `${x.daysOfWeek?.[0]} ${x.availableStartTime}`).slice(0, 3), ['mon 08:30:00', 'tue 08:30:00', 'tue 09:00:00'], 'sorted by day then hour');
});

t.test('professionals removed from the offer: their roles are deleted', async (t) => {
  const offer = example('multisite-cardiologie');
  const before = only(bundleOf(offer), 'PractitionerRole');
  const foreign: PractitionerRole = { resourceType: 'PractitionerRole', identifier: [{ system: 'urn:oid:1.2.250.1.999.3', value: 'X' }] };
  const otherOffer: PractitionerRole = { resourceType: 'PractitionerRole', identifier: [{ system: ROLE_IDENTIFIER_SYSTEM, value: `${offer.identifiantOffre}-2-10010789013` }] };
  const fewer: Offer = { ...offer, professionals: offer.professionals?.slice(1) };
  const after = bundleOf(fewer, { existingRoles: [...before, foreign, otherOffer] });
  const deletes = (after.entry ?? []).filter((e) => e.request?.method === 'DELETE');
  t.same(
    deletes.map((e) => e.request?.url),
    [`PractitionerRole?${identifierQuery(ROLE_IDENTIFIER_SYSTEM, `${offer.identifiantOffre}-10010789013`)}`],
    'one conditional delete, for the role that left; roles of another system or another offer are not ours to delete',
  );
  t.equal(only(after, 'PractitionerRole').length, 2);
  t.same(
    (bundleOf(offer, { existingRoles: before }).entry ?? []).filter((e) => e.request?.method === 'DELETE'),
    [],
    'nothing to delete when nobody left',
  );
});

t.test('withdrawal: inactive, everything else as stored', async (t) => {
  const stored: HealthcareService = { ...serviceOf(bundleOf(example('gp-teleconsultation'))), id: '7', meta: { versionId: '2', lastUpdated: '2025-01-01T00:00:00Z' } };
  const copy = structuredClone(stored);
  const withdrawn = withdrawOffer(stored);
  t.equal(withdrawn.active, false);
  t.same({ ...withdrawn, active: true }, stored, 'nothing else changed');
  t.same(stored, copy, 'the stored resource is not touched');
  t.equal(serviceOf(bundleOf({ ...example('gp-teleconsultation'), active: false })).active, false, 'an offer sent inactive is inactive');
});

t.test('an offer that breaks a rule is not mapped', async (t) => {
  const offer = { ...example('gp-teleconsultation'), careMode: { code: '99' } };
  t.throws(() => bundleOf(offer), InvalidOfferError);
  try {
    bundleOf(offer);
  } catch (e) {
    t.same((e as InvalidOfferError).issues.map((i) => i.field), ['careMode.code']);
  }
});

t.test('searches', async (t) => {
  t.equal(offerSearch('06/0099999'), `identifier=${OFFER_IDENTIFIER_SYSTEM}|06/0099999`, 'the ROR style of identifier stays readable');
  t.equal(identifierQuery('urn:x', 'a|b,c$d\\e f'), 'identifier=urn:x|a%5C%7Cb%5C%2Cc%5C%24d%5C%5Ce%20f', 'token escapes, then URL encoding');
  t.equal(
    offerReadSearch('X-1'),
    `identifier=${OFFER_IDENTIFIER_SYSTEM}|X-1&_include=HealthcareService:organization&_include=HealthcareService:location&_revinclude=PractitionerRole:service&_include:iterate=PractitionerRole:practitioner`,
  );
});
