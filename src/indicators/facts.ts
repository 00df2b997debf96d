// The facts of the indicators projection: one row per act, with the dimensions every indicator groups or
// filters by, and the act's professionals and incidents beside it. A fact is a function of what the act
// is now, never an increment: applying the same message twice, or rebuilding an act from the FHIR store,
// gives the same row. Two sources make facts, and must agree (test/unit/indicators/facts.test.ts):
// - the messages the outbox delivers (an act, a report, a cancellation), applied in the transaction that
//   records the delivery as done (projection.ts);
// - the acts as the FHIR store holds them (the rebuild, for acts written before the projection existed
//   or by other systems).
// What the store would answer to the reference's searches is what a fact says: "finished" and the
// period for activity, the consent refused and its date, the current report and whether it has an
// author, the incidents that are final (entered-in-error removes them, as it removes consent and report).
import { createHash } from 'node:crypto';
import type { Consent, DocumentReference, Encounter, HealthcareService, Resource } from '@medplum/fhirtypes';
import { actFromFhir } from '../mapping/act-reverse.ts';
import { TELEMEDICINE_ACT_TYPES } from '../model/act.ts';
import type { Act, ActCancellation, ActStatus, ActType, IncidentEffect, IncidentType, Profession } from '../model/act.ts';
import { ANY_TELEHEALTH_SET, RECEPTION_SET } from './compute.ts';
import { departmentOfFiness, regionOf } from './geo.ts';

export type ReportState = 'none' | 'author' | 'no-author';

export interface ProfessionalFact {
  readonly rpps: string;
  readonly profession: Profession;
  /** Performed the act (primary, secondary, consultant), not only asked for it or assisted on site. */
  readonly performer: boolean;
}

export interface IncidentFact {
  readonly type: IncidentType;
  /** UTC instant, ISO 8601. */
  readonly at: string;
  readonly effect: IncidentEffect;
}

export interface ActFact {
  /** `source|actId`: the act's identity, whoever wrote it. */
  readonly key: string;
  readonly finess: string | null;
  /** The structure's name as the act gives it (groups by structure show it). */
  readonly structureName: string | null;
  readonly department: string | null;
  readonly region: string | null;
  readonly type: ActType;
  readonly status: ActStatus;
  /** UTC instants, ISO 8601 with milliseconds: text order is time order. */
  readonly start: string;
  readonly end: string | null;
  readonly withAssistant: boolean;
  /** A digest of the patient's IPP (the key the Patient is written on): counts distinct patients, names nobody. */
  readonly patient: string;
  /** When the consent was refused, if it was (and is not entered-in-error). */
  readonly consentRefusedAt: string | null;
  readonly report: ReportState;
  readonly professionals: readonly ProfessionalFact[];
  readonly incidents: readonly IncidentFact[];
}

export function factKey(source: string, actId: string): string {
  return `${source}|${actId}`;
}

/** A FHIR dateTime as a UTC instant (text order = time order); dates alone are midnight UTC. */
export function utc(dateTime: string): string {
  return new Date(dateTime.length === 10 ? `${dateTime}T00:00:00Z` : dateTime).toISOString();
}

export function patientDigest(system: string, value: string): string {
  return createHash('sha256').update(`${system}|${value}`).digest('base64url').slice(0, 22);
}

/** Professionals of an act, each once: a performer role wins over requester and on-site assistant. */
function professionalsOf(act: Act): ProfessionalFact[] {
  const out = new Map<string, ProfessionalFact>();
  for (const p of act.performers) if (!out.has(p.rpps)) out.set(p.rpps, { rpps: p.rpps, profession: p.profession, performer: true });
  for (const p of [act.requester, act.onSiteAssistant]) if (p !== undefined && !out.has(p.rpps)) out.set(p.rpps, { rpps: p.rpps, profession: p.profession, performer: false });
  return [...out.values()];
}

/**
 * The fact of an act as sent (an `act` message). A resent act without a report keeps the report stored
 * before (the mapping supersedes a report only with another one): `previous` is the fact it replaces.
 */
export function factOfAct(act: Act, previous?: ActFact): ActFact {
  const provider = act.performers.find((p) => p.finess !== undefined);
  const finess = provider?.finess ?? null;
  const department = finess === null ? null : departmentOfFiness(finess);
  return {
    key: factKey(act.source, act.actId),
    finess,
    structureName: provider?.structureName ?? null,
    department,
    region: department === null ? null : (regionOf(department)?.code ?? null),
    type: act.type,
    status: act.status,
    start: utc(act.start),
    end: act.end === undefined ? null : utc(act.end),
    withAssistant: act.onSiteAssistant !== undefined,
    patient: patientDigest(act.patient.ipp.system, act.patient.ipp.value),
    consentRefusedAt: act.consent?.decision === 'refused' ? utc(act.consent.dateTime) : null,
    report: act.report !== undefined ? 'author' : (previous?.report ?? 'none'),
    professionals: professionalsOf(act),
    incidents: (act.incidents ?? []).map((i) => ({ type: i.type, at: utc(i.time), effect: i.effect })),
  };
}

/** A report sent or amended (`act-report`): the act now has a current report, with its author. */
export function factAfterReport(fact: ActFact): ActFact {
  return { ...fact, report: 'author' };
}

/**
 * A cancellation (`act-cancel`): the act's status changes; entered-in-error also withdraws its consent,
 * report and incidents (toCancellation marks them entered-in-error), a cancellation keeps them.
 */
export function factAfterCancel(fact: ActFact, cancellation: ActCancellation): ActFact {
  const status = cancellation.status ?? 'cancelled';
  if (status === 'cancelled') return { ...fact, status };
  return { ...fact, status, consentRefusedAt: null, report: 'none', incidents: [] };
}

/** True for the telemedicine acts (télésoin is not one): distinct professionals count their performers. */
export function isTelemedicine(type: ActType): boolean {
  return TELEMEDICINE_ACT_TYPES.has(type);
}

/**
 * The fact of an act as the FHIR store holds it: the answer of actReadSearch (the Encounter with what
 * points at it). Undefined when it is not an act this service can read back (another system's Encounter
 * without our coding): the rebuild counts those as skipped.
 */
export function factOfStored(resources: readonly Resource[]): ActFact | undefined {
  const encounter = resources.find((r): r is Encounter => r.resourceType === 'Encounter');
  if (encounter?.id === undefined) return undefined;
  let act: Act;
  try {
    act = actFromFhir(resources);
  } catch {
    return undefined;
  }
  const self = `Encounter/${encounter.id}`;
  // The report as stored: a current one, with or without an author (another system may send none).
  const current = resources.filter(
    (r): r is DocumentReference => r.resourceType === 'DocumentReference' && r.status === 'current' && (r.context?.encounter ?? []).some((e) => e.reference === self),
  );
  const report: ReportState = current.length === 0 ? 'none' : current.some((d) => (d.author ?? []).length > 0) ? 'author' : 'no-author';
  const refused = resources.find(
    (r): r is Consent => r.resourceType === 'Consent' && r.status === 'rejected' && (r.provision?.data ?? []).some((d) => d.reference.reference === self),
  );
  const incidents = resources.flatMap((r): IncidentFact[] => {
    if (r.resourceType !== 'Observation' || r.status !== 'final' || r.encounter?.reference !== self || r.effectiveDateTime === undefined) return [];
    const type = r.code.coding?.[0]?.code as IncidentFact['type'] | undefined;
    const effect = r.valueCodeableConcept?.coding?.[0]?.code as IncidentFact['effect'] | undefined;
    return type === undefined || effect === undefined ? [] : [{ type, at: utc(r.effectiveDateTime), effect }];
  });
  const base = factOfAct({ ...act, report: undefined, consent: undefined, incidents: [] });
  return {
    ...base,
    report,
    consentRefusedAt: refused?.dateTime === undefined ? null : utc(refused.dateTime),
    incidents: incidents.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
  };
}

/** An offer as the fill rate and the structures with a telehealth offer count it. */
export interface OfferFact {
  /** The offer's identifier (identifiantOffre). */
  readonly id: string;
  readonly finess: string | null;
  /** The structure's name (groups by structure show it, for structures with offers and no act too). */
  readonly structureName: string | null;
  readonly department: string | null;
  readonly region: string | null;
  readonly active: boolean;
  /** Carries a telehealth reception modality (TRE_R338 04, 10, 11, 12, 14). */
  readonly reception: boolean;
  /** Telehealth in any of the three places the ROR codes it (reception modality, care mode, specific act). */
  readonly telehealth: boolean;
}

/** The fact of a HealthcareService as written (mapped from an offer) or as stored; `finess` of its providedBy. */
export function offerFactOfService(id: string, service: HealthcareService, finess: string | null, structureName: string | null): OfferFact {
  const tokens = (service.characteristic ?? []).flatMap((c) => (c.coding ?? []).map((x) => `${x.system ?? ''}|${x.code ?? ''}`));
  const department = finess === null ? null : departmentOfFiness(finess);
  return {
    id,
    finess,
    structureName,
    department,
    region: department === null ? null : (regionOf(department)?.code ?? null),
    active: service.active ?? true,
    reception: tokens.some((t) => RECEPTION_SET.has(t)),
    telehealth: tokens.some((t) => ANY_TELEHEALTH_SET.has(t)),
  };
}
