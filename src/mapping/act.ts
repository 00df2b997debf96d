// A telemedicine or telecare act (issue 6) as one FHIR transaction with the traceability CSP R6316-4
// asks for. Pure and deterministic: no clock (the caller passes `receivedAt`), urn:uuid fullUrls derived
// from business identifiers, so that the same act gives byte-identical bundles.
//
// Every write is conditional on a business identifier derived from (source, actId):
// - PUT `Type?identifier=…` for what the act owns and may change: Patient (on the IPP), PractitionerRole,
//   Encounter, Consent, DocumentReference, MedicationRequest/ServiceRequest, incident Observations;
// - POST with ifNoneExist for Practitioner (idNatPs) and Organization (FINESS): directory data (RPPS,
//   FINESS, the offers' ROR feed) that a DPI message must create when missing but never overwrite;
// - POST with ifNoneExist for the Provenance, keyed by the hash of the act content: a repost of the same
//   act is a no-op, a changed act adds one Provenance. R4 Provenance has no `identifier`: the key
//   `{ system: <source>, code: '<actId>/provenance/<hash>' }` is a meta.tag (searchable by `_tag` on
//   every server) and the same key is in entity.what.identifier as `<actId>#<hash>`.
//
// Where R6316-4's five items are found, from the Provenance: 1° the report = target DocumentReference;
// 2° the act and prescriptions = target Encounter, MedicationRequest, ServiceRequest; 3° the
// professionals = agent (type = their role in the act); 4° date and time = occurredPeriod; 5° incidents =
// the technicalIncident extensions and the target incident Observations.
import type { Bundle, Identifier, Consent, DocumentReference, MedicationRequest, Observation, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { Act, ActCancellation, ActIssue, ActReport } from '../model/act.ts';
import { checkAct, professionalsOf, type ActCheckOptions } from './act-check.ts';
import { directoryOf, roleRef } from './act-directory.ts';
import { agentsOf, kindOf, professionalAgent, provenanceSearchOf, provenanceWrite, sourceAgent } from './act-provenance.ts';
import { consentOf, encounterOf, identifierOf, incidentWrite, prescriptionWrite, reportWrites, storedActOf, storedIncidentCount } from './act-resources.ts';
import { toFrCorePatient } from './patient.ts';
import { contentHash, identifierQuery, stableUuid } from './keys.ts';
import { bundleOf, put, ref, rewritable } from './transaction.ts';
import type { Ref, Write } from './transaction.ts';

export interface ActMappingOptions extends ActCheckOptions {
  /** FHIR instant at which the service received the message: Provenance.recorded, nothing else. */
  readonly receivedAt: string;
  /**
   * What the store holds for this act (the answer to actReadSearch), when it exists: makes the
   * Provenance an UPDATE, supersedes a report replaced by another one, deletes incidents no longer sent.
   */
  readonly existing?: readonly Resource[];
  /**
   * What checkAct found when the caller has checked the act already (validateAct at acceptance): the
   * act is not checked a second time, and these are the warnings of the mapping.
   */
  readonly checked?: readonly ActIssue[];
}

export interface ActMapping {
  readonly bundle: Bundle;
  /** The checkAct warnings (report missing, INS not shared…), for the 2xx answer. */
  readonly warnings: readonly ActIssue[];
  /** First 16 hex digits of the SHA-256 of the canonical content written: the Provenance key. */
  readonly hash: string;
  /** `Provenance?` + this finds the Provenance of this write. */
  readonly provenanceSearch: string;
}

/** The act breaks a business rule; `issues` holds every one (checkAct). Answer 422. */
export class InvalidActError extends Error {
  readonly issues: readonly ActIssue[];
  constructor(issues: readonly ActIssue[]) {
    super(`invalid act: ${issues.map((i) => `${i.field}: ${i.code}`).join(', ')}`);
    this.name = 'InvalidActError';
    this.issues = issues;
  }
}

/** Nothing is stored for this act (toReportAmendment, toCancellation): answer 404. */
export class UnknownActError extends Error {
  constructor(message = "Aucun acte n'est enregistré sous cet identifiant.") {
    super(message);
    this.name = 'UnknownActError';
  }
}

/**
 * The act as one transaction: Organizations, Practitioners, PractitionerRoles, Patient, Encounter,
 * Consent, report (and the reports it supersedes), prescriptions, incident Observations, then the
 * Provenance that targets all of them. Throws InvalidActError when checkAct finds an error.
 */
export function toActBundle(act: Act, options: ActMappingOptions): ActMapping {
  const issues = options.checked ?? checkAct(act, options);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new InvalidActError(errors);
  const stored = storedActOf(options.existing);

  const directory = directoryOf(professionalsOf(act).map((p) => p.professional));
  const patientMapping = toFrCorePatient(act.patient, options);
  const ipp = act.patient.ipp;
  const patient = put(patientMapping.patient, { system: ipp.system, value: ipp.value });
  const patientRef = ref(patient);

  const encounterKey = { system: act.source, value: act.actId };
  // The Encounter's fullUrl is known before the Encounter is built: Consent and report point at it.
  const encounterFullUrl = stableUuid(`Encounter?${identifierQuery(encounterKey.system, encounterKey.value)}`);
  const encounterRef: Ref = { reference: encounterFullUrl, type: 'Encounter' };
  const encounter = put(encounterOf(act, { patient: patientRef, directory }), encounterKey);

  const writes: Write[] = [...directory.writes, patient, encounter];
  if (act.consent !== undefined) {
    writes.push(put(consentOf(act, act.consent, { patient: patientRef, encounter: encounterRef, directory }), identifierOf(act, 'consent')));
  }
  if (act.report !== undefined) {
    writes.push(...reportWrites(act, act.report, stored, { patient: patientRef, encounter: encounterRef, author: roleRef(directory, act.report.authorRpps) }));
  }
  (act.prescriptions ?? []).forEach((p, i) => writes.push(prescriptionWrite(act, p, i, { patient: patientRef, encounter: encounterRef, directory })));
  const incidents = act.incidents ?? [];
  incidents.forEach((incident, i) => writes.push(incidentWrite(act, incident, i, { patient: patientRef, encounter: encounterRef })));
  const deletes: string[] = [];
  for (let n = incidents.length + 1; n <= storedIncidentCount(stored); n += 1) {
    const key = identifierOf(act, `incident/${n}`);
    deletes.push(`Observation?${identifierQuery(key.system, key.value)}`);
  }

  const hash = contentHash(act);
  const provenance = provenanceWrite({
    act,
    hash,
    receivedAt: options.receivedAt,
    activity: stored.encounter === undefined ? 'CREATE' : 'UPDATE',
    targets: writes.map((w) => ref(w)),
    agents: agentsOf(act, directory),
  });
  return {
    bundle: bundleOf([...writes, provenance], deletes),
    warnings: issues,
    hash,
    provenanceSearch: provenanceSearchOf(act.source, act.actId, hash),
  };
}

function storedReference(resource: Resource | undefined): Ref | undefined {
  if (resource?.id === undefined) return undefined;
  return { reference: `${resource.resourceType}/${resource.id}`, type: resource.resourceType };
}

/**
 * A report sent later or amended (PUT /v1/acts/{source}/{actId}/report): the new DocumentReference
 * (relatesTo replaces the current one, which becomes superseded), the author's directory entries, and a
 * Provenance (UPDATE) keyed by the report's content, so that sending the same report again is a no-op.
 * `act` is the act as stored (actFromFhir), for the author's details; `existing` is the actReadSearch answer.
 */
export function toReportAmendment(act: Act, report: ActReport, existing: readonly Resource[], options: { readonly receivedAt: string }): ActMapping {
  const stored = storedActOf(existing);
  const encounterRef = storedReference(stored.encounter);
  const subject = stored.encounter?.subject?.reference;
  if (encounterRef === undefined || subject === undefined) throw new UnknownActError();
  const patientRef: Ref = { reference: subject, type: 'Patient' };
  const author = professionalsOf(act).find((p) => p.professional.rpps === report.authorRpps)?.professional;
  if (author === undefined) {
    throw new InvalidActError([
      {
        severity: 'error',
        code: 'ACT_PROFESSIONAL_UNKNOWN',
        field: 'authorRpps',
        message: `L'auteur du compte rendu (RPPS ${report.authorRpps}) n'est pas un professionnel de l'acte.`,
      },
    ]);
  }
  const directory = directoryOf([author]);
  const reports = reportWrites(act, report, stored, { patient: patientRef, encounter: encounterRef, author: roleRef(directory, author.rpps) });
  const hash = contentHash({ report });
  const writes = [...directory.writes, ...reports];
  const provenance = provenanceWrite({
    act: { ...act, incidents: [] },
    hash,
    receivedAt: options.receivedAt,
    activity: 'UPDATE',
    targets: [encounterRef, ...reports.map((w) => ref(w))],
    agents: [professionalAgent(kindOf(act, author.rpps), author, directory), sourceAgent(act.source)],
    reason: 'Compte rendu transmis ou modifié',
  });
  return { bundle: bundleOf([...writes, provenance]), warnings: [], hash, provenanceSearch: provenanceSearchOf(act.source, act.actId, hash) };
}

const CANCELLED_STATUS = {
  cancelled: { MedicationRequest: 'cancelled', ServiceRequest: 'revoked' },
  'entered-in-error': { MedicationRequest: 'entered-in-error', ServiceRequest: 'entered-in-error' },
} as const;

/**
 * A cancelled or erroneous act (DELETE /v1/acts/{source}/{actId} with a reason): nothing is deleted, the
 * record of the act must stay. The Encounter takes status cancelled or entered-in-error; for
 * entered-in-error its report, consent, prescriptions and incidents are marked entered-in-error too; for
 * cancelled the prescriptions are withdrawn (cancelled / revoked). A Provenance (CANCEL or NULLIFY) keeps
 * the reason. Sending the same cancellation again changes nothing.
 */
export function toCancellation(existing: readonly Resource[], cancellation: ActCancellation, receivedAt: string): ActMapping {
  const stored = storedActOf(existing);
  const encounter = stored.encounter;
  const key = encounter?.identifier?.find((i) => i.system !== undefined && i.value !== undefined);
  if (encounter === undefined || key?.system === undefined || key.value === undefined) throw new UnknownActError();
  const act = { source: key.system, actId: key.value };
  const status = cancellation.status ?? 'cancelled';
  const writes: Write[] = [put({ ...rewritable(encounter), status }, { system: act.source, value: act.actId })];
  const keyOf = (r: { identifier?: Identifier[] }) => r.identifier?.find((i) => i.system === act.source && i.value?.startsWith(`${act.actId}/`))?.value;
  for (const type of ['MedicationRequest', 'ServiceRequest'] as const) {
    for (const r of stored.byType(type) as (MedicationRequest | ServiceRequest)[]) {
      const value = keyOf(r);
      if (value !== undefined) writes.push(put({ ...rewritable(r), status: CANCELLED_STATUS[status][type] } as Resource, { system: act.source, value }));
    }
  }
  if (status === 'entered-in-error') {
    for (const type of ['DocumentReference', 'Consent', 'Observation'] as const) {
      for (const r of stored.byType(type) as (DocumentReference | Consent | Observation)[]) {
        const value = keyOf(r);
        if (value !== undefined) writes.push(put({ ...rewritable(r), status: 'entered-in-error' } as Resource, { system: act.source, value }));
      }
    }
  }
  const hash = contentHash({ cancellation: { reason: cancellation.reason, status } });
  const period = encounter.period ?? {};
  const provenance = provenanceWrite({
    act: { ...act, start: period.start ?? receivedAt, end: period.end, incidents: [] },
    hash,
    receivedAt,
    activity: status === 'cancelled' ? 'CANCEL' : 'NULLIFY',
    targets: writes.map((w) => ref(w)),
    agents: [sourceAgent(act.source)],
    reason: cancellation.reason,
  });
  return { bundle: bundleOf([...writes, provenance]), warnings: [], hash, provenanceSearch: provenanceSearchOf(act.source, act.actId, hash) };
}
