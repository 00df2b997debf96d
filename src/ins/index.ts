// The INS room: NIR/NIA checks, their coherence with identity traits and the RNIV rules on sharing the
// INS. Pure functions, no I/O; this file is the only entry other rooms import.
export { checkIns } from './check.ts';
export type { InsCheckInput, InsCheckOptions, InsCheckResult } from './check.ts';
export { INS_ISSUE_CODES } from './findings.ts';
export type { Finding, FindingField, InsIssueCode, Severity } from './findings.ts';
export { IDENTITY_STATUSES, INS_EXCLUSION_CODES, insExchangeDecision, isIdentityStatus } from './identity.ts';
export type { ExchangeTraits, IdentityStatus, InsExchangeDecision, InsExchangeInput, InsExclusionCode } from './identity.ts';
export { nirKey } from './nir.ts';
export { INS_OIDS, insKindOfOid } from './oid.ts';
export type { InsKind, InsOid } from './oid.ts';
export type { InsTraits, Sex } from './traits.ts';
