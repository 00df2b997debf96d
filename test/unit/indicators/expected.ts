// The indicator values of test/support/indicator-fixture.ts, computed by hand from its comments (acts
// 1–10, offers O1–O4). Shared by the unit test (embedded store) and the integration test (HAPI).
import type { IndicatorSet } from '../../../src/indicators/index.ts';

const types = (t: Partial<Record<string, number>>) => ({ teleconsultation: 0, teleexpertise: 0, telesurveillance: 0, teleassistance: 0, regulation: 0, telesoin: 0, ...t });
const incidents = (t: Partial<Record<string, number>>) => ({ 'connection-loss': 0, 'audio-failure': 0, 'video-failure': 0, 'device-failure': 0, 'data-transmission-failure': 0, other: 0, ...t });

/** Both structures, January and February. */
export const OVERALL: IndicatorSet = {
  // Finished in the period: 1, 2, 4, 5, 6, 7, 8 (3 cancelled, 9 the year before, 10 planned).
  acts: 7,
  actsByType: types({ teleconsultation: 4, teleexpertise: 1, telesurveillance: 1, telesoin: 1 }),
  actsByMonth: [
    { month: '', total: 3, byType: types({ teleconsultation: 3 }) }, // 1, 2, 6
    { month: '', total: 4, byType: types({ teleconsultation: 1, teleexpertise: 1, telesurveillance: 1, telesoin: 1 }) }, // 4, 5, 7, 8
  ],
  // Performers of telemedicine acts: dA1 (1, 4, and 7 for B: a second role), dA2 (2), dB1 (6, 8); 5 is télésoin.
  professionals: 3,
  teleconsultations: 4,
  teleconsultationsWithAssistant: 2, // 1, 6
  consentRefusals: 1, // 3
  incidents: 4, // 2, 5, 6 (two)
  incidentsByType: incidents({ 'connection-loss': 2, 'audio-failure': 1, 'video-failure': 1 }),
  actsWithIncident: 3, // 2, 5, 6
  actsInterruptedOrConverted: 2, // 5 interrupted, 6 converted
  finishedWithoutReport: 1, // 2
  reportsWithoutAuthor: 1, // 8
  // O1, O2, O3 active (O4 withdrawn); only O1 has a telehealth reception modality; A (O1) and B (O3) have a telehealth offer.
  offers: { total: 3, withTelehealthReception: 1, fillRate: 1 / 3, structuresWithTelehealthOffer: 2 },
  // Télésurveillance from September to February: act 7 (every act of the data set has the same patient).
  patientsTelesurveillance6Months: 1,
};

/** Structure A, department 75: acts 1, 2, 4, 5. */
export const DEPARTMENT_75: IndicatorSet = {
  acts: 4,
  actsByType: types({ teleconsultation: 2, teleexpertise: 1, telesoin: 1 }),
  professionals: 2, // dA1, dA2
  teleconsultations: 2,
  teleconsultationsWithAssistant: 1,
  consentRefusals: 1,
  incidents: 2,
  incidentsByType: incidents({ 'connection-loss': 1, 'audio-failure': 1 }),
  actsWithIncident: 2,
  actsInterruptedOrConverted: 1,
  finishedWithoutReport: 1,
  reportsWithoutAuthor: 0,
  offers: { total: 2, withTelehealthReception: 1, fillRate: 0.5, structuresWithTelehealthOffer: 1 },
  patientsTelesurveillance6Months: 0,
};

/** Structure B, department 93: acts 6, 7, 8. */
export const DEPARTMENT_93: IndicatorSet = {
  acts: 3,
  actsByType: types({ teleconsultation: 2, telesurveillance: 1 }),
  professionals: 2, // dB1, dA1 (for B)
  teleconsultations: 2,
  teleconsultationsWithAssistant: 1,
  consentRefusals: 0,
  incidents: 2,
  incidentsByType: incidents({ 'connection-loss': 1, 'video-failure': 1 }),
  actsWithIncident: 1,
  actsInterruptedOrConverted: 1,
  finishedWithoutReport: 0,
  reportsWithoutAuthor: 1,
  offers: { total: 1, withTelehealthReception: 0, fillRate: 0, structuresWithTelehealthOffer: 1 },
  patientsTelesurveillance6Months: 1, // act 7
};

/** By profession of the participants: only the counts on the Encounter itself (the rest is null). */
export const BY_PROFESSION = {
  medecin: { acts: 6, professionals: 3, teleconsultationsWithAssistant: 2 }, // every act but 5
  infirmier: { acts: 2, professionals: 0, teleconsultationsWithAssistant: 2 }, // 1, 6 (on site, not performers)
  orthophoniste: { acts: 1, professionals: 0, teleconsultationsWithAssistant: 0 }, // 5 (télésoin)
} as const;

export function withMonths(set: IndicatorSet, year: number): IndicatorSet {
  const months = set.actsByMonth?.map((m, i) => ({ ...m, month: `${year}-0${i + 1}` }));
  return months === undefined ? set : { ...set, actsByMonth: months };
}
