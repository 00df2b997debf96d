// Synthetic offers for tests and benchmarks (telesante offers generate): realistic French structures —
// FINESS and RPPS numbers with valid keys, real towns with their postal and INSEE codes, codes of the
// national code sets in combinations the rules accept — and deterministic: the same seed gives the same
// offers, byte for byte. Offer i is computed from (seed, i) alone, so that a million offers stream out
// in constant memory. Four consecutive offers belong to one structure and share its Organization, its
// site and its team of professionals, as the offers of a real structure do.
import { withLuhnKey } from '../mapping/index.ts';
import { pick, prng } from './random.ts';
import type { Random } from './random.ts';
import type { SyntheticStructure } from './acts.ts';
import type { Profession } from '../model/act.ts';
import type { DayOfWeek, Offer, OfferContact, OfferOpeningHours, OfferProfessional, OfferSite, TelehealthModality } from '../model/offer.ts';

export const OFFERS_PER_STRUCTURE = 4;

/** A 32-bit hash of the seed, a purpose and an index: each entity has its own stream of numbers. */
function streamOf(seed: number, purpose: string, index: number): Random {
  let h = 2166136261 ^ seed;
  for (const c of `${purpose}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return prng(h ^ (h >>> 13));
}

interface Town {
  readonly city: string;
  readonly postalCode: string;
  readonly inseeCode: string;
  readonly latitude: number;
  readonly longitude: number;
  /** First digit of the landlines there (01 Île-de-France… 05 Sud-Ouest). */
  readonly phoneZone: string;
}

// Real communes: postal code, INSEE (COG) code and a point in town.
const TOWNS: readonly Town[] = [
  { city: 'Quimper', postalCode: '29000', inseeCode: '29232', latitude: 47.996, longitude: -4.102, phoneZone: '2' },
  { city: 'Brest', postalCode: '29200', inseeCode: '29019', latitude: 48.3904, longitude: -4.4861, phoneZone: '2' },
  { city: 'Rennes', postalCode: '35000', inseeCode: '35238', latitude: 48.1173, longitude: -1.6778, phoneZone: '2' },
  { city: 'Nantes', postalCode: '44000', inseeCode: '44109', latitude: 47.2184, longitude: -1.5536, phoneZone: '2' },
  { city: 'Angers', postalCode: '49000', inseeCode: '49007', latitude: 47.4784, longitude: -0.5632, phoneZone: '2' },
  { city: 'Tours', postalCode: '37000', inseeCode: '37261', latitude: 47.3941, longitude: 0.6848, phoneZone: '2' },
  { city: 'Bordeaux', postalCode: '33000', inseeCode: '33063', latitude: 44.8378, longitude: -0.5792, phoneZone: '5' },
  { city: 'Toulouse', postalCode: '31000', inseeCode: '31555', latitude: 43.6047, longitude: 1.4442, phoneZone: '5' },
  { city: 'Limoges', postalCode: '87000', inseeCode: '87085', latitude: 45.8336, longitude: 1.2611, phoneZone: '5' },
  { city: 'Montpellier', postalCode: '34000', inseeCode: '34172', latitude: 43.6108, longitude: 3.8767, phoneZone: '4' },
  { city: 'Marseille', postalCode: '13005', inseeCode: '13205', latitude: 43.2927, longitude: 5.399, phoneZone: '4' },
  { city: 'Grenoble', postalCode: '38000', inseeCode: '38185', latitude: 45.1885, longitude: 5.7245, phoneZone: '4' },
  { city: 'Lyon', postalCode: '69003', inseeCode: '69383', latitude: 45.7597, longitude: 4.8422, phoneZone: '4' },
  { city: 'Clermont-Ferrand', postalCode: '63000', inseeCode: '63113', latitude: 45.7772, longitude: 3.087, phoneZone: '4' },
  { city: 'Dijon', postalCode: '21000', inseeCode: '21231', latitude: 47.322, longitude: 5.0415, phoneZone: '3' },
  { city: 'Besançon', postalCode: '25000', inseeCode: '25056', latitude: 47.2378, longitude: 6.0241, phoneZone: '3' },
  { city: 'Strasbourg', postalCode: '67000', inseeCode: '67482', latitude: 48.5734, longitude: 7.7521, phoneZone: '3' },
  { city: 'Nancy', postalCode: '54000', inseeCode: '54395', latitude: 48.6921, longitude: 6.1844, phoneZone: '3' },
  { city: 'Reims', postalCode: '51100', inseeCode: '51454', latitude: 49.2583, longitude: 4.0317, phoneZone: '3' },
  { city: 'Lille', postalCode: '59000', inseeCode: '59350', latitude: 50.6292, longitude: 3.0573, phoneZone: '3' },
];

const STREETS = [
  'rue de la République', 'avenue Jean Jaurès', 'boulevard Gambetta', 'rue Victor Hugo', 'place de la Mairie', 'rue Pasteur',
  'allée des Tilleuls', 'avenue du Général de Gaulle', 'rue des Écoles', 'rue Nationale', 'boulevard de la Liberté', 'rue du Docteur Roux',
];
const FAMILY_NAMES = [
  'Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent', 'Simon', 'Michel', 'Lefebvre',
  'Leroy', 'Roux', 'David', 'Bertrand', 'Morel', 'Fournier', 'Girard', 'Bonnet', 'Dupont', 'Lambert', 'Fontaine', 'Rousseau', 'Vincent',
  'Muller', 'Lefèvre', 'Faure', 'André', 'Mercier', 'Blanc', 'Guérin', 'Boyer', 'Garnier', 'Chevalier', 'Le Goff', 'Kerouédan', 'Nguyen', 'Benali',
];
const GIVEN_NAMES = [
  'Marie', 'Jean', 'Camille', 'Nicolas', 'Sophie', 'Thomas', 'Julie', 'Pierre', 'Claire', 'Antoine', 'Léa', 'Mathieu', 'Chloé', 'Julien',
  'Emma', 'Hugo', 'Inès', 'Louis', 'Sarah', 'Paul', 'Manon', 'Lucas', 'Anne', 'Karim', 'Yann', 'Hélène',
];
const FLOWERS = ['Glycines', 'Tilleuls', 'Hortensias', 'Jardins', 'Lilas', 'Magnolias', 'Charmilles', 'Peupliers'];

type Kind = 'msp' | 'ch' | 'csi' | 'ehpad' | 'chs';
const KINDS: readonly Kind[] = ['msp', 'msp', 'ch', 'csi', 'ehpad', 'chs'];

interface Structure {
  readonly index: number;
  readonly kind: Kind;
  readonly town: Town;
  readonly finess: string;
  readonly name: string;
  readonly slug: string;
  readonly street: string;
  readonly team: readonly OfferProfessional[];
}

const PROFESSIONS_OF_TEAM: Readonly<Record<Kind, readonly string[]>> = {
  msp: ['10', '10', '60', '70'],
  ch: ['10', '10', '10', '60'],
  csi: ['60', '60', '60'],
  ehpad: ['10', '60', '60'],
  chs: ['10', '10', '60'],
};

function slugOf(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function structureOf(seed: number, index: number): Structure {
  const random = streamOf(seed, 'structure', index);
  const kind = pick(random, KINDS);
  const town = pick(random, TOWNS);
  const department = town.inseeCode.slice(0, 2);
  // Structures are numbered in a department's own range: unique within a run of up to 10^6 structures.
  const finess = withLuhnKey(`${department}${String((index * 7 + seed * 7919) % 1_000_000).padStart(6, '0')}`);
  const flower = pick(random, FLOWERS);
  const name = {
    msp: `Maison de santé pluriprofessionnelle de ${town.city} ${pick(random, ['Centre', 'Nord', 'Sud', 'Est', 'Ouest'])}`,
    ch: `Centre hospitalier de ${town.city}`,
    csi: `Centre de soins infirmiers de ${town.city}`,
    ehpad: `EHPAD Les ${flower}`,
    chs: `Centre hospitalier spécialisé de ${town.city}`,
  }[kind];
  const team = PROFESSIONS_OF_TEAM[kind].map((profession, k) => ({
    rpps: withLuhnKey(`10${String((index * 5 + k + seed * 104_729) % 100_000_000).padStart(8, '0')}`),
    familyName: pick(random, FAMILY_NAMES),
    givenName: pick(random, GIVEN_NAMES),
    profession: { code: profession },
  }));
  return { index, kind, town, finess, name, slug: `${slugOf(name)}-${index}`, street: `${1 + Math.floor(random() * 120)} ${pick(random, STREETS)}`, team };
}

interface Template {
  readonly label: string;
  readonly activityField: string;
  readonly operationalActivities: readonly string[];
  readonly careMode: string;
  readonly modalities: readonly TelehealthModality[];
  readonly delays?: readonly ('lt24h' | 'lt7d')[];
  readonly receptionModalities?: readonly string[];
  readonly specificActs?: readonly string[];
  readonly ages?: readonly [number, number];
  readonly publics?: readonly string[];
  readonly sensitive?: boolean;
  readonly hoursType: string;
}

// Combinations taken from examples/offers (each accepted by validateOffer and the gate).
const TEMPLATES: Readonly<Record<Kind, readonly Template[]>> = {
  msp: [
    { label: 'Téléconsultation de médecine générale', activityField: '05', operationalActivities: ['437'], careMode: '32', modalities: ['teleconsultation'], receptionModalities: ['03'], hoursType: '07' },
    { label: 'Télésoin infirmier', activityField: '05', operationalActivities: ['287'], careMode: '32', modalities: ['telesoin'], receptionModalities: ['03', '05'], ages: [18, 120], publics: ['09'], hoursType: '07' },
  ],
  ch: [
    { label: 'Téléexpertise', activityField: '01', operationalActivities: ['037', '013', '114', '103'], careMode: '35', modalities: ['teleexpertise'], delays: ['lt24h', 'lt7d'], publics: ['07'], hoursType: '02' },
    { label: 'Télécardiologie', activityField: '01', operationalActivities: ['013'], careMode: '32', modalities: ['teleconsultation', 'teleexpertise', 'telesurveillance'], delays: ['lt24h'], receptionModalities: ['03'], specificActs: ['1279', '1483'], ages: [18, 120], hoursType: '02' },
    { label: 'Téléconsultation de spécialité', activityField: '01', operationalActivities: ['037', '114', '103', '279'], careMode: '32', modalities: ['teleconsultation'], receptionModalities: ['03'], hoursType: '07' },
  ],
  csi: [
    { label: 'Télésoin infirmier', activityField: '05', operationalActivities: ['287'], careMode: '32', modalities: ['telesoin'], receptionModalities: ['03', '05'], ages: [18, 120], publics: ['09'], hoursType: '07' },
  ],
  ehpad: [
    { label: "Télésurveillance de l'insuffisance cardiaque", activityField: '04', operationalActivities: ['050'], careMode: '46', modalities: ['teleconsultation', 'telesurveillance'], specificActs: ['1431', '1483'], ages: [60, 120], publics: ['01'], hoursType: '02' },
  ],
  chs: [
    { label: 'Régulation psychiatrique', activityField: '03', operationalActivities: ['277'], careMode: '27', modalities: ['teleconsultation', 'regulation'], ages: [16, 120], sensitive: true, hoursType: '02' },
  ],
};

const WEEK: readonly DayOfWeek[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

function phoneOf(random: Random, town: Town): string {
  const pair = () => String(Math.floor(random() * 100)).padStart(2, '0');
  return `0${town.phoneZone} ${pair()} ${pair()} ${pair()} ${pair()}`;
}

export interface OfferGenerateOptions {
  readonly seed: number;
  /** The start of every identifiantOffre (default GEN<seed>): tests make theirs unique to a run. */
  readonly prefix?: string;
}

/** Offer i (from 0) of the seed: always the same. */
export function generatedOffer(index: number, options: OfferGenerateOptions): Offer {
  const { seed } = options;
  const structure = structureOf(seed, Math.floor(index / OFFERS_PER_STRUCTURE));
  const random = streamOf(seed, 'offer', index);
  const templates = TEMPLATES[structure.kind];
  const template = templates[(index % OFFERS_PER_STRUCTURE) % templates.length] as Template;
  const operationalActivity = pick(random, template.operationalActivities);
  const town = structure.town;
  const site: OfferSite = {
    name: structure.name,
    ...(structure.kind === 'ch' || structure.kind === 'ehpad' ? { finess: structure.finess } : {}),
    address: { lines: [structure.street], postalCode: town.postalCode, city: town.city, inseeCode: town.inseeCode },
    coordinates: { latitude: Number((town.latitude + (random() - 0.5) / 50).toFixed(4)), longitude: Number((town.longitude + (random() - 0.5) / 50).toFixed(4)) },
  };
  const count = 1 + Math.floor(random() * Math.min(3, structure.team.length));
  const start = Math.floor(random() * structure.team.length);
  const professionals = Array.from({ length: count }, (_, k) => structure.team[(start + k) % structure.team.length] as OfferProfessional);
  const opens = pick(random, ['08:00', '08:30', '09:00']);
  const closes = pick(random, ['17:00', '18:00', '18:30', '19:00']);
  const openingHours: OfferOpeningHours[] = [{ days: WEEK, opens, closes, hoursType: { code: template.hoursType } }];
  if (template.modalities.includes('teleconsultation') && template.hoursType !== '10') {
    openingHours.push({ days: [pick(random, WEEK)], opens: '19:00', closes: '21:00', hoursType: { code: '10' } });
  }
  const sensitive = template.sensitive === true;
  const contacts: OfferContact[] = [
    { channel: 'landline', value: phoneOf(random, town), ...(sensitive ? { confidentiality: 'regulation' as const } : {}), usage: 'Secrétariat' },
    { channel: 'mssante', value: `telesante@${structure.slug}.mssante.fr`, confidentiality: 'professionals' },
  ];
  const delay = template.delays === undefined ? undefined : pick(random, template.delays);
  const identifiantOffre = `${options.prefix ?? `GEN${seed}`}-${String(index + 1).padStart(7, '0')}`;
  return {
    identifiantOffre,
    name: `${template.label} - ${structure.name}`,
    description: `${template.label} proposée par ${structure.name} (${town.city}).`,
    sensitiveUnit: sensitive,
    structure: { finess: structure.finess, name: structure.name },
    sites: [site],
    activityField: { code: template.activityField },
    operationalActivity: { code: operationalActivity },
    careMode: { code: template.careMode },
    modalities: [...template.modalities],
    ...(delay === undefined ? {} : { teleexpertiseDelay: delay }),
    ...(template.receptionModalities === undefined ? {} : { receptionModalities: template.receptionModalities.map((code) => ({ code })) }),
    ...(template.specificActs === undefined ? {} : { specificActs: template.specificActs.map((code) => ({ code })) }),
    ...(template.ages === undefined ? {} : { patientType: { minAge: template.ages[0], maxAge: template.ages[1], ...(template.publics === undefined ? {} : { publics: template.publics.map((code) => ({ code })) }) } }),
    ...(template.ages === undefined && template.publics !== undefined ? { patientType: { minAge: 0, maxAge: 120, publics: template.publics.map((code) => ({ code })) } } : {}),
    professionals,
    openingHours,
    contacts,
  };
}

/** Offers `from` (default 0) to `from + count - 1`, one at a time. */
export function* generateOffers(count: number, options: OfferGenerateOptions & { readonly from?: number }): Generator<Offer> {
  const from = options.from ?? 0;
  for (let i = from; i < from + count; i++) yield generatedOffer(i, options);
}

/** The professions of our teams' TRE_G15 codes, as an act names them. */
const PROFESSION_OF_CODE: Readonly<Record<string, Profession>> = { '10': 'medecin', '60': 'infirmier', '70': 'masseur-kinesitherapeute' };
/** Relative telehealth activity of each kind of structure (as syntheticStructures weighs its own). */
const WEIGHT_OF_KIND: Readonly<Record<Kind, number>> = { ch: 8, chs: 4, msp: 3, csi: 2, ehpad: 1 };

/**
 * The structures that publish the first `count` offers of a seed, with their teams, for generateActs:
 * a coherent data set, where the structures that publish offers are those whose professionals act.
 */
export function offerStructures(count: number, options: OfferGenerateOptions): SyntheticStructure[] {
  return Array.from({ length: Math.ceil(count / OFFERS_PER_STRUCTURE) }, (_, index) => {
    const structure = structureOf(options.seed, index);
    return {
      finess: structure.finess,
      name: structure.name,
      department: structure.town.inseeCode.slice(0, 2),
      weight: WEIGHT_OF_KIND[structure.kind],
      team: structure.team.map((member) => ({ rpps: member.rpps, familyName: member.familyName, givenName: member.givenName ?? '', profession: PROFESSION_OF_CODE[(member.profession as { code?: string }).code ?? ''] ?? 'medecin' })),
    };
  });
}
