// The Provenance of an act's write (CSP R6316-4): who took part (agents), what was written (targets),
// when (occurredPeriod), incidents, and the message's fingerprint. Keyed by a tag on the content hash,
// so that a repost of the same content adds nothing.
import type { Provenance, ProvenanceAgent } from '@medplum/fhirtypes';
import type { Act, ActProfessional } from '../model/act.ts';
import { PARTICIPANT_CODING, PROVENANCE_PARTICIPANT_TYPE, TELESANTE_PROVENANCE, URI_SYSTEM, V3_DATA_OPERATION, type ParticipantKind } from './act-coding.ts';
import { displayName, roleRef } from './act-directory.ts';
import type { Directory } from './act-directory.ts';
import { incidentExtension } from './act-resources.ts';
import { identifierQuery } from './keys.ts';
import { createOnce, ref } from './transaction.ts';
import type { Ref, Write } from './transaction.ts';

export function professionalAgent(kind: ParticipantKind, p: ActProfessional, directory: Directory): ProvenanceAgent {
  const out: ProvenanceAgent = { type: { coding: [PARTICIPANT_CODING[kind]] }, who: { ...roleRef(directory, p.rpps), display: displayName(p) } };
  const organization = p.finess === undefined ? undefined : directory.organizations.get(p.finess);
  if (organization !== undefined) out.onBehalfOf = ref(organization);
  return out;
}

/** The role a professional holds in the act: performer role first, then requester, then assistant. */
export function kindOf(act: Act, rpps: string): ParticipantKind {
  const performer = act.performers.find((p) => p.rpps === rpps);
  if (performer !== undefined) return performer.role;
  return act.requester?.rpps === rpps ? 'requester' : 'on-site-assistant';
}

export function agentsOf(act: Act, directory: Directory): ProvenanceAgent[] {
  const agents = act.performers.map((p) => professionalAgent(p.role, p, directory));
  if (act.requester !== undefined) agents.push(professionalAgent('requester', act.requester, directory));
  if (act.onSiteAssistant !== undefined) agents.push(professionalAgent('on-site-assistant', act.onSiteAssistant, directory));
  agents.push(sourceAgent(act.source));
  return agents;
}

/** The source system (DPI/DUI) that assembled the message: a logical Device named by its URI. */
export function sourceAgent(source: string): ProvenanceAgent {
  return {
    type: { coding: [{ system: PROVENANCE_PARTICIPANT_TYPE, code: 'assembler', display: 'Assembler' }] },
    who: { type: 'Device', identifier: { system: URI_SYSTEM, value: source }, display: 'Système source (DPI/DUI)' },
  };
}

/** The tag that keys a Provenance for its conditional create (R4 Provenance has no identifier). */
export function provenanceTag(source: string, actId: string, hash: string): { system: string; code: string } {
  return { system: source, code: `${actId}/provenance/${hash}` };
}

export function provenanceSearchOf(source: string, actId: string, hash: string): string {
  const tag = provenanceTag(source, actId, hash);
  return identifierQuery(tag.system, tag.code).replace(/^identifier=/, '_tag=');
}

interface ProvenanceInput {
  readonly act: Pick<Act, 'source' | 'actId' | 'start' | 'end' | 'incidents'>;
  readonly hash: string;
  readonly receivedAt: string;
  readonly activity: 'CREATE' | 'UPDATE' | 'CANCEL' | 'NULLIFY';
  readonly targets: readonly Ref[];
  readonly agents: readonly ProvenanceAgent[];
  readonly reason?: string;
}

const ACTIVITY_DISPLAY = { CREATE: 'create', UPDATE: 'revise', CANCEL: 'cancel', NULLIFY: 'nullify' } as const;

export function provenanceWrite(input: ProvenanceInput): Write {
  const { act, hash } = input;
  const tag = provenanceTag(act.source, act.actId, hash);
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: { profile: [TELESANTE_PROVENANCE], tag: [{ system: tag.system, code: tag.code }] },
    target: [...input.targets],
    occurredPeriod: act.end === undefined ? { start: act.start } : { start: act.start, end: act.end },
    recorded: input.receivedAt,
    activity: { coding: [{ system: V3_DATA_OPERATION, code: input.activity, display: ACTIVITY_DISPLAY[input.activity] }] },
    agent: [...input.agents],
    // The message itself is not stored (it carries personal data): its fingerprint names it.
    entity: [{ role: 'source', what: { identifier: { system: act.source, value: `${act.actId}#${hash}` }, display: 'message DPI' } }],
  };
  const incidents = (act.incidents ?? []).map(incidentExtension);
  if (incidents.length > 0) provenance.extension = incidents;
  if (input.reason !== undefined) provenance.reason = [{ text: input.reason }];
  return createOnce(provenance, provenanceSearchOf(act.source, act.actId, hash));
}
