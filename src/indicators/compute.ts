// Computes the roadmap indicators (issue 10) from a FHIR store, with searches only: counts come from
// `_summary=count`, and the few indicators that need identities (distinct professionals, distinct acts
// among incidents, distinct structures) page through a search asking for one element, keeping only a Set
// of references. Nothing here holds more than one page of resources at a time.
//
// Groups by structure or department: a shared server holds far more Organizations than acted in a
// period (every offer import, every other run), and one OR-list of all of them per search made grouping
// cost in proportion to the whole server. So one paged pass over the period's Encounters gives the
// structures that acted (and, per structure, the performers: distinct professionals are unions of these
// sets, never sums), and one pass over the active offers gives the offers per structure; the searches of
// a group then name only its structures that acted. A structure with neither is in no group.
//
// Every search used works the same on HAPI and on the embedded store (Medplum's in-memory router); this
// was checked by hand and is asserted by the tests on both. Two limits of the embedded store shape it:
// - it silently answers 0 to `_has` and to chains of two levels (`data:Encounter.service-provider:
//   Organization.identifier`): we only use chains of one level, with Organization references resolved
//   first;
// - it ignores `_elements` (whole resources come back): memory stays bounded by the page size.
//
// What "an act" counts here: an Encounter of class VR (every act toActBundle writes) with status finished,
// whose period meets the window. R4 `date` on Encounter is the period: an act with no end (planned, in
// progress) would match every later window, so activity counts finished acts only, which have an end.
import type { Consent, Encounter, HealthcareService, Observation, Organization, PractitionerRole, Resource, ResourceType } from '@medplum/fhirtypes';
import type { FhirStore, SearchParams } from '../fhir/index.ts';
import { actTypeCodings, INCIDENT_EFFECT_SYSTEM, INCIDENT_TYPE_SYSTEM, PARTICIPANT_CODING, PARTICIPANT_ROLE_SYSTEM, PROFESSION_CODE, REPORT_LOINC, V3_ACT_CODE } from '../mapping/act-coding.ts';
import { tokenQuery } from '../mapping/keys.ts';
import { FINESS_SYSTEM } from '../mapping/fr-core.ts';
import { CODE_SETS } from '../mapping/codes/index.ts';
import { ACT_TYPES, INCIDENT_TYPES, PROFESSIONS, TELEMEDICINE_ACT_TYPES } from '../model/act.ts';
import type { ActType, Profession } from '../model/act.ts';
import { PROFESSION_LABELS } from './definitions.ts';
import { departmentLabel, departmentOfFiness, regionLabel, regionOf } from './geo.ts';
import { monthsOf, sixMonthsBefore } from './report.ts';
import type { IndicatorQuery, IndicatorReport, IndicatorSet, OfferIndicators, Window } from './report.ts';

export interface ComputeOptions {
  /** Searches in flight at once (HAPI answers several at a time; the embedded store one by one). */
  readonly concurrency?: number;
  /** Page size of the paged searches. */
  readonly pageSize?: number;
  readonly requestId?: string;
}


// --- the searches ------------------------------------------------------------------------------------

const TELEHEALTH_RECEPTION = ['04', '10', '11', '12', '14'];
const TELEHEALTH_CARE_MODES = ['27', '35', '36', '37'];
const TELEHEALTH_SPECIFIC_ACTS = ['0988', '1271', '1272', '1273', '1474', '1431', '0824', '1279', '1483', '1484', '1485', '1486', '1487'];
const PERFORMER_CODES = new Set([PARTICIPANT_CODING.primary.code, PARTICIPANT_CODING.secondary.code, PARTICIPANT_CODING.consultant.code]);

/** `name=system|code,…` as one search parameter. */
function tokens(name: string, pairs: readonly { readonly system: string; readonly code: string }[]): SearchParams {
  const query = tokenQuery(name, pairs);
  return { [name]: decodeURIComponent(query.slice(name.length + 1)) };
}

function typeTokens(types: readonly ActType[]): SearchParams {
  return tokens(
    'type',
    types.flatMap((t) => actTypeCodings(t)).map((c) => ({ system: c.system ?? '', code: c.code ?? '' })),
  );
}

const RECEPTION_CODINGS = TELEHEALTH_RECEPTION.map((code) => ({ system: CODE_SETS.receptionModality.system, code }));
const ANY_TELEHEALTH_CODINGS = [
  ...RECEPTION_CODINGS,
  ...TELEHEALTH_CARE_MODES.map((code) => ({ system: CODE_SETS.careMode.system, code })),
  ...TELEHEALTH_SPECIFIC_ACTS.map((code) => ({ system: CODE_SETS.specificAct.system, code })),
];
const RECEPTION_TOKENS = tokens('characteristic', RECEPTION_CODINGS);
const ANY_TELEHEALTH_TOKENS = tokens('characteristic', ANY_TELEHEALTH_CODINGS);

/**
 * Which resources a group covers, as search parameters per resource family. `orgRefs` undefined = every
 * structure; empty = none (a filter that matches no structure gives zeros, never everything).
 */
interface Scope {
  readonly orgRefs?: readonly string[];
  readonly profession?: Profession;
}

function encounterScope(scope: Scope): Record<string, string> {
  const out: Record<string, string> = {};
  if (scope.orgRefs !== undefined) out['service-provider'] = scope.orgRefs.join(',');
  if (scope.profession !== undefined) out['participant:PractitionerRole.role'] = `${CODE_SETS.profession.system}|${PROFESSION_CODE[scope.profession]}`;
  return out;
}

/**
 * The scope on a resource that points at the act (`encounter` of Observation and DocumentReference,
 * `data` of Consent): one chain level. Undefined when it would need two levels (profession), which the
 * embedded store does not support.
 */
function relatedScope(scope: Scope, param: 'encounter' | 'data'): Record<string, string> | undefined {
  if (scope.profession !== undefined) return undefined;
  return scope.orgRefs === undefined ? {} : { [`${param}:Encounter.service-provider`]: scope.orgRefs.join(',') };
}

/** A bounded number of searches in flight. */
class Searcher {
  searches = 0;
  readonly #store: FhirStore;
  readonly #limit: number;
  readonly #pageSize: number;
  readonly #requestId: string | undefined;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(store: FhirStore, options: ComputeOptions) {
    this.#store = store;
    this.#limit = Math.max(1, options.concurrency ?? (store.kind === 'hapi' ? 6 : 1));
    this.#pageSize = options.pageSize ?? 500;
    this.#requestId = options.requestId;
  }

  async #slot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running += 1;
    this.searches += 1;
    try {
      return await work();
    } finally {
      this.#running -= 1;
      this.#waiting.shift()?.();
    }
  }

  count(type: ResourceType, params: SearchParams): Promise<number> {
    return this.#slot(() => this.#store.count(type, params, this.#ctx()));
  }

  /**
   * Every resource of a search, one page at a time, handed to `visit` and dropped. Paged by `_offset` in
   * `_id` order (the store interface has no "next" link, and the embedded store sends none); a page
   * shorter than asked is not the end (HAPI caps page sizes): only an empty page or the known total is.
   */
  async each<T extends Resource>(type: ResourceType, params: SearchParams, visit: (resource: T) => void): Promise<void> {
    for (let offset = 0; ; ) {
      const bundle = await this.#slot(() =>
        this.#store.search<T>(type, { ...params, _count: String(this.#pageSize), _offset: String(offset), _sort: '_id' }, this.#ctx()),
      );
      const entries = bundle.entry ?? [];
      for (const entry of entries) if (entry.resource !== undefined) visit(entry.resource);
      offset += entries.length;
      if (entries.length === 0 || (bundle.total !== undefined && offset >= bundle.total)) return;
    }
  }

  #ctx() {
    return this.#requestId === undefined ? {} : { requestId: this.#requestId };
  }
}

function dateWindow(window: Window): string[] {
  return [`ge${window.from}`, `lt${window.to}`];
}

function zeroBy<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function emptySet(withMonths: readonly { month: string }[] | undefined, related: boolean, offers: boolean): IndicatorSet {
  const byType = zeroBy(ACT_TYPES);
  return {
    acts: 0,
    actsByType: byType,
    ...(withMonths === undefined ? {} : { actsByMonth: withMonths.map((m) => ({ month: m.month, total: 0, byType })) }),
    professionals: 0,
    teleconsultations: 0,
    teleconsultationsWithAssistant: 0,
    consentRefusals: related ? 0 : null,
    incidents: related ? 0 : null,
    incidentsByType: related ? zeroBy(INCIDENT_TYPES) : null,
    actsWithIncident: related ? 0 : null,
    actsInterruptedOrConverted: related ? 0 : null,
    finishedWithoutReport: related ? 0 : null,
    reportsWithoutAuthor: related ? 0 : null,
    offers: offers ? { total: 0, withTelehealthReception: 0, fillRate: null, structuresWithTelehealthOffer: 0 } : null,
    patientsTelesurveillance6Months: 0,
  };
}

async function byKeys<K extends string>(keys: readonly K[], count: (key: K) => Promise<number>): Promise<Record<K, number>> {
  const values = await Promise.all(keys.map(count));
  return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? 0])) as Record<K, number>;
}

const VR_CLASS = `${V3_ACT_CODE}|VR`;
const ACT_BASE: SearchParams = { class: VR_CLASS, status: 'finished' };

/**
 * What the period's acts say, from one paged search of its telemedicine Encounters (any status, a few
 * elements each): which structures acted, and who performed for each. Kept: one Set of performer roles
 * per structure, never the Encounters.
 */
interface Activity {
  /** Organization reference ('' for acts without one) → PractitionerRole ids of the performers of its finished telemedicine acts. */
  readonly rolesByOrg: ReadonlyMap<string, ReadonlySet<string>>;
  /** PractitionerRole id → its Practitioner and profession codes. */
  readonly roles: ReadonlyMap<string, { readonly practitioner: string; readonly codes: ReadonlySet<string> }>;
  /**
   * Every structure a searched resource of the period can belong to: the service providers of the
   * period's acts (their reports share their period; their incidents lie within it, act-check.ts), and
   * those of the acts whose consent was refused in the period (a consent may be dated before its act).
   */
  readonly organizations: ReadonlySet<string>;
}

const TELEMEDICINE_TYPE_TOKENS = new Set(
  ACT_TYPES.filter((t) => TELEMEDICINE_ACT_TYPES.has(t))
    .flatMap((t) => actTypeCodings(t))
    .map((c) => `${c.system ?? ''}|${c.code ?? ''}`),
);

/** Ids of `Type/id` references of that type. */
function idsOf(references: Iterable<string | undefined>, type: ResourceType): string[] {
  const ids = new Set<string>();
  for (const reference of references) if (reference?.startsWith(`${type}/`)) ids.add(reference.slice(type.length + 1));
  return [...ids];
}

/** Every resource of these ids, 100 per search. */
async function eachById<T extends Resource>(searcher: Searcher, type: ResourceType, ids: readonly string[], elements: string, visit: (resource: T) => void): Promise<void> {
  const batches: Promise<void>[] = [];
  for (let i = 0; i < ids.length; i += 100) batches.push(searcher.each<T>(type, { _id: ids.slice(i, i + 100).join(','), _elements: elements }, visit));
  await Promise.all(batches);
}

async function activityOf(searcher: Searcher, window: Window): Promise<Activity> {
  const rolesByOrg = new Map<string, Set<string>>();
  const organizations = new Set<string>();
  const date = dateWindow(window);
  await searcher.each<Encounter>('Encounter', { class: VR_CLASS, date, _elements: 'serviceProvider,participant,status,type' }, (encounter) => {
    const org = encounter.serviceProvider?.reference ?? '';
    if (org !== '') organizations.add(org);
    const roles = rolesByOrg.get(org) ?? new Set<string>();
    rolesByOrg.set(org, roles);
    const telemedicine = (encounter.type ?? []).some((t) => (t.coding ?? []).some((c) => TELEMEDICINE_TYPE_TOKENS.has(`${c.system ?? ''}|${c.code ?? ''}`)));
    if (encounter.status !== 'finished' || !telemedicine) return;
    for (const p of encounter.participant ?? []) {
      const reference = p.individual?.reference;
      const performer = (p.type ?? []).some((t) => (t.coding ?? []).some((c) => c.code !== undefined && PERFORMER_CODES.has(c.code)));
      if (performer && reference?.startsWith('PractitionerRole/')) roles.add(reference.slice('PractitionerRole/'.length));
    }
  });
  const refused: (string | undefined)[] = [];
  await searcher.each<Consent>('Consent', { status: 'rejected', date, _elements: 'data' }, (consent) => refused.push(...(consent.provision?.data ?? []).map((d) => d.reference?.reference)));
  await eachById<Encounter>(searcher, 'Encounter', idsOf(refused, 'Encounter'), 'serviceProvider', (encounter) => {
    if (encounter.serviceProvider?.reference !== undefined) organizations.add(encounter.serviceProvider.reference);
  });
  // One professional may act for several structures (one PractitionerRole each): count Practitioners.
  const roles = new Map<string, { practitioner: string; codes: Set<string> }>();
  const roleIds = new Set([...rolesByOrg.values()].flatMap((r) => [...r]));
  await eachById<PractitionerRole>(searcher, 'PractitionerRole', [...roleIds], 'practitioner,code', (role) => {
    const codes = new Set((role.code ?? []).flatMap((c) => (c.coding ?? []).flatMap((x) => (x.code === undefined ? [] : [x.code]))));
    roles.set(role.id ?? '', { practitioner: role.practitioner?.reference ?? `PractitionerRole/${role.id ?? ''}`, codes });
  });
  return { rolesByOrg, roles, organizations };
}

/** Distinct professionals (Practitioners) among the performers of the scope's finished telemedicine acts. */
function distinctProfessionals(activity: Activity, scope: Scope): number {
  const orgs = scope.orgRefs ?? [...activity.rolesByOrg.keys()];
  const professionCode = scope.profession === undefined ? undefined : PROFESSION_CODE[scope.profession];
  const practitioners = new Set<string>();
  for (const org of orgs) {
    for (const id of activity.rolesByOrg.get(org) ?? []) {
      const role = activity.roles.get(id);
      if (role === undefined || (professionCode !== undefined && !role.codes.has(professionCode))) continue;
      practitioners.add(role.practitioner);
    }
  }
  return practitioners.size;
}

async function distinctReferences<T extends Resource>(searcher: Searcher, type: ResourceType, params: SearchParams, referenceOf: (r: T) => string | undefined): Promise<number> {
  const seen = new Set<string>();
  await searcher.each<T>(type, params, (resource) => {
    const reference = referenceOf(resource);
    if (reference !== undefined) seen.add(reference);
  });
  return seen.size;
}

async function offerIndicators(searcher: Searcher): Promise<OfferIndicators> {
  const active = { active: 'true' };
  const [total, withTelehealthReception, structuresWithTelehealthOffer] = await Promise.all([
    searcher.count('HealthcareService', active),
    searcher.count('HealthcareService', { ...active, ...RECEPTION_TOKENS }),
    distinctReferences<HealthcareService>(searcher, 'HealthcareService', { ...active, ...ANY_TELEHEALTH_TOKENS, _elements: 'providedBy' }, (s) => s.providedBy?.reference),
  ]);
  return offerRates(total, withTelehealthReception, structuresWithTelehealthOffer);
}

function offerRates(total: number, withTelehealthReception: number, structuresWithTelehealthOffer: number): OfferIndicators {
  return { total, withTelehealthReception, fillRate: total === 0 ? null : withTelehealthReception / total, structuresWithTelehealthOffer };
}

interface OfferTally {
  total: number;
  withTelehealthReception: number;
  telehealth: number;
}

export const RECEPTION_SET: ReadonlySet<string> = new Set(RECEPTION_CODINGS.map((c) => `${c.system}|${c.code}`));
export const ANY_TELEHEALTH_SET: ReadonlySet<string> = new Set(ANY_TELEHEALTH_CODINGS.map((c) => `${c.system}|${c.code}`));

/**
 * The active offers counted per structure (providedBy), from one paged search: what the three offer
 * searches above give for one structure, without one search per structure. Matches the same codings.
 */
async function offersByOrganization(searcher: Searcher): Promise<Map<string, OfferTally>> {
  const out = new Map<string, OfferTally>();
  await searcher.each<HealthcareService>('HealthcareService', { active: 'true', _elements: 'providedBy,characteristic' }, (service) => {
    const org = service.providedBy?.reference;
    if (org === undefined) return;
    const tokens = new Set((service.characteristic ?? []).flatMap((c) => (c.coding ?? []).map((x) => `${x.system ?? ''}|${x.code ?? ''}`)));
    const tally = out.get(org) ?? { total: 0, withTelehealthReception: 0, telehealth: 0 };
    tally.total += 1;
    if ([...tokens].some((t) => RECEPTION_SET.has(t))) tally.withTelehealthReception += 1;
    if ([...tokens].some((t) => ANY_TELEHEALTH_SET.has(t))) tally.telehealth += 1;
    out.set(org, tally);
  });
  return out;
}

function sumOffers(tallies: ReadonlyMap<string, OfferTally>, orgRefs: readonly string[]): OfferIndicators {
  let total = 0;
  let withReception = 0;
  let structures = 0;
  for (const org of orgRefs) {
    const tally = tallies.get(org);
    if (tally === undefined) continue;
    total += tally.total;
    withReception += tally.withTelehealthReception;
    if (tally.telehealth > 0) structures += 1;
  }
  return offerRates(total, withReception, structures);
}

/** What the overall and the groups share: the period's activity and, with structures, the offers per structure. */
interface Shared {
  readonly activity: Promise<Activity>;
  readonly offers: Promise<ReadonlyMap<string, OfferTally>> | undefined;
}

async function offersOf(shared: Shared, orgRefs: readonly string[]): Promise<OfferIndicators> {
  if (shared.offers === undefined) throw new Error('indicators: offers per structure were not computed');
  return sumOffers(await shared.offers, orgRefs);
}

async function indicatorSet(searcher: Searcher, shared: Shared, window: Window, group: Scope, withMonths: boolean): Promise<IndicatorSet> {
  const months = withMonths ? monthsOf(window) : undefined;
  // The searches name only the group's structures that acted in the period (the others count zero and
  // would only lengthen them); the offers are those of all its structures.
  const acting = group.orgRefs === undefined ? undefined : (await shared.activity).organizations;
  const scope: Scope = acting === undefined ? group : { ...group, orgRefs: (group.orgRefs ?? []).filter((r) => acting.has(r)) };
  const related = { encounter: relatedScope(scope, 'encounter'), consent: relatedScope(scope, 'data') };
  // Offers by profession: not computable (a HealthcareService's specialty is not the profession of an act).
  const withOffers = scope.profession === undefined;
  if (scope.orgRefs !== undefined && scope.orgRefs.length === 0) {
    const empty = emptySet(months, related.encounter !== undefined, withOffers);
    return withOffers ? { ...empty, offers: await offersOf(shared, group.orgRefs ?? []) } : empty;
  }

  const date = dateWindow(window);
  const acts = { ...ACT_BASE, ...encounterScope(scope) };
  const countActs = (types: readonly ActType[], w: Window, extra: SearchParams = {}) => searcher.count('Encounter', { ...acts, ...typeTokens(types), date: dateWindow(w), ...extra });

  const actsTotal = searcher.count('Encounter', { ...acts, date });
  const actsByType = byKeys(ACT_TYPES, (t) => countActs([t], window));
  const actsByMonth = months === undefined
    ? undefined
    : Promise.all(
        months.map(async (m) => {
          const byType = await byKeys(ACT_TYPES, (t) => countActs([t], m.window));
          return { month: m.month, total: Object.values(byType).reduce((a, b) => a + b, 0), byType };
        }),
      );
  const professionals = shared.activity.then((activity) => distinctProfessionals(activity, scope));
  const withAssistant = countActs(['teleconsultation'], window, tokens('participant-type', [{ system: PARTICIPANT_ROLE_SYSTEM, code: 'on-site-assistant' }]));

  const enc = related.encounter;
  const con = related.consent;
  const incidentBase = enc === undefined ? undefined : { status: 'final', date, ...enc };
  const consentRefusals = con === undefined ? null : searcher.count('Consent', { status: 'rejected', date, ...con });
  const incidentsByType = incidentBase === undefined ? null : byKeys(INCIDENT_TYPES, (t) => searcher.count('Observation', { ...incidentBase, code: `${INCIDENT_TYPE_SYSTEM}|${t}` }));
  const encounterOf = (o: Observation) => o.encounter?.reference;
  const actsWithIncident =
    incidentBase === undefined ? null : distinctReferences(searcher, 'Observation', { ...incidentBase, code: `${INCIDENT_TYPE_SYSTEM}|`, _elements: 'encounter' }, encounterOf);
  const actsInterrupted =
    incidentBase === undefined
      ? null
      : distinctReferences(
          searcher,
          'Observation',
          { ...incidentBase, ...tokens('value-concept', ['interrupted', 'converted-in-person'].map((code) => ({ system: INCIDENT_EFFECT_SYSTEM, code }))), _elements: 'encounter' },
          encounterOf,
        );
  const reports = enc === undefined ? undefined : { type: `${REPORT_LOINC.system}|${REPORT_LOINC.code}`, status: 'current', period: date, ...enc };
  const finishedWithReport = reports === undefined ? null : searcher.count('DocumentReference', { ...reports, 'encounter:Encounter.status': 'finished' });
  // HAPI plans `author:missing` beside a chain on a list of structures very badly (minutes for four
  // structures, a second for one): one search per structure, summed (a report belongs to one act, an act
  // to one structure).
  const withoutAuthor = (extra: SearchParams) => searcher.count('DocumentReference', { ...reports, ...extra, 'author:missing': 'true' });
  const reportsWithoutAuthor =
    reports === undefined
      ? null
      : scope.orgRefs === undefined
        ? withoutAuthor({})
        : Promise.all(scope.orgRefs.map((ref) => withoutAuthor({ 'encounter:Encounter.service-provider': ref }))).then((counts) => counts.reduce((a, b) => a + b, 0));
  const offers = !withOffers ? null : group.orgRefs === undefined ? offerIndicators(searcher) : offersOf(shared, group.orgRefs);
  const monitored = distinctReferences<Encounter>(
    searcher,
    'Encounter',
    { ...acts, ...typeTokens(['telesurveillance']), date: dateWindow(sixMonthsBefore(window.to)), _elements: 'subject' },
    (e) => e.subject?.reference,
  );

  const byType = await actsByType;
  const incidents = incidentsByType === null ? null : await incidentsByType;
  const total = await actsTotal;
  const withReport = await finishedWithReport;
  const monthly = await actsByMonth;
  return {
    acts: total,
    actsByType: byType,
    ...(monthly === undefined ? {} : { actsByMonth: monthly }),
    professionals: await professionals,
    teleconsultations: byType.teleconsultation,
    teleconsultationsWithAssistant: await withAssistant,
    consentRefusals: await consentRefusals,
    incidents: incidents === null ? null : Object.values(incidents).reduce((a, b) => a + b, 0),
    incidentsByType: incidents,
    actsWithIncident: await actsWithIncident,
    actsInterruptedOrConverted: await actsInterrupted,
    finishedWithoutReport: withReport === null ? null : Math.max(0, total - withReport),
    reportsWithoutAuthor: await reportsWithoutAuthor,
    offers: await offers,
    patientsTelesurveillance6Months: await monitored,
  };
}

interface Structure {
  readonly reference: string;
  readonly finess: string;
  readonly name?: string;
}

/**
 * The structures (by FINESS) that can count in the period, filtered by department/FINESS: those the
 * period's acts name and those with active offers. Every other structure counts zero everywhere, so it
 * is left out of the groups and of the search lists (a shared server holds many more Organizations).
 */
async function structures(searcher: Searcher, shared: Shared, query: IndicatorQuery): Promise<Structure[]> {
  const [activity, offers] = await Promise.all([shared.activity, shared.offers ?? new Map<string, OfferTally>()]);
  const references = new Set([...activity.organizations, ...offers.keys()]);
  const wanted = query.finess === undefined ? undefined : new Set(query.finess);
  const out: Structure[] = [];
  await eachById<Organization>(searcher, 'Organization', idsOf(references, 'Organization'), 'identifier,name', (organization) => {
    const finess = organization.identifier?.find((i) => i.system === FINESS_SYSTEM)?.value;
    if (finess === undefined || organization.id === undefined) return;
    if (wanted !== undefined && !wanted.has(finess)) return;
    if (query.department !== undefined && departmentOfFiness(finess) !== query.department) return;
    if (query.region !== undefined && regionOf(departmentOfFiness(finess))?.code !== query.region) return;
    out.push({ reference: `Organization/${organization.id}`, finess, ...(organization.name === undefined ? {} : { name: organization.name }) });
  });
  return out.sort((a, b) => (a.finess < b.finess ? -1 : a.finess > b.finess ? 1 : 0));
}

function hasActivity(set: IndicatorSet): boolean {
  return set.acts > 0 || (set.offers?.total ?? 0) > 0 || (set.consentRefusals ?? 0) > 0;
}

/** Every indicator for the period, overall (with months) and by the groups asked for. */
export async function computeIndicators(store: FhirStore, query: IndicatorQuery, options: ComputeOptions = {}): Promise<IndicatorReport> {
  const started = performance.now();
  const searcher = new Searcher(store, options);
  const window = { from: query.from, to: query.to };
  const groupBy = query.groupBy ?? 'none';
  const filtered = query.department !== undefined || query.region !== undefined || query.finess !== undefined;
  const needStructures = filtered || groupBy === 'structure' || groupBy === 'department' || groupBy === 'region';
  const shared: Shared = { activity: activityOf(searcher, window), offers: needStructures ? offersByOrganization(searcher) : undefined };
  const known = needStructures ? await structures(searcher, shared, query) : [];
  const base: Scope = filtered ? { orgRefs: known.map((s) => s.reference) } : {};

  const overall = indicatorSet(searcher, shared, window, base, true);
  let candidates: { key: string; label: string; scope: Scope }[] = [];
  if (groupBy === 'structure') {
    candidates = known.map((s) => ({ key: s.finess, label: s.name ?? s.finess, scope: { orgRefs: [s.reference] } }));
  } else if (groupBy === 'department' || groupBy === 'region') {
    const keyOf = (finess: string) => (groupBy === 'department' ? departmentOfFiness(finess) : (regionOf(departmentOfFiness(finess))?.code ?? ''));
    const byKey = new Map<string, string[]>();
    for (const s of known) {
      const key = keyOf(s.finess);
      if (key !== '') byKey.set(key, [...(byKey.get(key) ?? []), s.reference]);
    }
    const labelOf = groupBy === 'department' ? departmentLabel : regionLabel;
    candidates = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, orgRefs]) => ({ key, label: labelOf(key), scope: { orgRefs } }));
  } else if (groupBy === 'specialty') {
    candidates = PROFESSIONS.map((p) => ({ key: p, label: PROFESSION_LABELS[p], scope: { ...base, profession: p } }));
  }
  const groups = await Promise.all(candidates.map(async (c) => ({ key: c.key, label: c.label, indicators: await indicatorSet(searcher, shared, window, c.scope, false) })));
  const result: IndicatorReport = {
    from: query.from,
    to: query.to,
    groupBy,
    ...(query.department === undefined ? {} : { department: query.department }),
    ...(query.finess === undefined ? {} : { finess: query.finess }),
    overall: await overall,
    groups: groups.filter((g) => hasActivity(g.indicators)),
    cost: { searches: 0, ms: 0 },
  };
  return { ...result, cost: { searches: searcher.searches, ms: Math.round(performance.now() - started) } };
}
