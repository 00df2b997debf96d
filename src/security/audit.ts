// The audit record of a write, or of a read of personal health data (an act, a search of acts), as a FHIR
// R4 AuditEvent (type rest, subtype the REST interaction, action C/R/U/D/E, outcome 0/4/8, the client and
// the token's subject as agents, the service as source). It names what was written by reference
// (namedReferences) and business identifier, never by content: no INS, no name, no birth date ever
// reaches it. The ANS traceability guide (TDE) is not at hand: this follows FHIR R4
// AuditEvent and the IHE BALP habits it builds on (entity type 2 "System Object", source type 4).
import type { AuditEvent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import type { FastifyRequest } from 'fastify';
import type { Principal } from './credentials.ts';

const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const NETWORK_IP = '2';
export const CLIENT_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/client';
export const SUBJECT_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/token-subject';
export const REQUEST_ID_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/request-id';
export const DELIVERY_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/delivery';
const OFFER_IDENTIFIER_SYSTEM = 'https://telesante-fhir.fr/fhir/sid/offre';
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const SOURCE = /^(?:urn:oid:[0-2](?:\.(?:0|[1-9][0-9]*))+|urn:uuid:[0-9a-f-]{36}|https?:\/\/[^\s|]{1,240})$/;

const WRITE_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
const WRITE_SCOPES = new Set(['offers:write', 'acts:write', 'deliveries:admin']);
/**
 * What of this request the audit trail records: a write (POST/PUT/DELETE on a route whose access names a
 * write scope), a read of personal health data (GET on a route that says `auditReads: true`: an act, a
 * search of acts; not the indicators, which are counts), or nothing.
 */
export function auditedAccess(request: FastifyRequest): 'write' | 'read' | undefined {
  const access = request.routeOptions.config.access;
  if (access === undefined || access === 'public' || access === 'authenticated') return undefined;
  const scopes: readonly string[] = typeof access === 'string' ? [access] : access;
  if (WRITE_METHODS.has(request.method)) return scopes.some((scope) => WRITE_SCOPES.has(scope)) ? 'write' : undefined;
  if (request.method === 'GET') return request.routeOptions.config.auditReads === true ? 'read' : undefined;
  return undefined;
}

function interactionOf(method: string, route: string): { subtype: string; action: AuditEvent['action'] } {
  if (method === 'GET') return route.includes(':') ? { subtype: 'read', action: 'R' } : { subtype: 'search-type', action: 'E' };
  if (route.includes('$')) return { subtype: 'operation', action: 'E' };
  if (method === 'DELETE') return { subtype: 'delete', action: 'D' };
  if (method === 'PUT' || method === 'PATCH') return { subtype: 'update', action: 'U' };
  return { subtype: 'create', action: 'C' };
}

/** The outcome of a request; a refused delivery says why in a few words (`refusal`). */
function outcomeOf(status: number, refusal: string | undefined): { outcome: AuditEvent['outcome']; outcomeDesc?: string } {
  if (status < 400) return { outcome: '0' };
  const outcomeDesc = refusal === undefined ? `HTTP ${status}` : `HTTP ${status}: ${refusal}`;
  return { outcome: status < 500 ? '4' : '8', outcomeDesc };
}

const systemObject: Coding = { system: ENTITY_TYPE, code: '2', display: 'System Object' };

/**
 * The business object the write was about, from the path (acts) or, once the write was accepted, from the
 * validated body: only identifiers, checked against their patterns so that nothing else slips in.
 */
function businessEntityOf(request: FastifyRequest, status: number): AuditEventEntity | undefined {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const body = status < 300 && request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  const source = params.source ?? body.source;
  const actId = params.actId ?? body.actId;
  if (request.routeOptions.url?.startsWith('/v1/acts') && typeof source === 'string' && typeof actId === 'string' && SOURCE.test(source) && SAFE_ID.test(actId)) {
    return { type: systemObject, what: { type: 'Encounter', identifier: { system: source, value: actId } }, description: 'telemedicine act' };
  }
  const offerId = params.offerId ?? body.identifiantOffre;
  if (request.routeOptions.url?.startsWith('/v1/offers') && typeof offerId === 'string' && SAFE_ID.test(offerId)) {
    return { type: systemObject, what: { type: 'HealthcareService', identifier: { system: OFFER_IDENTIFIER_SYSTEM, value: offerId } }, description: 'telehealth offer' };
  }
  return undefined;
}

/**
 * What a record names by reference. A write that made a Provenance (an act, its report, its cancellation)
 * names that Provenance, whose targets are each resource the write made or changed, with the patient and
 * the act's Encounter, by which an audit trail is searched; not each resource again (an act wrote
 * thirteen: each one a reference HAPI indexes, which made an act's AuditEvent cost HAPI and PostgreSQL
 * ~2.7 ms, against ~1.8 ms named this way; measured with 50 AuditEvents per transaction on HAPI 8.8).
 * Other writes, and reads (what was disclosed), name everything.
 */
function namedReferences(references: readonly string[], write: boolean): readonly string[] {
  if (!write || !references.some((reference) => reference.startsWith('Provenance/'))) return references;
  return references.filter((reference) => /^(?:Patient|Encounter|Provenance)\//.test(reference));
}

export interface AuditInput {
  readonly request: FastifyRequest;
  readonly principal: Principal | null;
  readonly status: number;
  readonly recorded: Date;
  /** `Type/id` of the resources the write produced. */
  readonly references: readonly string[];
  readonly deliveryId?: string;
  /** Why the FHIR server refused the write at its delivery (a short text of its OperationOutcome). */
  readonly refusal?: string;
}

export function auditEventOf(input: AuditInput): AuditEvent {
  const { request, principal, status } = input;
  const route = request.routeOptions.url ?? '(unknown route)';
  const { subtype, action } = interactionOf(request.method, route);
  const agents: AuditEvent['agent'] = [
    {
      type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110153', display: 'Source Role ID' }] },
      who: { identifier: { system: CLIENT_SYSTEM, value: principal?.clientId ?? '(unauthenticated)' } },
      ...(principal?.method === undefined ? {} : { altId: principal.method }),
      requestor: true,
      network: { address: request.ip, type: NETWORK_IP },
    },
  ];
  if (principal?.subject !== undefined && principal.subject !== principal.clientId) {
    agents.push({ who: { identifier: { system: SUBJECT_SYSTEM, value: principal.subject.slice(0, 256) } }, requestor: true });
  }
  // A search says which criteria it used, never their values (an INS is one of them).
  const criteria = request.method === 'GET' && request.query !== null && typeof request.query === 'object' ? Object.keys(request.query).filter((name) => /^[A-Za-z_]{1,40}$/.test(name)).sort() : [];
  const details = [
    { type: 'request-id', valueString: String(request.id) },
    { type: 'http-method', valueString: request.method },
    { type: 'http-status', valueString: String(status) },
    ...(criteria.length === 0 ? [] : [{ type: 'search-criteria', valueString: criteria.join(',') }]),
    ...(input.deliveryId === undefined ? [] : [{ type: 'delivery-id', valueString: input.deliveryId }]),
  ];
  const entity: AuditEventEntity[] = [
    { type: systemObject, what: { identifier: { system: REQUEST_ID_SYSTEM, value: String(request.id) } }, description: `${request.method} ${route}`, detail: details },
  ];
  const business = businessEntityOf(request, status);
  if (business !== undefined) entity.push(business);
  for (const reference of namedReferences(input.references, WRITE_METHODS.has(request.method))) entity.push({ type: systemObject, what: { reference } });
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: RESTFUL_INTERACTION, code: subtype }],
    action,
    recorded: input.recorded.toISOString(),
    ...outcomeOf(status, input.refusal),
    agent: agents,
    source: { site: 'telesante-fhir', observer: { display: 'telesante-fhir' }, type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }] },
    entity,
  };
}
