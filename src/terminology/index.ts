// The terminology room: loads mappings/ (national and our own CodeSystems and ValueSets, ConceptMaps)
// and answers lookups, value set membership and translations of local codes. No I/O past the loading.
export { UnknownCodeError } from './errors.ts';
export type { UnknownCodeInit } from './errors.ts';
export {
  createTerminology,
  loadTerminology,
  MAPPINGS_DIR,
  readTerminologyDir,
  stripVersion,
} from './terminology.ts';
export type { CodeStatus, Membership, Terminology, TerminologyResource, TranslateOptions } from './terminology.ts';
