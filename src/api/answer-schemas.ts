// Schemas of answers, in one place: the OperationOutcome every error (and some answers) carries, and the
// success answers of the routes that shape their own (content negotiation between our JSON, FHIR and
// CSV, so no serialization schema): for the API document, where openapi.ts adds them.
// test/unit/api/openapi.test.ts checks the answers against these schemas.
import { GROUP_BY } from '../indicators/index.ts';
import { ACT_SCHEMA } from '../model/act.ts';
import { OFFER_SCHEMA } from '../model/offer.ts';

type Json = Record<string, unknown>;

/**
 * An OperationOutcome. Open at each level (additionalProperties): serialization schemas embed it, and
 * fast-json-stringify would drop what the schema does not name (an issue's location, a coding).
 */
export const OPERATION_OUTCOME_SCHEMA = {
  type: 'object',
  description: 'Un OperationOutcome FHIR : un issue par problème, expression = le chemin, details.text = quoi faire (français), diagnostics = la cause technique',
  additionalProperties: true,
  properties: {
    resourceType: { type: 'string', enum: ['OperationOutcome'] },
    issue: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          severity: { type: 'string', enum: ['fatal', 'error', 'warning', 'information'] },
          code: { type: 'string' },
          details: { type: 'object', additionalProperties: true, properties: { text: { type: 'string' } } },
          diagnostics: { type: 'string' },
          expression: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

const OUTCOME_REF = { $ref: '#/components/schemas/OperationOutcome' };

/** A route's input contract as the answer that reads it back (its $id belongs to the request body). */
function answerOf(schema: Json, description: string): Json {
  return { ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$id')), description };
}

const FHIR_RESOURCE = {
  type: 'object',
  description: 'Une ressource FHIR R4',
  required: ['resourceType'],
  properties: { resourceType: { type: 'string' }, id: { type: 'string' }, meta: { type: 'object', properties: { versionId: { type: 'string' }, lastUpdated: { type: 'string' }, profile: { type: 'array', items: { type: 'string' } } } } },
  additionalProperties: true,
};

const fhirBundle = (description: string): Json => ({
  type: 'object',
  description,
  required: ['resourceType', 'type'],
  properties: {
    resourceType: { type: 'string', enum: ['Bundle'] },
    type: { type: 'string' },
    total: { type: 'integer' },
    entry: { type: 'array', items: { type: 'object', properties: { fullUrl: { type: 'string' }, resource: FHIR_RESOURCE } } },
  },
});

const WARNINGS = { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } } };

/** What a delivered message earned: the answer of its write route (references of what was written…). */
const DELIVERY_ANSWER = {
  type: 'object',
  properties: {
    status: { type: 'integer' },
    body: {
      type: 'object',
      description: "La réponse de la route d'écriture (un acte, une offre, un retrait, un import)",
      properties: {
        source: { type: 'string' },
        actId: { type: 'string' },
        identifiantOffre: { type: 'string' },
        created: { type: 'boolean' },
        active: { type: 'boolean' },
        references: { type: 'array', items: { type: 'string' }, description: 'Les ressources FHIR écrites (Type/id)' },
        warnings: WARNINGS,
        auditEvent: { type: 'string' },
      },
      additionalProperties: true,
    },
  },
};

const DELIVERY_VIEW = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    key: { type: 'string' },
    source: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
    attempts: { type: 'integer' },
    receivedAt: { type: 'string' },
    lastAttemptAt: { type: 'string' },
    nextAttemptAt: { type: 'string' },
    deliveredAt: { type: 'string' },
    lastError: {
      type: 'object',
      description: "Pourquoi la dernière tentative a échoué : le statut et l'OperationOutcome que le service répond, et celui du serveur FHIR (serverOutcome : ses 20 premiers issues)",
      properties: { status: { type: 'integer' }, message: { type: 'string' }, outcome: OUTCOME_REF, serverOutcome: OUTCOME_REF },
    },
    answer: DELIVERY_ANSWER,
  },
};

const count = { type: 'integer', minimum: 0 };
const countOrNull = { type: 'integer', minimum: 0, nullable: true, description: 'null : non calculable pour ce groupe' };
const countsByKey = (description: string, nullable = false): Json => ({ type: 'object', description, additionalProperties: count, ...(nullable ? { nullable: true } : {}) });

const INDICATOR_SET = {
  type: 'object',
  properties: {
    acts: count,
    actsByType: countsByKey("Actes par type (teleconsultation, teleexpertise, telesurveillance, telesoin, teleassistance)"),
    actsByMonth: { type: 'array', items: { type: 'object', properties: { month: { type: 'string', description: 'AAAA-MM' }, total: count, byType: countsByKey('Par type') } } },
    professionals: count,
    teleconsultations: count,
    teleconsultationsWithAssistant: count,
    consentRefusals: countOrNull,
    incidents: countOrNull,
    incidentsByType: countsByKey('Incidents techniques par type', true),
    actsWithIncident: countOrNull,
    actsInterruptedOrConverted: countOrNull,
    finishedWithoutReport: countOrNull,
    reportsWithoutAuthor: countOrNull,
    offers: {
      type: 'object',
      nullable: true,
      properties: {
        total: count,
        withTelehealthReception: count,
        fillRate: { type: 'number', nullable: true, description: 'Taux de remplissage de la modalité d’accueil télésanté du ROR (0 à 1)' },
        structuresWithTelehealthOffer: count,
      },
    },
    patientsTelesurveillance6Months: count,
  },
};

const INDICATOR_REPORT = {
  type: 'object',
  description: 'Les indicateurs de la période, par groupe, avec ceux de la période précédente de même durée',
  properties: {
    from: { type: 'string', description: 'Premier jour (inclus)' },
    to: { type: 'string', description: 'Lendemain du dernier jour (exclu)' },
    groupBy: { type: 'string', enum: [...GROUP_BY] },
    department: { type: 'string' },
    finess: { type: 'array', items: { type: 'string' } },
    overall: INDICATOR_SET,
    groups: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, label: { type: 'string' }, indicators: INDICATOR_SET } } },
    cost: { type: 'object', properties: { searches: count, ms: { type: 'number' } } },
    previous: {
      type: 'object',
      properties: { from: { type: 'string' }, to: { type: 'string' }, overall: INDICATOR_SET, groups: { type: 'object', description: 'Par clé de groupe', additionalProperties: INDICATOR_SET } },
    },
  },
};

const REBUILD_STATE = {
  type: 'object',
  description: 'Où en est la reconstruction de la projection des indicateurs',
  properties: {
    running: { type: 'boolean' },
    startedAt: { type: 'string' },
    progress: {
      type: 'object',
      properties: {
        phase: { type: 'string', enum: ['acts', 'offers', 'done'] },
        offset: count,
        total: count,
        written: count,
        skipped: { ...count, description: 'Rencontres VR qui ne sont pas des actes de ce service' },
      },
    },
    error: { type: 'string', description: 'Pourquoi la dernière reconstruction a échoué (resume=true reprend à sa dernière page)' },
  },
};

const OFFER_LIST = {
  type: 'object',
  properties: {
    total: count,
    page: { type: 'integer' },
    pageSize: { type: 'integer' },
    offers: {
      type: 'array',
      items: { type: 'object', properties: { identifiantOffre: { type: 'string' }, name: { type: 'string' }, active: { type: 'boolean' }, reference: { type: 'string', description: 'HealthcareService/id' } } },
    },
  },
};

const ACCEPTED = { type: 'object', description: 'Acceptée et conservée durablement ; la livraison au serveur FHIR suit (voir Location)', properties: { deliveryId: { type: 'string' }, status: { type: 'string', enum: ['pending'] }, location: { type: 'string' } } };

/** By operation (`method path`), the success answers of routes that declare none for serialization: by status, by media type. */
export const SUCCESS_ANSWERS: Record<string, Record<string, Record<string, Json>>> = {
  'get /v1/deliveries/{id}': { '200': { 'application/json': DELIVERY_VIEW } },
  'get /v1/deliveries': {
    '200': {
      'application/json': {
        type: 'object',
        properties: { status: { type: 'string' }, total: count, breaker: { type: 'string', enum: ['closed', 'open', 'half-open'] }, next: { type: 'integer', description: 'À passer en `after` pour la page suivante' }, deliveries: { type: 'array', items: DELIVERY_VIEW } },
      },
    },
  },
  'delete /v1/deliveries/{id}': { '200': { 'application/json': { type: 'object', properties: { deliveryId: { type: 'string' }, status: { type: 'string', enum: ['discarded'] } } } } },
  'post /v1/deliveries/{id}/$replay': { '202': { 'application/json': { type: 'object', properties: { deliveryId: { type: 'string' }, status: { type: 'string', enum: ['pending'] }, location: { type: 'string' } } } } },
  'post /v1/ins/patient': {
    '200': {
      'application/json': {
        type: 'object',
        properties: {
          insIncluded: { type: 'boolean', description: "Vrai quand le Patient porte l'INS (fr-core-patient-ins)" },
          insExclusionReason: { type: 'string', description: "Pourquoi l'INS a été écarté" },
          insExclusionCode: { type: 'string' },
          insIssues: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, severity: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } },
          patient: { ...FHIR_RESOURCE, description: 'Le Patient FR Core' },
        },
      },
    },
  },
  'post /v1/$validate': { '200': { 'application/fhir+json': OUTCOME_REF } },
  'get /v1/offers': { '200': { 'application/json': OFFER_LIST } },
  'get /v1/offers/{offerId}': {
    '200': { 'application/json': answerOf(OFFER_SCHEMA, "L'offre telle que publiée"), 'application/fhir+json': fhirBundle("Ses ressources FHIR (Accept: application/fhir+json)") },
  },
  'delete /v1/offers/{offerId}': {
    '200': { 'application/json': { type: 'object', description: "L'offre retirée (inactive, historique conservé)", properties: { identifiantOffre: { type: 'string' }, active: { type: 'boolean', enum: [false] }, references: { type: 'array', items: { type: 'string' } } } } },
    '202': { 'application/json': ACCEPTED },
  },
  'get /v1/acts/{source}/{actId}': {
    '200': { 'application/json': answerOf(ACT_SCHEMA, "L'acte tel qu'enregistré"), 'application/fhir+json': fhirBundle('Ses ressources FHIR (Accept: application/fhir+json)') },
  },
  'get /v1/indicators': {
    '200': {
      'application/json': INDICATOR_REPORT,
      'text/csv': { type: 'string', description: 'Les mêmes indicateurs en CSV (Accept: text/csv ou format=csv), libellés en français avec Accept-Language: fr' },
      'application/fhir+json': fhirBundle('Des MeasureReport FHIR (Accept: application/fhir+json ou format=fhir)'),
    },
  },
  'post /v1/indicators/$rebuild': { '202': { 'application/json': REBUILD_STATE } },
  'get /v1/indicators/$rebuild': { '200': { 'application/json': REBUILD_STATE } },
};
