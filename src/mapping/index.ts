// The mapping room: input → FHIR resources, pure functions, no I/O.
export { FR_CORE_IDENTITY_STATUS, toFrCorePatient } from './patient.ts';
export { FINESS_SYSTEM } from './fr-core.ts';
// The keys of conditional writes and content hashes, shared by every mapping (and the outbox's fingerprints).
export { canonicalJson, contentHash, identifierQuery, stableUuid, tokenQuery } from './keys.ts';
export { mergeTransactionBundles } from './transaction.ts';
export type { MergedTransaction } from './transaction.ts';
export type { MethodCollection, PatientInput, PatientMapping, PatientTraits } from './patient.ts';

// Telehealth offers (issue 5): offer → ROR-aligned transaction Bundle, and back.
export {
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
export { offersOfFhir, readPostedOffer } from './offer-fhir-input.ts';
export type { PostedOffer } from './offer-fhir-input.ts';
export type { InputIssue } from './fhir-input.ts';
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
export { InvalidActError, toActBundle, toCancellation, toReportAmendment, UnknownActError } from './act.ts';
export { actClassSearch, actProbeSearch, actReadSearch, actSearch, actTypeSearch, finessOrganizationSearch, insPatientSearch } from './act-search.ts';
export { provenanceTag } from './act-provenance.ts';
export type { ActMapping, ActMappingOptions } from './act.ts';
export { ACT_ISSUE_CODES, checkAct, validateAct, validateReport } from './act-check.ts';
export type { ActCheckOptions, ActIssueCode, ActValidation } from './act-check.ts';
export { actFromFhir, actSummaryOf, UnreadableActError } from './act-reverse.ts';
export { CARE_STRUCTURE_TAG_SYSTEM, careStructureSearch, careStructuresOf, careStructuresOfEncounter } from './act-structures.ts';
export type { ActSummary } from './act-reverse.ts';
export { readPostedAct } from './act-fhir-input.ts';
export type { PostedAct } from './act-fhir-input.ts';
export { BILLING_ACTS, OFFER_EXTENSION as ACT_OFFER_EXTENSION, PROFESSION_CODE } from './act-coding.ts';
