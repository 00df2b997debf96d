// The indicators of the telehealth roadmap (issue 10): what is measured, in French for the people who
// read it, with the canonical URL of the FHIR Measure that defines each one (profiles/measures/).
import { ACT_TYPES, INCIDENT_TYPES, PROFESSIONS } from '../model/act.ts';
import type { ActType, IncidentType, Profession } from '../model/act.ts';

export const MEASURE_BASE = 'https://telesante-fhir.fr/fhir/Measure';

export const INDICATOR_IDS = [
  'actes-realises',
  'professionnels-distincts',
  'teleconsultations-assistees',
  'refus-consentement',
  'incidents-techniques',
  'actes-avec-incident',
  'actes-interrompus-ou-convertis',
  'actes-sans-compte-rendu',
  'comptes-rendus-sans-auteur',
  'structures-offre-telesante',
  'taux-remplissage-telesante-ror',
] as const;
export type IndicatorId = (typeof INDICATOR_IDS)[number];

export const INDICATOR_LABELS: Readonly<Record<IndicatorId, string>> = {
  'actes-realises': 'Actes de télésanté réalisés',
  'professionnels-distincts': 'Professionnels distincts ayant réalisé un acte de télémédecine',
  'teleconsultations-assistees': 'Téléconsultations avec un professionnel auprès du patient',
  'refus-consentement': 'Refus de consentement',
  'incidents-techniques': 'Incidents techniques',
  'actes-avec-incident': 'Actes avec incident technique',
  'actes-interrompus-ou-convertis': 'Actes interrompus ou basculés en présentiel',
  'actes-sans-compte-rendu': 'Actes terminés sans compte rendu',
  'comptes-rendus-sans-auteur': 'Comptes rendus sans auteur',
  'structures-offre-telesante': 'Structures ayant une offre de télésanté',
  'taux-remplissage-telesante-ror': "Part des offres portant une modalité d'accueil de télésanté (ROR)",
};

export function measureUrl(id: IndicatorId): string {
  return `${MEASURE_BASE}/telesante-${id}`;
}

export const ACT_TYPE_LABELS: Readonly<Record<ActType, string>> = {
  teleconsultation: 'Téléconsultation',
  teleexpertise: 'Téléexpertise',
  telesurveillance: 'Télésurveillance',
  teleassistance: 'Téléassistance',
  regulation: 'Régulation médicale',
  telesoin: 'Télésoin',
};

export const INCIDENT_TYPE_LABELS: Readonly<Record<IncidentType, string>> = {
  'connection-loss': 'Perte de connexion',
  'audio-failure': 'Défaillance audio',
  'video-failure': 'Défaillance vidéo',
  'device-failure': 'Défaillance du matériel',
  'data-transmission-failure': 'Échec de transmission',
  other: 'Autre',
};

export const PROFESSION_LABELS: Readonly<Record<Profession, string>> = {
  medecin: 'Médecin',
  pharmacien: 'Pharmacien',
  'chirurgien-dentiste': 'Chirurgien-dentiste',
  'sage-femme': 'Sage-femme',
  infirmier: 'Infirmier',
  'masseur-kinesitherapeute': 'Masseur-kinésithérapeute',
  'pedicure-podologue': 'Pédicure-podologue',
  orthophoniste: 'Orthophoniste',
  orthoptiste: 'Orthoptiste',
  ergotherapeute: 'Ergothérapeute',
  psychomotricien: 'Psychomotricien',
  dieteticien: 'Diététicien',
};

export { ACT_TYPES, INCIDENT_TYPES, PROFESSIONS };
