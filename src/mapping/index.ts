// The mapping room: input → FHIR resources, pure functions, no I/O.
export { FR_CORE_IDENTITY_STATUS, toFrCorePatient } from './patient.ts';
export type { MethodCollection, PatientInput, PatientMapping, PatientTraits } from './patient.ts';

// Telehealth offers (issue 5): offer → ROR-aligned transaction Bundle, and back.
export {
  identifierSearch,
  InvalidOfferError,
  offerReadSearch,
  offerSearch,
  roleKey,
  siteKey,
  toOfferBundle,
  withdrawOffer,
} from './offer.ts';
export type { OfferMappingOptions } from './offer.ts';
export { fromFhir, UnreadableOfferError } from './offer-reverse.ts';
export type { OfferSource } from './offer-reverse.ts';
export { checkOffer, finessKeyValid, luhnValid, rppsKeyValid, siretKeyValid, validateOffer, withLuhnKey } from './offer-check.ts';
export type { OfferValidation } from './offer-check.ts';
export {
  MODALITY_CHARACTERISTICS,
  modalitySearch,
  normalizeOffer,
  OFFER_IDENTIFIER_SYSTEM,
  ROLE_IDENTIFIER_SYSTEM,
  ROR_EXTENSION,
  SITE_IDENTIFIER_SYSTEM,
  TELESANTE_HEALTHCARESERVICE,
} from './offer-coding.ts';
export type { CodeOptions, LocalCodeTranslator } from './offer-coding.ts';
export { CODE_SETS } from './codes/index.ts';
export type { CodeConcept, CodeSet, CodeSetName } from './codes/index.ts';

// Telemedicine acts (issue 6): act → traced transaction Bundle, report amendment, cancellation, and back.
export {
  actClassSearch,
  actReadSearch,
  actSearch,
  actTypeSearch,
  finessOrganizationSearch,
  insPatientSearch,
  InvalidActError,
  provenanceTag,
  toActBundle,
  toCancellation,
  toReportAmendment,
  UnknownActError,
} from './act.ts';
export type { ActMapping, ActMappingOptions } from './act.ts';
export { ACT_ISSUE_CODES, checkAct, validateAct } from './act-check.ts';
export type { ActCheckOptions, ActIssueCode, ActValidation } from './act-check.ts';
export { actFromFhir, actSummaryOf, UnreadableActError } from './act-reverse.ts';
export type { ActSummary } from './act-reverse.ts';
export { BILLING_ACTS, OFFER_EXTENSION as ACT_OFFER_EXTENSION, PROFESSION_CODE } from './act-coding.ts';
