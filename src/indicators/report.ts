// What an indicator query asks and what its report answers, and the periods it is cut into: the same
// shapes whether the FHIR searches compute it (compute.ts) or the projection reads it (projection-*.ts).
import type { ActType, IncidentType, Profession } from '../model/act.ts';

export const GROUP_BY = ['none', 'structure', 'department', 'region', 'specialty'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface IndicatorQuery {
  /** First day of the period, YYYY-MM-DD (included). */
  readonly from: string;
  /** Day after the period, YYYY-MM-DD (excluded). */
  readonly to: string;
  readonly groupBy?: GroupBy;
  /** Only the structures of this department (2 characters, 3 overseas: 75, 2A, 974). */
  readonly department?: string;
  /** Only the structures of this region (INSEE code: 11, 94, 04…). */
  readonly region?: string;
  /** Only these structures (FINESS numbers). */
  readonly finess?: readonly string[];
  /** Only acts of this type (the projection only: the reference answers without it). */
  readonly actType?: ActType;
  /** Only acts with a participant of this profession (the projection only). */
  readonly profession?: Profession;
}

export interface MonthCounts {
  /** YYYY-MM */
  readonly month: string;
  readonly total: number;
  readonly byType: Readonly<Record<ActType, number>>;
}

export interface OfferIndicators {
  /** Active offers (HealthcareService active=true). */
  readonly total: number;
  /** Active offers carrying a telehealth reception modality (TRE_R338 04, 10, 11, 12, 14). */
  readonly withTelehealthReception: number;
  /** withTelehealthReception / total, undefined without offers: the ROR's telehealth fill rate. */
  readonly fillRate: number | null;
  /** Distinct structures (providedBy) with an active telehealth offer, coded in any of the three places. */
  readonly structuresWithTelehealthOffer: number;
}

/** `null`: not computable for this group with the searches both stores support (see groupScope). */
export interface IndicatorSet {
  readonly acts: number;
  readonly actsByType: Readonly<Record<ActType, number>>;
  readonly actsByMonth?: readonly MonthCounts[];
  readonly professionals: number;
  readonly teleconsultations: number;
  readonly teleconsultationsWithAssistant: number;
  readonly consentRefusals: number | null;
  readonly incidents: number | null;
  readonly incidentsByType: Readonly<Record<IncidentType, number>> | null;
  readonly actsWithIncident: number | null;
  readonly actsInterruptedOrConverted: number | null;
  readonly finishedWithoutReport: number | null;
  readonly reportsWithoutAuthor: number | null;
  readonly offers: OfferIndicators | null;
  /** Distinct patients with a finished télésurveillance act in the 6 months before the period's end (roadmap). */
  readonly patientsTelesurveillance6Months: number;
}

export interface IndicatorGroup {
  /** FINESS, department code or profession keyword. */
  readonly key: string;
  readonly label: string;
  readonly indicators: IndicatorSet;
}

export interface IndicatorReport {
  readonly from: string;
  readonly to: string;
  readonly groupBy: GroupBy;
  readonly department?: string;
  readonly finess?: readonly string[];
  readonly overall: IndicatorSet;
  readonly groups: readonly IndicatorGroup[];
  /** How many searches the computation sent, and how long it took. */
  readonly cost: { readonly searches: number; readonly ms: number };
}

/** A period: from (included) to (excluded), YYYY-MM-DD. */
export interface Window {
  readonly from: string;
  readonly to: string;
}

/** The calendar months that meet [from, to), each cut to the window. */
export function monthsOf(window: Window): { month: string; window: Window }[] {
  const out: { month: string; window: Window }[] = [];
  let year = Number(window.from.slice(0, 4));
  let month = Number(window.from.slice(5, 7));
  for (;;) {
    const start = `${year}-${String(month).padStart(2, '0')}-01`;
    if (start >= window.to) return out;
    const nextYear = month === 12 ? year + 1 : year;
    const nextMonth = month === 12 ? 1 : month + 1;
    const end = `${nextYear}-${String(nextMonth).padStart(2, '0')}-01`;
    out.push({ month: start.slice(0, 7), window: { from: start < window.from ? window.from : start, to: end > window.to ? window.to : end } });
    year = nextYear;
    month = nextMonth;
  }
}

/** The 6 months before the period's end: the window of the télésurveillance file active list. */
export function sixMonthsBefore(to: string): Window {
  const date = new Date(`${to}T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() - 6);
  return { from: date.toISOString().slice(0, 10), to };
}
