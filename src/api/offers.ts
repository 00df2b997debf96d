// Telehealth offers: POST /v1/offers (create or update), GET one (our JSON or FHIR), search, DELETE
// (withdraw). Every write is one FHIR transaction of conditional writes, so a repeat changes nothing.
import type { Bundle, HealthcareService, Organization } from '@medplum/fhirtypes';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { DeliveryService } from '../delivery/index.ts';
import { asStored, paramsOfQuery, resourcesOf } from '../fhir/index.ts';
import type { CallContext, FhirStore, SearchParams } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import { FINESS_SYSTEM, fromFhir, identifierQuery, modalitySearch, offerReadSearch, OFFER_IDENTIFIER_SYSTEM, readPostedOffer, toOfferBundle, validateOffer } from '../mapping/index.ts';
import type { InputIssue } from '../mapping/index.ts';
import { OFFER_SCHEMA } from '../model/offer.ts';
import type { Offer, TelehealthModality } from '../model/offer.ts';
import { TELEHEALTH_MODALITIES } from '../model/offer.ts';
import { BusinessRuleBroken, InvalidInput } from '../problems.ts';
import { assertStructureAllowed } from '../security/index.ts';
import { offerKey, problemsOfOfferIssues, unknownOffer } from '../writes/index.ts';
import type { OfferMessage, WithdrawalMessage } from '../writes/index.ts';
import { acceptedAnswerSchema, submitWrite } from './deliveries.ts';
import { FHIR_JSON } from './errors.ts';
import { fhirWarnings, isFhirRequest, withFhirOutcome } from './fhir-input.ts';
import { queryValidatorCompiler } from './query.ts';

const TRE_R211 = 'https://mos.esante.gouv.fr/NOS/TRE_R211-ActiviteOperationnelle/FHIR/TRE-R211-ActiviteOperationnelle';

function wantsFhir(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes(FHIR_JSON);
}

const offerIdParam = {
  type: 'object',
  required: ['offerId'],
  properties: {
    offerId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$', description: "identifiantOffre de l'offre (un « / » s'écrit %2F dans l'URL)" },
  },
} as const;

const writeAnswerSchema = {
  type: 'object',
  properties: {
    identifiantOffre: { type: 'string' },
    created: { type: 'boolean', description: "Vrai quand l'offre n'existait pas" },
    references: { type: 'array', items: { type: 'string' }, description: 'Les ressources FHIR écrites (Type/id)' },
    warnings: {
      type: 'array',
      items: { type: 'object', properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

export interface OfferRoutesOptions {
  readonly store: FhirStore;
  /** The gate every resource passes before it is written. */
  readonly validator: Validator;
  /** Writes are stored in the outbox and delivered by its worker, in order per offer. */
  readonly deliveries: DeliveryService;
  /** How long a write waits for its delivery before answering 202. */
  readonly waitMs: number;
  readonly clock: () => Date;
  /** BODY_LIMIT_BYTES: an offer needs far less, so POST takes at most 1 MB. */
  readonly bodyLimit: number;
}

export const offerRoutes: FastifyPluginAsync<OfferRoutesOptions> = async (app, { store, validator, deliveries, waitMs, clock, bodyLimit }) => {
  const ctxOf = (request: FastifyRequest): CallContext => ({ requestId: String(request.id) });
  /** The warnings of an offer posted as FHIR, for its answer. */
  const postedWarnings = fhirWarnings();

  /** FINESS of the structure that provides the offer as stored, if it is. */
  async function storedFinessOf(offerId: string, ctx: CallContext): Promise<string | undefined> {
    const resources = resourcesOf(await store.search('HealthcareService', paramsOfQuery(offerReadSearch(offerId)), ctx));
    const service = resources.find((r): r is HealthcareService => r.resourceType === 'HealthcareService');
    const organizationId = service?.providedBy?.reference?.split('/')[1];
    const organization = resources.find((r): r is Organization => r.resourceType === 'Organization' && r.id === organizationId);
    return organization?.identifier?.find((identifier) => identifier.system === FINESS_SYSTEM)?.value;
  }

  /**
   * A client bound to some structures writes only their offers: the structure (and each site's FINESS)
   * it sends, and the structure of the offer as stored when it already exists (no taking over another's).
   */
  async function assertOfferAllowed(request: FastifyRequest, offerId: string, offer: Offer | undefined): Promise<void> {
    const principal = request.principal;
    if (principal?.finess === undefined) return;
    if (offer !== undefined) {
      assertStructureAllowed(principal, offer.structure.finess, 'structure.finess');
      offer.sites.forEach((site, index) => {
        if (site.finess !== undefined) assertStructureAllowed(principal, site.finess, `sites[${index}].finess`);
      });
    }
    const stored = await storedFinessOf(offerId, ctxOf(request));
    if (stored !== undefined) assertStructureAllowed(principal, stored, 'identifiantOffre');
  }

  app.post(
    '/v1/offers',
    {
      schema: {
        tags: ['offers'],
        summary: "Publie l'offre de télésanté d'une structure (création ou mise à jour, idempotente)",
        description:
          "Écrit, en une transaction FHIR de mises à jour conditionnelles, le HealthcareService aligné ROR, l'Organization (FINESS), " +
          'les Location et un Practitioner/PractitionerRole par professionnel. 201 la première fois, 200 ensuite ; renvoyer la même offre ne change rien. ' +
          'Toute erreur est nommée dans un seul OperationOutcome (400 forme, 422 règle métier) et rien n’est écrit.',
        body: OFFER_SCHEMA,
        response: { 200: withFhirOutcome(writeAnswerSchema), 201: withFhirOutcome(writeAnswerSchema), 202: withFhirOutcome(acceptedAnswerSchema) },
      },
      config: { access: 'offers:write' },
      // An offer posted as FHIR: its answer also says, as an OperationOutcome on the posted Bundle, what was not kept.
      preSerialization: postedWarnings.hook,
      bodyLimit: Math.min(bodyLimit, 1024 * 1024),
      // validateOffer checks the schema and the business rules together, so that one answer names
      // every wrong field; Fastify's own validation would stop at the schema.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      // FHIR in (a HealthcareService and what it references, ROR shape): read into the offer, then the
      // same checks; every problem names an element of the posted Bundle, and is a 422 (the FHIR was read).
      const posted = isFhirRequest(request) ? readPostedOffer(request.body) : undefined;
      const readErrors = posted?.issues.filter((i) => i.severity === 'error') ?? [];
      if (posted !== undefined && (posted.offer === undefined || readErrors.length > 0)) throw new BusinessRuleBroken(problemsOfOfferIssues(readErrors));
      const validation = validateOffer(posted?.offer ?? request.body);
      const located = (issues: readonly InputIssue[]): InputIssue[] => (posted === undefined ? [...issues] : issues.map((i) => ({ ...i, field: posted.pathOf(i.field) })));
      if (!validation.ok) {
        const problems = problemsOfOfferIssues(located(validation.issues));
        throw validation.status === 400 && posted === undefined ? new InvalidInput(problems) : new BusinessRuleBroken(problems);
      }
      if (posted !== undefined) postedWarnings.keep(request, [...posted.issues, ...located(validation.warnings)]);
      const offer = validation.offer;
      const now = clock();
      // Mapped and validated now too, as a first publication: bad input is refused at once, never
      // accepted with a 202 to die later.
      validator.assertValid(asStored(toOfferBundle(offer, { now: now.toISOString(), existingRoles: [] }), now));
      await assertOfferAllowed(request, offer.identifiantOffre, offer);
      const payload: OfferMessage = { offer, warnings: validation.warnings.map(({ code, field, message }) => ({ code, field, message })) };
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'offer', key: offerKey(offer.identifiantOffre), payload, receivedAt: now });
    },
  );

  async function readOffer(offerId: string, ctx: CallContext): Promise<Bundle> {
    const bundle = await store.search('HealthcareService', paramsOfQuery(offerReadSearch(offerId)), ctx);
    const hasService = (bundle.entry ?? []).some((entry) => entry.resource?.resourceType === 'HealthcareService');
    if (!hasService) {
      throw unknownOffer(offerId);
    }
    return bundle;
  }

  app.get<{ Params: { offerId: string } }>(
    '/v1/offers/:offerId',
    {
      schema: {
        tags: ['offers'],
        summary: "L'offre telle que publiée : notre JSON, ou les ressources FHIR avec Accept: application/fhir+json",
        params: offerIdParam,
      },
      config: { access: 'offers:read' },
    },
    async (request, reply) => {
      const bundle = await readOffer(request.params.offerId, ctxOf(request));
      if (wantsFhir(request)) return reply.type(FHIR_JSON).send(bundle);
      return reply.send(fromFhir(bundle));
    },
  );

  app.get<{ Querystring: { finess?: string; modality?: TelehealthModality; specialty?: string; postalCode?: string; active?: boolean; page?: number; pageSize?: number } }>(
    '/v1/offers',
    {
      schema: {
        tags: ['offers'],
        summary: 'Recherche des offres publiées (paginée)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            finess: { type: 'string', pattern: '^(?:[0-9]{9}|2[AB][0-9]{7})$', description: 'FINESS de la structure' },
            modality: { type: 'string', enum: [...TELEHEALTH_MODALITIES], description: 'Modalité de télésanté' },
            specialty: { type: 'string', pattern: '^[0-9A-Za-z]{1,10}$', description: 'Code TRE_R211 (activité opérationnelle)' },
            postalCode: { type: 'string', pattern: '^[0-9]{5}$', description: 'Code postal du lieu' },
            active: { type: 'boolean', default: true, description: 'Faux pour les offres retirées' },
            page: { type: 'integer', minimum: 1, maximum: 10_000, default: 1 },
            pageSize: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
          },
        },
      },
      config: { access: 'offers:read' },
      validatorCompiler: queryValidatorCompiler,
    },
    async (request) => {
      const { finess, modality, specialty, postalCode, active = true, page = 1, pageSize = 20 } = request.query;
      const ctx = ctxOf(request);
      const params: Record<string, string | string[]> = { active: String(active), _count: String(pageSize), _offset: String((page - 1) * pageSize), _sort: 'name' };
      // A modality is coded in several ways in the ROR (reception modality, care mode, specific act): any of them.
      if (modality !== undefined) Object.assign(params, paramsOfQuery(modalitySearch(modality)));
      if (specialty !== undefined) params.specialty = `${TRE_R211}|${specialty}`;
      // Chained searches are not available on every store: resolve the organisation and the places first.
      if (finess !== undefined) {
        const organizations = await store.search('Organization', paramsOfQuery(identifierQuery(FINESS_SYSTEM, finess)), ctx);
        const ids = resourcesOf(organizations).map((resource) => `Organization/${resource.id}`);
        if (ids.length === 0) return { total: 0, page, pageSize, offers: [] };
        params.organization = ids.join(',');
      }
      if (postalCode !== undefined) {
        const locations = await store.search('Location', { 'address-postalcode': postalCode, _count: '500' }, ctx);
        const ids = resourcesOf(locations).map((resource) => `Location/${resource.id}`);
        if (ids.length === 0) return { total: 0, page, pageSize, offers: [] };
        params.location = ids.join(',');
      }
      const found = await store.search<HealthcareService>('HealthcareService', params as SearchParams, ctx);
      const total = found.total ?? (await store.count('HealthcareService', { ...params, _count: undefined, _offset: undefined, _sort: undefined } as unknown as SearchParams, ctx));
      const offers = resourcesOf(found)
        .filter((resource): resource is HealthcareService => resource.resourceType === 'HealthcareService')
        .map((service) => ({
          identifiantOffre: service.identifier?.find((identifier) => identifier.system === OFFER_IDENTIFIER_SYSTEM)?.value,
          name: service.name,
          active: service.active,
          reference: `HealthcareService/${service.id}`,
        }));
      return { total, page, pageSize, offers };
    },
  );

  app.delete<{ Params: { offerId: string } }>(
    '/v1/offers/:offerId',
    {
      schema: {
        tags: ['offers'],
        summary: "Retire l'offre : le HealthcareService devient inactif, son historique est gardé",
        params: offerIdParam,
      },
      config: { access: 'offers:write' },
    },
    async (request, reply: FastifyReply) => {
      const { offerId } = request.params;
      await assertOfferAllowed(request, offerId, undefined);
      return submitWrite(request, reply, { deliveries, waitMs }, { kind: 'offer-withdraw', key: offerKey(offerId), payload: { offerId } satisfies WithdrawalMessage, receivedAt: clock() });
    },
  );
};
