// Telemedicine acts from DPI/DUI systems: POST /v1/acts records an act with its legal traceability in
// one FHIR transaction; GET reads it back; PUT …/report amends the report; DELETE cancels the act.
import type { Bundle, Encounter, Organization, Resource } from '@medplum/fhirtypes';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { DeliveryService } from '../delivery/index.ts';
import { paramsOfQuery, resourcesOf } from '../fhir/index.ts';
import type { CallContext, FhirStore, SearchParams } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import {
  actClassSearch,
  actFromFhir,
  actSummaryOf,
  actTypeSearch,
  careStructureSearch,
  careStructuresOfEncounter,
  FINESS_SYSTEM,
  finessOrganizationSearch,
  insPatientSearch,
  readPostedAct,
  validateAct,
  validateReport,
} from '../mapping/index.ts';
import { ACT_CANCELLATION_SCHEMA, ACT_REPORT_SCHEMA, ACT_SCHEMA, ACT_TYPES, DATE_PATTERN, DATE_TIME_PATTERN, FINESS_PATTERN } from '../model/act.ts';
import type { Act, ActCancellation, ActIssue, ActReport, ActType } from '../model/act.ts';
import { BusinessRuleBroken, InvalidInput, PayloadTooLarge } from '../problems.ts';
import type { Problem } from '../problems.ts';
import { assertActReadable, assertStructureAllowed, readableActs } from '../security/index.ts';
import { acceptAct, actKey, problemsOfActIssues, readStoredAct, unknownAct } from '../writes/index.ts';
import type { StoredActReads } from '../writes/index.ts';
import type { CancellationMessage, ReportMessage } from '../writes/index.ts';
import { acceptedAnswerSchema, submitWrite } from './deliveries.ts';
import { FHIR_JSON } from './errors.ts';
import { fhirWarnings, isFhirRequest, withFhirOutcome } from './fhir-input.ts';
import { queryValidatorCompiler } from './query.ts';

/**
 * One INS names one Patient per source system (each keyed on its IPP), one FINESS one Organization: the
 * lookups that turn them into references for the Encounter search read that many at most, not a server's
 * default page of 20.
 */
const MAX_MATCHED_REFERENCES = 200;

/** The problem a failed validation of an act or a report throws: malformed, an attachment over the cap, or a rule broken. */
function validationProblem(status: 400 | 413 | 422, problems: Problem[]): InvalidInput | PayloadTooLarge | BusinessRuleBroken {
  if (status === 400) return new InvalidInput(problems);
  if (status === 413) return new PayloadTooLarge(problems);
  return new BusinessRuleBroken(problems);
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
  /** Reads of stored acts made at acceptance, which the act writes may use (StoredActReads). */
  readonly reads: StoredActReads;
  /** How long a write waits for its delivery before answering 202. */
  readonly waitMs: number;
  readonly clock: () => Date;
  readonly allowTestIdentities: boolean;
}

export const actRoutes: FastifyPluginAsync<ActRoutesOptions> = async (app, { store, validator, deliveries, reads, waitMs, clock, allowTestIdentities }) => {
  const ctxOf = (request: FastifyRequest): CallContext => ({ requestId: String(request.id) });
  /** The warnings of an act posted as FHIR, for its answer. */
  const postedWarnings = fhirWarnings();

  const storedAct = (source: string, actId: string, ctx: CallContext) => readStoredAct(store, source, actId, ctx);

  /**
   * What the store holds of an act, read for a client bound to structures (undefined for others): the
   * worker writing the act's message may use this read instead of searching again (StoredActReads).
   */
  const boundRead = (request: FastifyRequest, source: string, actId: string): Promise<Resource[]> | undefined =>
    request.principal?.finess === undefined ? undefined : reads.readAtAcceptance({ source, actId }, ctxOf(request));

  /**
   * A client bound to some structures writes only their acts: the act's structure (the FINESS of its
   * first performer that names one: the Encounter's serviceProvider) must be one of them, and so must
   * the structure of the act as stored when it already exists (PUT report, DELETE, a repeated POST).
   */
  async function assertActAllowed(request: FastifyRequest, source: string, actId: string, act: Act | undefined, read = boundRead(request, source, actId)): Promise<void> {
    const principal = request.principal;
    if (principal?.finess === undefined || read === undefined) return;
    if (act !== undefined) {
      const index = act.performers.findIndex((performer) => performer.finess !== undefined);
      assertStructureAllowed(principal, act.performers[index]?.finess, index < 0 ? 'performers' : `performers[${index}].finess`);
    }
    const stored = await read;
    const encounter = stored.find((r): r is Encounter => r.resourceType === 'Encounter');
    if (encounter === undefined) return;
    const organizationId = encounter.serviceProvider?.reference?.split('/')[1];
    const organization = stored.find((r): r is Organization => r.resourceType === 'Organization' && r.id === organizationId);
    assertStructureAllowed(principal, organization?.identifier?.find((identifier) => identifier.system === FINESS_SYSTEM)?.value, 'actId');
  }

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
        response: { 201: withFhirOutcome(writeAnswerSchema), 202: withFhirOutcome(acceptedAnswerSchema) },
      },
      config: { access: 'acts:write' },
      // An act posted as FHIR: its answer also says, as an OperationOutcome on the posted Bundle, what was not kept.
      preSerialization: postedWarnings.hook,
      // validateAct checks the schema and the business rules together: one answer names every mistake.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const posted = isFhirRequest(request) ? readPostedAct(request.body) : undefined;
      const validation = validateAct(posted?.body ?? request.body, { allowTestIdentities });
      // FHIR in: the Bundle is the body, so every problem names an element of it; what an act lacks is a
      // rule the Bundle breaks (422), not a malformed request. A field the reader faulted is not faulted twice.
      const readErrors = posted?.issues.filter((i) => i.severity === 'error') ?? [];
      const faulted = new Set(readErrors.map((i) => i.field));
      const ruled = (issues: readonly ActIssue[]): ActIssue[] =>
        posted === undefined ? [...issues] : issues.map((i) => ({ ...i, field: posted.pathOf(i.field) })).filter((i) => i.severity === 'warning' || !faulted.has(i.field));
      if (posted?.readable === false) throw new BusinessRuleBroken(problemsOfActIssues(readErrors));
      if (!validation.ok) {
        const problems = problemsOfActIssues([...readErrors, ...ruled(validation.issues)]);
        // An attachment over the cap is a 413 whatever the format; JSON's malformed body a 400.
        throw validation.status === 413 || posted === undefined ? validationProblem(validation.status, problems) : new BusinessRuleBroken(problems);
      }
      if (readErrors.length > 0) throw new BusinessRuleBroken(problemsOfActIssues(readErrors));
      if (posted !== undefined) postedWarnings.keep(request, [...posted.issues, ...ruled(validation.warnings)]);
      const act = validation.act;
      const now = clock();
      // A client bound to structures may write only their acts: what the store holds of this one is read
      // now (while the act is mapped and validated below), and the worker may use that read too.
      const read = boundRead(request, act.source, act.actId);
      // Checked once (above), mapped and validated once (here): bad input is refused at once (422),
      // never accepted with a 202 to die later, and the worker writes the Bundle built now.
      const message = acceptAct(validator, act, validation.warnings, now, allowTestIdentities);
      await assertActAllowed(request, act.source, act.actId, act, read);
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'act', key: actKey(act.source, act.actId), payload: message, receivedAt: now, source: act.source });
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
      const encounter = resources.find((resource): resource is Encounter => resource.resourceType === 'Encounter');
      if (encounter === undefined) throw unknownAct(source, actId);
      assertActReadable(request.principal, careStructuresOfEncounter(encounter));
      // The audit trail names what was disclosed, whichever the format: the act and its patient.
      request.auditReferences = [`Encounter/${encounter.id ?? ''}`, ...(encounter.subject?.reference === undefined ? [] : [encounter.subject.reference])];
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
        throw new InvalidInput({
          code: 'value',
          expression: 'query.to',
          message: `La fin de la période (to=${to}) précède son début (from=${from}) : inversez-les.`,
          diagnostics: 'from after to',
        });
      }
      const ctx = ctxOf(request);
      const empty = { total: 0, page, pageSize, acts: [] };
      // Read access follows care: the search itself keeps only the acts the client's structures take
      // part in, so that the total and the pages count nothing else.
      const readable = readableActs(request.principal);
      if (readable !== 'all' && readable.length === 0) return empty;
      const params: Record<string, string | string[]> = {
        ...paramsOfQuery(actClassSearch()),
        ...(readable === 'all' ? {} : paramsOfQuery(careStructureSearch(readable))),
        _count: String(pageSize),
        _offset: String((page - 1) * pageSize),
        _sort: '-date',
      };
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
      // validateReport answers as for an act: every mistake at once, 413 for an attachment over the cap.
      validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : queryValidatorCompiler(route)),
    },
    async (request, reply) => {
      const { source, actId } = request.params;
      const validation = validateReport(request.body);
      if (!validation.ok) throw validationProblem(validation.status, problemsOfActIssues(validation.issues));
      await assertActAllowed(request, source, actId, undefined);
      const payload: ReportMessage = { source, actId, report: validation.report };
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'act-report', key: actKey(source, actId), payload, receivedAt: clock(), source });
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
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'act-cancel', key: actKey(source, actId), payload, receivedAt: clock(), source });
    },
  );
};
