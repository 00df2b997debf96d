// Synthetic telehealth acts (issue 10): realistic, deterministic, valid for POST /v1/acts, for tests,
// benchmarks and demonstrations. One seed gives the same acts on every machine (a small PRNG of our
// own, not Math.random). Everything here is fictitious: names, FINESS and RPPS numbers (with valid keys
// so that the business rules accept them), patients without an INS (identity PROV or VALI: the IPP alone
// identifies them, as in any DPI before the INSi call).
import { withLuhnKey } from '../mapping/index.ts';
import { pick, prng } from './random.ts';
import type { Random } from './random.ts';
import type { Act, ActIncident, ActPerformer, ActProfessional, ActType, IncidentEffect, IncidentType, Profession } from '../model/act.ts';

function weighted<T>(random: Random, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((sum, [, w]) => sum + w, 0);
  let draw = random() * total;
  for (const [value, w] of table) {
    draw -= w;
    if (draw < 0) return value;
  }
  const last = table[table.length - 1];
  if (last === undefined) throw new RangeError('weighted pick from an empty table');
  return last[0];
}

export interface SyntheticStructure {
  readonly finess: string;
  readonly name: string;
  readonly department: string;
  /** Relative activity: a university hospital does far more telehealth than a small care home. */
  readonly weight: number;
  /** Its professionals, when it has a known team (the team its offers publish): they are the ones who act. */
  readonly team?: readonly { readonly rpps: string; readonly familyName: string; readonly givenName: string; readonly profession: Profession }[];
}

// Île-de-France: the region a regional project lead would look at. Weights follow the kind of structure.
const DEPARTMENTS = ['75', '77', '78', '91', '92', '93', '94', '95'] as const;
const KINDS = [
  { kind: 'CHU', label: 'Centre hospitalier universitaire', weight: 12 },
  { kind: 'CH', label: 'Centre hospitalier', weight: 6 },
  { kind: 'MSP', label: 'Maison de santé pluriprofessionnelle', weight: 3 },
  { kind: 'CDS', label: 'Centre de santé', weight: 3 },
  { kind: 'EHPAD', label: 'EHPAD', weight: 1 },
] as const;
const TOWNS: Readonly<Record<(typeof DEPARTMENTS)[number], readonly string[]>> = {
  '75': ['Paris Nord', 'Paris Est', 'Paris Sud', 'Paris Ouest'],
  '77': ['Meaux', 'Melun', 'Provins'],
  '78': ['Versailles', 'Mantes-la-Jolie', 'Rambouillet'],
  '91': ['Évry', 'Étampes', 'Massy'],
  '92': ['Nanterre', 'Boulogne', 'Clamart'],
  '93': ['Bobigny', 'Saint-Denis', 'Montreuil'],
  '94': ['Créteil', 'Villejuif', 'Vitry'],
  '95': ['Pontoise', 'Argenteuil', 'Gonesse'],
};

/** The fictitious structures of a seed: two to four per department, each with a valid FINESS key. */
export function syntheticStructures(seed = 1): SyntheticStructure[] {
  const random = prng(seed ^ 0x5eed);
  const out: SyntheticStructure[] = [];
  let serial = 0;
  for (const department of DEPARTMENTS) {
    const towns = TOWNS[department];
    const n = 2 + Math.floor(random() * 3);
    for (let i = 0; i < n; i += 1) {
      serial += 1;
      const kind = i === 0 && department === '75' ? KINDS[0] : weighted(random, KINDS.map((k) => [k, k.weight] as const));
      const body = `${department}${String(990000 + serial).padStart(6, '0')}`;
      out.push({ finess: withLuhnKey(body), name: `${kind.label} ${pick(random, towns)} ${serial} (fictif)`, department, weight: kind.weight });
    }
  }
  return out;
}

interface Pool {
  readonly structure: SyntheticStructure;
  readonly physicians: readonly ActProfessional[];
  readonly nurses: readonly ActProfessional[];
  readonly paramedics: readonly ActProfessional[];
}

const FAMILY_NAMES = ['MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'RICHARD', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'SIMON', 'LAURENT', 'LEFEBVRE', 'MICHEL', 'GARCIA', 'DAVID', 'BERTRAND', 'ROUX', 'VINCENT', 'FOURNIER', 'MOREL', 'GIRARD', 'ANDRE', 'MERCIER', 'BLANC', 'GUERIN', 'BOYER', 'GARNIER', 'CHEVALIER', 'FRANCOIS'];
const GIVEN_NAMES = ['Claire', 'Julien', 'Sophie', 'Nicolas', 'Camille', 'Thomas', 'Léa', 'Hugo', 'Manon', 'Lucas', 'Chloé', 'Antoine', 'Inès', 'Mathieu', 'Sarah', 'Karim', 'Aïcha', 'Pierre', 'Emma', 'Louis'];

function pools(structures: readonly SyntheticStructure[], random: Random): Pool[] {
  let serial = 0;
  const professional = (structure: SyntheticStructure, profession: Profession): ActProfessional => {
    serial += 1;
    const body = `1${String(9_000_000 + serial).padStart(9, '0')}`;
    return {
      rpps: withLuhnKey(body),
      familyName: pick(random, FAMILY_NAMES),
      givenName: pick(random, GIVEN_NAMES),
      profession,
      finess: structure.finess,
      structureName: structure.name,
    };
  };
  return structures.map((structure) => {
    const size = Math.max(1, Math.round(structure.weight / 2));
    // A known team acts; a role it lacks (a nurses' centre has no physician) is filled with newcomers, and
    // so is a second physician (a care home has one): a téléexpertise needs a requester besides the expert.
    const team = (structure.team ?? []).map((member) => ({ ...member, finess: structure.finess, structureName: structure.name }));
    const ofTeam = (wanted: (profession: Profession) => boolean) => team.filter((member) => wanted(member.profession));
    const physicians = ofTeam((p) => p === 'medecin');
    const nurses = ofTeam((p) => p === 'infirmier');
    const paramedics = ofTeam((p) => p !== 'medecin');
    return {
      structure,
      physicians: physicians.length >= 2 ? physicians : [...physicians, ...Array.from({ length: physicians.length === 0 ? 1 + size * 2 : 1 }, () => professional(structure, 'medecin'))],
      nurses: nurses.length > 0 ? nurses : Array.from({ length: 1 + size }, () => professional(structure, 'infirmier')),
      paramedics: paramedics.length > 0 ? paramedics : (['orthophoniste', 'masseur-kinesitherapeute', 'infirmier'] as const).map((p) => professional(structure, p)),
    };
  });
}

const TYPE_WEIGHTS: readonly (readonly [ActType, number])[] = [
  ['teleconsultation', 55],
  ['teleexpertise', 20],
  ['telesurveillance', 10],
  ['telesoin', 10],
  ['teleassistance', 3],
  ['regulation', 2],
];
const INCIDENT_WEIGHTS: readonly (readonly [IncidentType, number])[] = [
  ['connection-loss', 40],
  ['audio-failure', 20],
  ['video-failure', 20],
  ['device-failure', 8],
  ['data-transmission-failure', 8],
  ['other', 4],
];
const EFFECT_WEIGHTS: readonly (readonly [IncidentEffect, number])[] = [
  ['none', 30],
  ['degraded', 40],
  ['interrupted', 20],
  ['converted-in-person', 10],
];

export interface ActGenerateOptions {
  readonly count: number;
  readonly seed?: number;
  /** The calendar year the acts fall in (default 2025). */
  readonly year?: number;
  /** The `source` of every act (the DPI's URI); default a fictitious regional DPI. */
  readonly source?: string;
  /** Prefix of the act ids, to keep runs apart on a shared server. */
  readonly idPrefix?: string;
  /** The structures to spread acts over (default syntheticStructures(seed)). */
  readonly structures?: readonly SyntheticStructure[];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Paris local time as a FHIR dateTime: +02:00 from April to October, +01:00 otherwise (close enough for synthetic data). */
function parisDateTime(year: number, month: number, day: number, minutes: number): string {
  const offset = month >= 4 && month <= 10 ? '+02:00' : '+01:00';
  return `${year}-${pad(month)}-${pad(day)}T${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}:00${offset}`;
}

const DAYS_IN_MONTH = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * `count` acts over one year, the same for the same options. The spread, roughly: téléconsultation 55 %,
 * téléexpertise 20 %, télésurveillance 10 %, télésoin 10 %, téléassistance 3 %, régulation 2 %; activity
 * grows over the year with a dip in August; 30 % of téléconsultations have a nurse on site; 2 % of acts
 * are refused by the patient (cancelled, consent refused); 3 % planned and 1 % in progress; 6 % of acts
 * meet a technical incident; 4 % of finished acts have no report yet. Acts stay within one day (08:00 to
 * 19:00, Paris time) so that no act crosses a month boundary.
 */
export function* generateActs(options: ActGenerateOptions): Generator<Act> {
  const seed = options.seed ?? 1;
  const year = options.year ?? 2025;
  const source = options.source ?? 'https://dpi.ght-idf.example.fr';
  const prefix = options.idPrefix ?? `SYN${seed}`;
  const random = prng(seed);
  const structures = options.structures ?? syntheticStructures(seed);
  const all = pools(structures, prng(seed ^ 0xbeef));
  const poolTable = all.map((pool) => [pool, pool.structure.weight] as const);
  // Months: slow January, growth over the year, a dip in August.
  const monthTable = [7, 7, 8, 8, 8, 8, 7, 4, 9, 10, 10, 9].map((w, i) => [i + 1, w] as const);
  for (let n = 1; n <= options.count; n += 1) {
    const type = weighted(random, TYPE_WEIGHTS);
    const pool = weighted(random, poolTable);
    const month = weighted(random, monthTable);
    const day = 1 + Math.floor(random() * DAYS_IN_MONTH(year, month));
    const startMinutes = 8 * 60 + Math.floor(random() * 10 * 60);
    const duration = type === 'teleexpertise' || type === 'telesurveillance' ? 10 + Math.floor(random() * 20) : 10 + Math.floor(random() * 35);
    const start = parisDateTime(year, month, day, startMinutes);
    const end = parisDateTime(year, month, day, startMinutes + duration);
    const at = (minute: number) => parisDateTime(year, month, day, startMinutes + minute);

    const roll = random();
    const refused = roll < 0.02;
    const status = refused ? 'cancelled' : roll < 0.05 ? 'planned' : roll < 0.06 ? 'in-progress' : 'finished';
    const done = status === 'finished';

    let performers: ActPerformer[];
    let requester: ActProfessional | undefined;
    let onSiteAssistant: ActProfessional | undefined;
    let billingCode: string | undefined;
    const physician = pick(random, pool.physicians);
    switch (type) {
      case 'teleexpertise': {
        const other = weighted(random, poolTable);
        requester = pick(random, other.physicians.filter((p) => p.rpps !== physician.rpps));
        performers = [{ ...physician, role: 'consultant' }];
        billingCode = random() < 0.7 ? 'TE2' : 'TE1';
        break;
      }
      case 'telesoin': {
        const paramedic = pick(random, pool.paramedics);
        performers = [{ ...paramedic, role: 'primary' }];
        billingCode = paramedic.profession === 'infirmier' ? 'TLS' : paramedic.profession === 'orthophoniste' ? 'AMO' : 'AMK';
        break;
      }
      case 'teleconsultation':
        performers = [{ ...physician, role: 'primary' }];
        billingCode = random() < 0.6 ? 'TCG' : 'TC';
        if (random() < 0.3) onSiteAssistant = pick(random, pool.nurses);
        break;
      case 'teleassistance':
        performers = [{ ...physician, role: 'primary' }];
        onSiteAssistant = pick(random, pool.nurses);
        break;
      default:
        performers = [{ ...physician, role: 'primary' }];
    }

    const incidents: ActIncident[] = [];
    if (!refused && status !== 'planned' && random() < 0.06) {
      incidents.push({ type: weighted(random, INCIDENT_WEIGHTS), time: at(Math.floor(duration / 2)), effect: weighted(random, EFFECT_WEIGHTS) });
    }
    const main = performers[0];
    if (main === undefined) throw new RangeError('an act without performer');
    const sex = random() < 0.52 ? 'female' : 'male';
    const birthYear = 1930 + Math.floor(random() * 85);
    const patientNumber = Math.floor(random() * 1_000_000);
    const act: Act = {
      source,
      actId: `${prefix}-${String(n).padStart(7, '0')}`,
      type,
      ...(type === 'teleexpertise' ? { teleexpertiseDelay: weighted(random, [['lt24h', 3], ['lt7d', 6], ['gt7d', 1]] as const) } : {}),
      ...(type === 'telesurveillance'
        ? { telesurveillanceProgram: weighted(random, [['insuffisance-cardiaque', 5], ['diabete', 3], ['insuffisance-respiratoire', 2], ['maladie-renale-chronique', 1], ['arythmie-cardiaque', 1], ['oncologie', 1]] as const) }
        : {}),
      ...(billingCode === undefined ? {} : { billingCode }),
      status,
      start,
      ...(done ? { end } : {}),
      modality: type === 'regulation' ? 'phone' : type === 'teleexpertise' || type === 'telesurveillance' ? 'asynchronous' : random() < 0.85 ? 'video' : 'phone',
      patient: {
        identityStatus: random() < 0.5 ? 'VALI' : 'PROV',
        traits: {
          birthFamilyName: pick(random, FAMILY_NAMES),
          birthGivenNames: [pick(random, GIVEN_NAMES)],
          birthDate: `${birthYear}-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))}`,
          sex,
        },
        ipp: { system: 'urn:oid:1.2.250.1.999.2.1', value: `IPP${String(patientNumber).padStart(7, '0')}` },
      },
      ...(requester === undefined ? {} : { requester }),
      performers,
      ...(onSiteAssistant === undefined ? {} : { onSiteAssistant }),
      consent: { decision: refused ? 'refused' : 'given', dateTime: start, method: random() < 0.8 ? 'oral' : 'electronic', collectedByRpps: (onSiteAssistant ?? main).rpps },
      ...(done && random() >= 0.04
        ? { report: { id: `CR-${n}`, authorRpps: main.rpps, date: at(duration + 5), text: `Compte rendu de ${type} (données synthétiques).` } }
        : {}),
      ...(incidents.length > 0 ? { incidents } : {}),
    };
    yield act;
  }
}
