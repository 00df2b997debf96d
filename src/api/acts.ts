// Telemedicine acts from DPI/DUI systems: POST /v1/acts records an act with its legal traceability in
// one FHIR transaction; GET reads it back; PUT …/report amends the report; DELETE cancels the act.
import type { Bundle, Encounter, Organization, Resource } from '@medplum/fhirtypes';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { DeliveryService } from '../delivery/index.ts';
import { asStored } from '../fhir/index.ts';
import type { CallContext, FhirStore, SearchParams } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import {
  actClassSearch,
  actFromFhir,
  actReadSearch,
  actSummaryOf,
  actTypeSearch,
  finessOrganizationSearch,
  insPatientSearch,
  InvalidActError,
  toActBundle,
  toCancellation,
  toReportAmendment,
  UnknownActError,
  validateAct,
} from '../mapping/index.ts';
import type { ActMapping } from '../mapping/index.ts';
import { ACT_CANCELLATION_SCHEMA, ACT_REPORT_SCHEMA, ACT_SCHEMA, ACT_TYPES, DATE_PATTERN, DATE_TIME_PATTERN, FINESS_PATTERN } from '../model/act.ts';
import type { Act, ActCancellation, ActIssue, ActReport, ActType } from '../model/act.ts';
import { paramsOfQuery, referencesOf, resourcesOf } from './bundles.ts';
import { acceptedAnswerSchema, submitWrite } from './deliveries.ts';
import { ApiProblem, FHIR_JSON } from './errors.ts';
import type { Problem } from './errors.ts';
import { queryValidatorCompiler } from './query.ts';
import { assertStructureAllowed } from '../security/index.ts';

const FINESS_SYSTEM = 'https://finess.esante.gouv.fr';

/**
 * One INS names one Patient per source system (each keyed on its IPP), one FINESS one Organization: the
 * lookups that turn them into references for the Encounter search read that many at most, not a server's
 * default page of 20.
 */
const MAX_MATCHED_REFERENCES = 200;

function problemsOfActIssues(issues: readonly ActIssue[]): Problem[] {
  return issues.map((issue) => ({
    severity: issue.severity,
    code: issue.severity === 'error' ? 'business-rule' : 'informational',
    expression: issue.field,
    message: issue.message,
    diagnostics: issue.code,
  }));
}




interface ActListQuery {
  readonly patientIns?: string;
  readonly from?: string;
  readonly to?: string;
  readonly type?: ActType;
  readonly finess?: string;
  readonly page?: number;
  readonly pageSize?: number;
}

const unanchored = (pattern: string): string => pattern.replace(/^\^/, '').replace(/\$$/, '');
/** A date (the whole day) or a dateTime with its time zone, as FHIR date searches take them. */
const DATE_OR_DATE_TIME_PATTERN = `^(?:${unanchored(DATE_PATTERN)}|${unanchored(DATE_TIME_PATTERN)})$`;

const actListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    patientIns: { type: 'string', pattern: '^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}$', description: 'INS du patient (NIR ou NIA, 15 caractères)' },
    from: { type: 'string', pattern: DATE_OR_DATE_TIME_PATTERN, description: "Début de la période : date (AAAA-MM-JJ) ou date et heure avec fuseau ; l'acte se termine à partir de cet instant" },
    to: { type: 'string', pattern: DATE_OR_DATE_TIME_PATTERN, description: "Fin de la période : date (journée entière) ou date et heure avec fuseau ; l'acte commence au plus tard à cet instant" },
    type: { type: 'string', enum: [...ACT_TYPES], description: "Type d'acte ; chacun est cherché par ses codes nationaux (TRE_R210, TRE_R213 27)" },
    finess: { type: 'string', pattern: FINESS_PATTERN, description: "FINESS de la structure qui a réalisé l'acte" },
    page: { type: 'integer', minimum: 1, maximum: 10_000, default: 1 },
    pageSize: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
  },
} as const;

const actListAnswerSchema = {
  type: 'object',
  properties: {
    total: { type: 'integer', description: 'Nombre total d’actes trouvés' },
    page: { type: 'integer' },
    pageSize: { type: 'integer' },
    acts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          source: { type: 'string' },
          actId: { type: 'string' },
          type: { type: 'string', enum: [...ACT_TYPES] },
          status: { type: 'string' },
          start: { type: 'string' },
          reference: { type: 'string', description: "L'Encounter FHIR de l'acte (Encounter/id)" },
        },
      },
    },
  },
} as const;

/** The earliest instant a `from` may mean (a date starts at midnight somewhere on Earth: UTC+14). */
function earliest(value: string): number {
  return Date.parse(value.length === 10 ? `${value}T00:00:00+14:00` : value);
}

/** The latest instant a `to` may mean (a date ends at midnight UTC−12). */
function latest(value: string): number {
  return Date.parse(value.length === 10 ? `${value}T23:59:59-12:00` : value);
}

const actKeyParams = {
  type: 'object',
  required: ['source', 'actId'],
  properties: {
    source: { type: 'string', minLength: 1, maxLength: 256, description: 'URI du système source, encodé dans le chemin (urn%3Aoid%3A…)' },
    actId: { type: 'string', minLength: 1, maxLength: 128, description: "Identifiant de l'acte dans le système source" },
  },
} as const;

const writeAnswerSchema = {
  type: 'object',
  properties: {
    source: { type: 'string' },
    actId: { type: 'string' },
    references: { type: 'array', items: { type: 'string' }, description: 'Les ressources FHIR écrites (Type/id)' },
    warnings: {
      type: 'array',
      items: { type: 'object', properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

export interface ActRoutesOptions {
  readonly store: FhirStore;
  readonly validator: Validator;
  /** Writes are stored in the outbox and delivered by its worker, in order per act. */
  readonly deliveries: DeliveryService;
  /** How long a write waits for its delivery before answering 202. */
  readonly waitMs: number;
  readonly clock: () => Date;
  readonly allowTestIdentities: boolean;
}

interface ReportMessage {
  readonly source: string;
  readonly actId: string;
  readonly report: ActReport;
}

interface CancellationMessage {
  readonly source: string;
  readonly actId: string;
  readonly cancellation: ActCancellation;
}

const actKey = (source: string, actId: string): string => `act|${source}|${actId}`;

export const actRoutes: FastifyPluginAsync<ActRoutesOptions> = async (app, { store, validator, deliveries, waitMs, clock, allowTestIdentities }) => {
  const ctxOf = (request: FastifyRequest): CallContext => ({ requestId: String(request.id) });

  async function storedAct(source: string, actId: string, ctx: CallContext): Promise<Resource[]> {
    const found = await store.search('Encounter', paramsOfQuery(actReadSearch(source, actId)), ctx);
    return resourcesOf(found);
  }

  /**
   * A client bound to some structures writes only their acts: the act's structure (the FINESS of its
   * first performer that names one: the Encounter's serviceProvider) must be one of them, and so must
   * the structure of the act as stored when it already exists (PUT report, DELETE, a repeated POST).
   */
  async function assertActAllowed(request: FastifyRequest, source: string, actId: string, act: Act | undefined): Promise<void> {
    const principal = request.principal;
    if (principal?.finess === undefined) return;
    if (act !== undefined) {
      const index = act.performers.findIndex((performer) => performer.finess !== undefined);
      assertStructureAllowed(principal, act.performers[index]?.finess, index < 0 ? 'performers' : `performers[${index}].finess`);
    }
    const stored = await storedAct(source, actId, ctxOf(request));
    const encounter = stored.find((r): r is Encounter => r.resourceType === 'Encounter');
    if (encounter === undefined) return;
    const organizationId = encounter.serviceProvider?.reference?.split('/')[1];
    const organization = stored.find((r): r is Organization => r.resourceType === 'Organization' && r.id === organizationId);
    assertStructureAllowed(principal, organization?.identifier?.find((identifier) => identifier.system === FINESS_SYSTEM)?.value, 'actId');
  }

  /** Maps and validates what the store will hold; throws the 422/404 the client must get. */
  function mapChecked(mapping: () => ActMapping, now: Date): ActMapping {
    let result: ActMapping;
    try {
      result = mapping();
    } catch (error) {
      if (error instanceof InvalidActError) throw new ApiProblem(422, problemsOfActIssues(error.issues));
      if (error instanceof UnknownActError) throw new ApiProblem(404, { code: 'not-found', expression: 'actId', message: error.message, diagnostics: 'unknown act' });
      throw error;
    }
    validator.assertValid(asStored(result.bundle, now));
    return result;
  }

  /** Maps, validates what the store will hold, and writes in one transaction. */
  async function write(mapping: () => ActMapping, ctx: CallContext, now: Date): Promise<{ references: string[]; warnings: readonly ActIssue[] }> {
    const result = mapChecked(mapping, now);
    const response = await store.transaction(result.bundle, ctx);
    return { references: referencesOf(response), warnings: result.warnings };
  }

  // Delivery, by the outbox's worker, in order per act: read what is stored, map, validate, write. The
  // mapping's "now" is when the message was accepted, so that a redelivery writes the same thing.
  deliveries.handle('act', async (delivery, ctx) => {
    const act = delivery.payload as Act;
    const existing = await storedAct(act.source, act.actId, ctx);
    const written = await write(
      () => toActBundle(act, { receivedAt: delivery.receivedAt, allowTestIdentities, ...(existing.length > 0 ? { existing } : {}) }),
      ctx,
      new Date(delivery.receivedAt),
    );
    return { status: 201, body: { source: act.source, actId: act.actId, references: written.references, warnings: written.warnings.map(({ code, field, message }) => ({ code, field, message })) } };
  });

  deliveries.handle('act-report', async (delivery, ctx) => {
    const { source, actId, report } = delivery.payload as ReportMessage;
    const existing = await storedAct(source, actId, ctx);
    if (existing.length === 0) throw new ApiProblem(404, { code: 'not-found', expression: 'actId', message: `Aucun acte ${actId} n'est enregistré pour le système ${source}.`, diagnostics: 'unknown act' });
    const act = actFromFhir(existing);
    const written = await write(() => toReportAmendment(act, report, existing, { receivedAt: delivery.receivedAt }), ctx, new Date(delivery.receivedAt));
    return { status: 200, body: { source, actId, references: written.references, warnings: written.warnings.map(({ code, field, message }) => ({ code, field, message })) } };
  });

  deliveries.handle('act-cancel', async (delivery, ctx) => {
    const { source, actId, cancellation } = delivery.payload as CancellationMessage;
    const existing = await storedAct(source, actId, ctx);
    const written = await write(() => toCancellation(existing, cancellation, delivery.receivedAt), ctx, new Date(delivery.receivedAt));
    return { status: 200, body: { source, actId, references: written.references, warnings: [] } };
  });

  app.post(
    '/v1/acts',
    {
      schema: {
        tags: ['acts'],
        summary: 'Enregistre un acte de télémédecine ou de télésoin avec sa traçabilité (CSP R6316-4)',
        description:
          "Écrit en une transaction FHIR : Patient (règles INS), professionnels, Encounter (classe VR), compte rendu (DocumentReference), " +
          'consentement, prescriptions, incidents techniques et une Provenance. (source, actId) est la clé d’idempotence : renvoyer le même acte ne change rien.',
        body: ACT_SCHEMA,
        response: { 201: writeAnswerSchema, 202: acceptedAnswerSchema },
      },
      config: { access: 'acts:write' },
      // validateAct checks the schema and the business rules together: one answer names every mistake.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const validation = validateAct(request.body, { allowTestIdentities });
      if (!validation.ok) throw new ApiProblem(validation.status, problemsOfActIssues(validation.issues));
      const act = validation.act;
      const now = clock();
      // The mapping and the validation gate run now too, on the act alone, so that bad input is
      // refused at once (422), never accepted with a 202 to die later.
      mapChecked(() => toActBundle(act, { receivedAt: now.toISOString(), allowTestIdentities }), now);
      await assertActAllowed(request, act.source, act.actId, act);
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'act', key: actKey(act.source, act.actId), payload: act, receivedAt: now });
    },
  );

  app.get<{ Params: { source: string; actId: string } }>(
    '/v1/acts/:source/:actId',
    {
      schema: {
        tags: ['acts'],
        summary: "L'acte tel qu'enregistré : notre JSON, ou avec Accept: application/fhir+json un Bundle de tout ce qui le concerne",
        params: actKeyParams,
      },
      config: { access: 'acts:read', auditReads: true },
    },
    async (request, reply) => {
      const { source, actId } = request.params;
      const resources = await storedAct(source, actId, ctxOf(request));
      if (!resources.some((resource) => resource.resourceType === 'Encounter')) {
        throw new ApiProblem(404, { code: 'not-found', expression: 'actId', message: `Aucun acte ${actId} n'est enregistré pour le système ${source}.`, diagnostics: 'unknown act' });
      }
      if ((request.headers.accept ?? '').includes(FHIR_JSON)) {
        const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) };
        return reply.type(FHIR_JSON).send(bundle);
      }
      return reply.send(actFromFhir(resources));
    },
  );

  app.get<{ Querystring: ActListQuery }>(
    '/v1/acts',
    {
      schema: {
        tags: ['acts'],
        summary: 'Recherche des actes enregistrés (paginée, les plus récents en premier)',
        description:
          "Critères cumulables : patient (INS, NIR ou NIA), période (les actes dont la durée chevauche [from, to], bornes comprises), type d'acte, " +
          "FINESS de la structure qui a réalisé l'acte. Sans critère : tous les actes.",
        querystring: actListQuerySchema,
        response: { 200: actListAnswerSchema },
      },
      config: { access: 'acts:read', auditReads: true },
      validatorCompiler: queryValidatorCompiler,
    },
    async (request) => {
      const { patientIns, from, to, type, finess, page = 1, pageSize = 20 } = request.query;
      if (from !== undefined && to !== undefined && earliest(from) > latest(to)) {
        throw new ApiProblem(400, {
          code: 'value',
          expression: 'query.to',
          message: `La fin de la période (to=${to}) précède son début (from=${from}) : inversez-les.`,
          diagnostics: 'from after to',
        });
      }
      const ctx = ctxOf(request);
      const empty = { total: 0, page, pageSize, acts: [] };
      const params: Record<string, string | string[]> = { ...paramsOfQuery(actClassSearch()), _count: String(pageSize), _offset: String((page - 1) * pageSize), _sort: '-date' };
      const dates = [...(from === undefined ? [] : [`ge${from}`]), ...(to === undefined ? [] : [`le${to}`])];
      if (dates.length > 0) params.date = dates;
      if (type !== undefined) Object.assign(params, paramsOfQuery(actTypeSearch(type)));
      // Chained searches (subject.identifier, service-provider.identifier) are not available on every
      // store: resolve the patient and the organisation first, then search the Encounters by reference.
      if (patientIns !== undefined) {
        const patients = resourcesOf(await store.search('Patient', { ...paramsOfQuery(insPatientSearch(patientIns)), _count: [String(MAX_MATCHED_REFERENCES)] }, ctx));
        if (patients.length === 0) return empty;
        params.subject = patients.map((patient) => `Patient/${patient.id}`).join(',');
      }
      if (finess !== undefined) {
        const organizations = resourcesOf(await store.search('Organization', { ...paramsOfQuery(finessOrganizationSearch(finess)), _count: [String(MAX_MATCHED_REFERENCES)] }, ctx));
        if (organizations.length === 0) return empty;
        params['service-provider'] = organizations.map((organization) => `Organization/${organization.id}`).join(',');
      }
      const found = await store.search<Encounter>('Encounter', params as SearchParams, ctx);
      const total = found.total ?? (await store.count('Encounter', { ...params, _count: undefined, _offset: undefined, _sort: undefined } as unknown as SearchParams, ctx));
      const acts = resourcesOf(found)
        .filter((resource): resource is Encounter => resource.resourceType === 'Encounter')
        .flatMap((encounter) => {
          const summary = actSummaryOf(encounter);
          return summary === undefined ? [] : [summary];
        });
      return { total, page, pageSize, acts };
    },
  );

  app.put<{ Params: { source: string; actId: string }; Body: ActReport }>(
    '/v1/acts/:source/:actId/report',
    {
      schema: {
        tags: ['acts'],
        summary: "Envoie un compte rendu tardif ou amendé : il remplace l'ancien (relatesTo replaces, l'ancien devient superseded)",
        params: actKeyParams,
        body: ACT_REPORT_SCHEMA,
        response: { 200: writeAnswerSchema, 202: acceptedAnswerSchema },
      },
      config: { access: 'acts:write' },
    },
    async (request, reply) => {
      const { source, actId } = request.params;
      await assertActAllowed(request, source, actId, undefined);
      const payload: ReportMessage = { source, actId, report: request.body };
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'act-report', key: actKey(source, actId), payload, receivedAt: clock() });
    },
  );

  app.delete<{ Params: { source: string; actId: string }; Body: ActCancellation }>(
    '/v1/acts/:source/:actId',
    {
      schema: {
        tags: ['acts'],
        summary: "Annule un acte (cancelled) ou le déclare erroné (entered-in-error), avec sa raison et une Provenance ; rien n'est effacé",
        params: actKeyParams,
        body: ACT_CANCELLATION_SCHEMA,
        response: { 200: writeAnswerSchema, 202: acceptedAnswerSchema },
      },
      config: { access: 'acts:write' },
      bodyLimit: 64 * 1024,
    },
    async (request, reply) => {
      const { source, actId } = request.params;
      await assertActAllowed(request, source, actId, undefined);
      const payload: CancellationMessage = { source, actId, cancellation: request.body };
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'act-cancel', key: actKey(source, actId), payload, receivedAt: clock() });
    },
  );
};
