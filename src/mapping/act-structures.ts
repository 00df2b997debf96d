// The structures that take part in an act: the FINESS of every performer that names one (the first is the
// Encounter's serviceProvider) and of the requester. Read access follows care: a client bound to some
// structures reads only the acts one of them takes part in. The Encounter carries them as meta.tags, so
// that a search can keep only those acts on every store (`_tag` is indexed by HAPI and by the embedded
// store alike; a chained search through participants is not), and totals and pages count only them.
import type { Coding, Encounter } from '@medplum/fhirtypes';
import type { Act } from '../model/act.ts';
import { tokenQuery } from './keys.ts';

export const CARE_STRUCTURE_TAG_SYSTEM = 'https://telesante-fhir.fr/fhir/CodeSystem/structure-participante';

/** The FINESS of the structures that take part in the act, each once, in the order the act names them. */
export function careStructuresOf(act: Pick<Act, 'performers' | 'requester'>): string[] {
  const finess = [...act.performers.map((performer) => performer.finess), act.requester?.finess];
  return [...new Set(finess.filter((value): value is string => value !== undefined))];
}

/** The meta.tags of an act's Encounter that name its structures. */
export function careStructureTags(act: Pick<Act, 'performers' | 'requester'>): Coding[] {
  return careStructuresOf(act).map((finess) => ({ system: CARE_STRUCTURE_TAG_SYSTEM, code: finess }));
}

/** The structures a stored Encounter says take part in its act (none for an act stored before the tags). */
export function careStructuresOfEncounter(encounter: Encounter): string[] {
  return (encounter.meta?.tag ?? []).flatMap((tag) => (tag.system === CARE_STRUCTURE_TAG_SYSTEM && tag.code !== undefined ? [tag.code] : []));
}

/** `Encounter?` + this keeps only the acts one of these structures takes part in (at least one FINESS). */
export function careStructureSearch(finess: readonly string[]): string {
  if (finess.length === 0) throw new RangeError('careStructureSearch needs at least one FINESS');
  return tokenQuery('_tag', finess.map((code) => ({ system: CARE_STRUCTURE_TAG_SYSTEM, code })));
}
