// GET /v1/indicators (issue 10): the roadmap indicators for a period, as JSON, CSV (Accept: text/csv or
// format=csv) or FHIR MeasureReports (Accept: application/fhir+json); and GET /dashboard, the page that
// draws them (dashboard.ts). Computation lives in src/indicators/: this file only reads the query and picks the format.
import type { FastifyPluginAsync } from 'fastify';
import type { FhirStore } from '../fhir/index.ts';
import { compared, computeIndicators, GROUP_BY, indicatorsFromProjection, rebuildProjection, lastCompleteMonths, previousPeriod, toCsv, toMeasureReportBundle } from '../indicators/index.ts';
import type { GroupBy, IndicatorQuery, IndicatorReport, Projection, RebuildProgress } from '../indicators/index.ts';
import { ACT_TYPES, FINESS_PATTERN, PROFESSIONS } from '../model/act.ts';
import type { ActType, Profession } from '../model/act.ts';
import { dashboardRoutes } from './dashboard.ts';
import { BusinessRuleBroken } from '../problems.ts';
import { FHIR_JSON } from './errors.ts';
import { queryValidatorCompiler } from './query.ts';

export interface IndicatorRouteOptions {
  readonly store: FhirStore;
  /** The projection kept at delivery: the default source of the figures. */
  readonly projection: Projection;
  readonly clock: () => Date;
}

const DATE = '^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$';
/** Five years at most: the cost grows with the months (one count per type and month). */
const MAX_DAYS = 5 * 366;

const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', pattern: DATE, description: 'Premier jour de la période (AAAA-MM-JJ, inclus) ; défaut : les 12 derniers mois complets' },
    to: { type: 'string', pattern: DATE, description: 'Lendemain du dernier jour (AAAA-MM-JJ, exclu) ; défaut : le 1er du mois en cours' },
    groupBy: { type: 'string', enum: GROUP_BY, default: 'none', description: 'Regroupement : structure (FINESS), department, region, specialty (profession des participants)' },
    department: { type: 'string', pattern: '^(?:[0-9]{2}|2[AB]|97[0-9])$', description: 'Seulement les structures de ce département (75, 2A, 974)' },
    region: { type: 'string', pattern: '^[0-9]{2}$', description: 'Seulement les structures de cette région (code INSEE : 11 Île-de-France, 94 Corse, 04 La Réunion)' },
    type: { type: 'string', enum: ACT_TYPES, description: "Seulement les actes de ce type (source projection)" },
    profession: { type: 'string', enum: PROFESSIONS, description: 'Seulement les actes auxquels participe un professionnel de cette profession (source projection)' },
    source: {
      type: 'string',
      enum: ['projection', 'fhir'],
      default: 'projection',
      description: 'projection (défaut) : tables tenues à chaque livraison ; fhir : calcul de référence par recherches FHIR (lent sur de gros volumes)',
    },
    finess: { type: 'string', pattern: `^${FINESS_PATTERN.slice(1, -1)}(?:,${FINESS_PATTERN.slice(1, -1)})*$`, description: 'Seulement ces structures (FINESS séparés par des virgules)' },
    format: { type: 'string', enum: ['json', 'csv', 'fhir'], description: 'Force le format (sinon selon Accept)' },
  },
} as const;

interface IndicatorQuerystring {
  from?: string;
  to?: string;
  groupBy: GroupBy;
  department?: string;
  region?: string;
  finess?: string;
  type?: ActType;
  profession?: Profession;
  source: 'projection' | 'fhir';
  format?: 'json' | 'csv' | 'fhir';
}

function formatOf(format: IndicatorQuerystring['format'], accept: string | undefined): 'json' | 'csv' | 'fhir' {
  if (format !== undefined) return format;
  const value = accept ?? '';
  if (value.includes('text/csv')) return 'csv';
  if (value.includes(FHIR_JSON)) return 'fhir';
  return 'json';
}

/** French when the client prefers it (Accept-Language: fr, fr-FR…): the CSV French Excel opens. */
function prefersFrench(acceptLanguage: string | undefined): boolean {
  return /^\s*fr\b/i.test(acceptLanguage ?? '');
}

export const indicatorRoutes: FastifyPluginAsync<IndicatorRouteOptions> = async (app, { store, projection, clock }) => {
  app.get<{ Querystring: IndicatorQuerystring }>(
    '/v1/indicators',
    {
      schema: {
        tags: ['indicators'],
        summary: 'Indicateurs de la feuille de route télésanté pour une période (JSON, CSV ou MeasureReport FHIR)',
        description:
          'Comptes tenus à chaque livraison d’acte (projection ; ?source=fhir : calcul de référence par recherches FHIR), avec la période précédente de même durée (previous) : actes réalisés par type et par mois, professionnels distincts, téléconsultations assistées, refus de consentement, incidents techniques, traçabilité (actes sans compte rendu, comptes rendus sans auteur), offres (structures avec une offre de télésanté, taux de remplissage de la modalité d’accueil télésanté du ROR). ' +
          'Accept: text/csv donne un CSV (avec Accept-Language: fr, séparateur ; virgule décimale et BOM UTF-8 pour Excel) ; Accept: application/fhir+json un Bundle de MeasureReport (Measure dans profiles/measures/).',
        querystring: querySchema,
      },
      // Counts only, no personal data; but they describe the activity of structures.
      config: { access: 'acts:read' },
      validatorCompiler: queryValidatorCompiler,
    },
    async (request, reply) => {
      const q = request.query;
      const period = q.from === undefined && q.to === undefined ? lastCompleteMonths(clock()) : undefined;
      const from = period?.from ?? q.from ?? lastCompleteMonths(clock()).from;
      const to = period?.to ?? q.to ?? `${Number(from.slice(0, 4)) + 1}${from.slice(4)}`;
      const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
      if (!(days > 0)) {
        throw new BusinessRuleBroken({ expression: 'to', message: 'La fin de période (to, exclue) doit suivre son début (from).', diagnostics: `from=${from} to=${to}` });
      }
      if (days > MAX_DAYS) {
        throw new BusinessRuleBroken({ expression: 'to', message: 'La période est limitée à cinq ans : réduisez-la.', diagnostics: `${days} days` });
      }
      if (q.source === 'fhir' && (q.type !== undefined || q.profession !== undefined)) {
        throw new BusinessRuleBroken({
          expression: q.type !== undefined ? 'type' : 'profession',
          message: 'Les filtres par type d’acte et par profession ne sont calculés que sur la projection (source=projection).',
          diagnostics: 'filter not supported by the FHIR reference',
        });
      }
      const query: IndicatorQuery = {
        from,
        to,
        groupBy: q.groupBy,
        ...(q.department === undefined ? {} : { department: q.department }),
        ...(q.region === undefined ? {} : { region: q.region }),
        ...(q.finess === undefined ? {} : { finess: q.finess.split(',') }),
        ...(q.type === undefined ? {} : { actType: q.type }),
        ...(q.profession === undefined ? {} : { profession: q.profession }),
      };
      const compute = (part: IndicatorQuery): Promise<IndicatorReport> =>
        q.source === 'fhir' ? computeIndicators(store, part, { requestId: String(request.id) }) : indicatorsFromProjection(projection, part);
      const before = previousPeriod({ from, to });
      const [current, previous] = await Promise.all([compute(query), compute({ ...query, ...before })]);
      const report = compared(current, previous);
      request.log.info({ source: q.source, searches: report.cost.searches, ms: report.cost.ms, groupBy: report.groupBy }, 'indicators computed');
      const format = formatOf(q.format, request.headers.accept);
      if (format === 'csv') {
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `inline; filename="indicateurs-${from}-${to}.csv"`).send(toCsv(report, { locale: prefersFrench(request.headers['accept-language']) ? 'fr' : 'en' }));
      }
      if (format === 'fhir') return reply.type(FHIR_JSON).send(toMeasureReportBundle(report, clock().toISOString()));
      return reply.type('application/json; charset=utf-8').send(report);
    },
  );

  // The rebuild from the FHIR store: one at a time per instance, in the background (a large store takes
  // minutes); its position is saved after each page, so `resume=true` goes on after a stop.
  let rebuild: { progress: RebuildProgress | undefined; running: boolean; error: string | undefined; startedAt: string } | undefined;
  const rebuildState = () => ({ running: rebuild?.running ?? false, startedAt: rebuild?.startedAt, progress: rebuild?.progress, ...(rebuild?.error === undefined ? {} : { error: rebuild.error }) });
  const rebuildSchema = {
    tags: ['indicators'],
    summary: 'Reconstruit la projection des indicateurs depuis le serveur FHIR (actes et offres), page par page',
    description: 'POST lance la reconstruction (202) ; resume=true reprend à la dernière page enregistrée. GET donne l’avancement.',
  };
  app.post<{ Querystring: { resume?: boolean } }>(
    '/v1/indicators/$rebuild',
    {
      schema: { ...rebuildSchema, querystring: { type: 'object', additionalProperties: false, properties: { resume: { type: 'boolean', default: false } } } },
      config: { access: 'deliveries:admin' },
      validatorCompiler: queryValidatorCompiler,
    },
    async (request, reply) => {
      if (rebuild?.running === true) return reply.code(409).type('application/json; charset=utf-8').send(rebuildState());
      const state: NonNullable<typeof rebuild> = { progress: undefined, running: true, error: undefined, startedAt: clock().toISOString() };
      rebuild = state;
      const log = request.log;
      rebuildProjection(store, projection, { resume: request.query.resume === true, onProgress: (p) => (state.progress = p) })
        .then((p) => log.info({ written: p.written, skipped: p.skipped }, 'indicators: projection rebuilt'))
        .catch((error: unknown) => {
          state.error = error instanceof Error ? error.message : String(error);
          log.error({ err: error }, 'indicators: the rebuild failed; resume=true goes on from its last page');
        })
        .finally(() => (state.running = false));
      return reply.code(202).header('location', '/v1/indicators/$rebuild').type('application/json; charset=utf-8').send(rebuildState());
    },
  );
  app.get('/v1/indicators/$rebuild', { schema: rebuildSchema, config: { access: 'deliveries:admin' } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(rebuildState()),
  );

  await app.register(dashboardRoutes);
};
