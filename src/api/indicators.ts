// GET /v1/indicators (issue 10): the roadmap indicators for a period, as JSON, CSV (Accept: text/csv or
// format=csv) or FHIR MeasureReports (Accept: application/fhir+json); and GET /dashboard, the page that
// draws them (dashboard.ts). Computation lives in src/indicators/: this file only reads the query and picks the format.
import type { FastifyPluginAsync } from 'fastify';
import type { FhirStore } from '../fhir/index.ts';
import { computeIndicators, GROUP_BY, toCsv, toMeasureReportBundle } from '../indicators/index.ts';
import type { GroupBy } from '../indicators/index.ts';
import { FINESS_PATTERN } from '../model/act.ts';
import { dashboardRoutes } from './dashboard.ts';
import { ApiProblem, FHIR_JSON } from './errors.ts';
import { queryValidatorCompiler } from './query.ts';

export interface IndicatorRouteOptions {
  readonly store: FhirStore;
  readonly clock: () => Date;
}

const DATE = '^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$';
/** Five years at most: the cost grows with the months (one count per type and month). */
const MAX_DAYS = 5 * 366;

const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', pattern: DATE, description: 'Premier jour de la période (AAAA-MM-JJ, inclus) ; défaut : 1er janvier de l’année en cours' },
    to: { type: 'string', pattern: DATE, description: 'Lendemain du dernier jour (AAAA-MM-JJ, exclu) ; défaut : 1er janvier suivant' },
    groupBy: { type: 'string', enum: GROUP_BY, default: 'none', description: 'Regroupement : structure (FINESS), department, specialty (profession des participants)' },
    department: { type: 'string', pattern: '^(?:[0-9]{2}|2[AB]|97[0-9])$', description: 'Seulement les structures de ce département (75, 2A, 974)' },
    finess: { type: 'string', pattern: `^${FINESS_PATTERN.slice(1, -1)}(?:,${FINESS_PATTERN.slice(1, -1)})*$`, description: 'Seulement ces structures (FINESS séparés par des virgules)' },
    format: { type: 'string', enum: ['json', 'csv', 'fhir'], description: 'Force le format (sinon selon Accept)' },
  },
} as const;

interface IndicatorQuerystring {
  from?: string;
  to?: string;
  groupBy: GroupBy;
  department?: string;
  finess?: string;
  format?: 'json' | 'csv' | 'fhir';
}

function formatOf(format: IndicatorQuerystring['format'], accept: string | undefined): 'json' | 'csv' | 'fhir' {
  if (format !== undefined) return format;
  const value = accept ?? '';
  if (value.includes('text/csv')) return 'csv';
  if (value.includes(FHIR_JSON)) return 'fhir';
  return 'json';
}

export const indicatorRoutes: FastifyPluginAsync<IndicatorRouteOptions> = async (app, { store, clock }) => {
  app.get<{ Querystring: IndicatorQuerystring }>(
    '/v1/indicators',
    {
      schema: {
        tags: ['indicators'],
        summary: 'Indicateurs de la feuille de route télésanté pour une période (JSON, CSV ou MeasureReport FHIR)',
        description:
          'Comptes issus de recherches FHIR (_summary=count) sur le serveur : actes réalisés par type et par mois, professionnels distincts, téléconsultations assistées, refus de consentement, incidents techniques, traçabilité (actes sans compte rendu, comptes rendus sans auteur), offres (structures avec une offre de télésanté, taux de remplissage de la modalité d’accueil télésanté du ROR). ' +
          'Accept: text/csv donne un CSV ; Accept: application/fhir+json un Bundle de MeasureReport (Measure dans profiles/measures/).',
        querystring: querySchema,
      },
      // Counts only, no personal data; but they describe the activity of structures.
      config: { access: 'acts:read' },
      validatorCompiler: queryValidatorCompiler,
    },
    async (request, reply) => {
      const q = request.query;
      const year = clock().getUTCFullYear();
      const from = q.from ?? `${year}-01-01`;
      const to = q.to ?? `${Number(from.slice(0, 4)) + 1}-01-01`;
      const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
      if (!(days > 0)) {
        throw new ApiProblem(422, { expression: 'to', message: 'La fin de période (to, exclue) doit suivre son début (from).', diagnostics: `from=${from} to=${to}` });
      }
      if (days > MAX_DAYS) {
        throw new ApiProblem(422, { expression: 'to', message: 'La période est limitée à cinq ans : réduisez-la.', diagnostics: `${days} days` });
      }
      const report = await computeIndicators(
        store,
        {
          from,
          to,
          groupBy: q.groupBy,
          ...(q.department === undefined ? {} : { department: q.department }),
          ...(q.finess === undefined ? {} : { finess: q.finess.split(',') }),
        },
        { requestId: String(request.id) },
      );
      request.log.info({ searches: report.cost.searches, ms: report.cost.ms, groupBy: report.groupBy }, 'indicators computed');
      const format = formatOf(q.format, request.headers.accept);
      if (format === 'csv') {
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `inline; filename="indicateurs-${from}-${to}.csv"`).send(toCsv(report));
      }
      if (format === 'fhir') return reply.type(FHIR_JSON).send(toMeasureReportBundle(report, clock().toISOString()));
      return reply.type('application/json; charset=utf-8').send(report);
    },
  );

  await app.register(dashboardRoutes);
};
