// What the OpenAPI document says beyond each route's own schema, added in one place: how to
// authenticate (bearer tokens, API keys: /docs gets its Authorize button), which scope each operation
// needs, the errors every operation may answer (each an OperationOutcome), the files of examples/ as
// request examples, the NDJSON body of the bulk import, and the success answers of routes that do not
// declare one for serialization. test/unit/api/openapi.test.ts fails when an operation lacks any of these.
import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { RouteAccess } from '../security/index.ts';
import { OPERATION_OUTCOME_SCHEMA, SUCCESS_ANSWERS } from './answer-schemas.ts';

type Json = Record<string, unknown>;

const EXAMPLES = new URL('../../examples/', import.meta.url);

function examplesIn(folder: string): Record<string, { summary: string; value: unknown }> {
  const dir = new URL(`${folder}/`, EXAMPLES);
  const files = readdirSync(dir).filter((file) => file.endsWith('.json')).sort();
  return Object.fromEntries(files.map((file) => [file.replace(/\.json$/, ''), { summary: `examples/${folder}/${file}`, value: JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as unknown }]));
}

const OUTCOME_REF = { $ref: '#/components/schemas/OperationOutcome' };

/** The document's OperationOutcome: every error has one; an issue has a severity and a code. */
const OPERATION_OUTCOME = {
  ...OPERATION_OUTCOME_SCHEMA,
  description: 'Toute erreur : un issue par problème, expression = le chemin dans la requête, details.text = quoi faire (français), diagnostics = la cause technique',
  required: ['resourceType', 'issue'],
  properties: { ...OPERATION_OUTCOME_SCHEMA.properties, issue: { ...OPERATION_OUTCOME_SCHEMA.properties.issue, items: { ...OPERATION_OUTCOME_SCHEMA.properties.issue.items, required: ['severity', 'code'] } } },
};

const ERRORS: Record<string, string> = {
  '400': 'Requête mal formée (JSON, champ inconnu, paramètre invalide)',
  '401': 'Identifiants absents ou invalides (WWW-Authenticate: Bearer)',
  '403': 'Portée manquante, ou structure (FINESS) non autorisée pour ce client',
  '404': 'Inconnu',
  '409': 'Conflit (version plus récente déjà livrée, écriture concurrente)',
  '413': 'Corps trop grand',
  '415': 'Content-Type non pris en charge',
  '422': 'Règle métier non respectée (clé INS, code inconnu, profil FHIR) ou refus du serveur FHIR',
  '429': 'Trop de requêtes (Retry-After)',
  '502': 'Le serveur FHIR a répondu une erreur',
  '503': 'Le serveur FHIR est indisponible',
  '504': "Le serveur FHIR n'a pas répondu à temps",
};

/** The errors an operation may answer: every one 400 and 429; 401/403 when it needs credentials; the rest by its shape. */
function errorsOf(method: string, path: string, secured: boolean): string[] {
  const codes = ['400', '429'];
  if (secured) codes.push('401', '403');
  if (path.includes('{')) codes.push('404');
  if (method !== 'get') codes.push('409', '413', '415', '422');
  if (path.startsWith('/v1/') && !path.startsWith('/v1/ins/') && path !== '/v1/$validate') codes.push('502', '503', '504');
  return codes.sort();
}

const toOpenApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Records each route's access (an onRoute hook, before the routes) and completes the document when it is built. */
export function openApiCompletion(app: FastifyInstance): (openapiObject: object) => Json {
  const access = new Map<string, RouteAccess | undefined>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) access.set(`${method.toLowerCase()} ${toOpenApiPath(route.url)}`, route.config?.access);
  });
  const acts = examplesIn('acts');
  const offers = examplesIn('offers');
  const ndjson = Object.values(offers)
    .map((example) => JSON.stringify(example.value))
    .join('\n');
  return (openapiObject) => {
    const doc = structuredClone(openapiObject) as Json & { paths?: Record<string, Record<string, Json>>; components?: Json };
    doc.components = {
      ...(doc.components ?? {}),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Jeton RS256/ES256/PS256 signé par AUTH_ISSUER ; portées dans scope ou scp' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: "Clé d'API d'un client machine (AUTH_API_KEYS_FILE)" },
      },
      schemas: { ...((doc.components?.schemas as Json | undefined) ?? {}), OperationOutcome: OPERATION_OUTCOME },
    };
    for (const [path, operations] of Object.entries(doc.paths ?? {})) {
      for (const [method, operation] of Object.entries(operations)) {
        const routeAccess = access.get(`${method} ${path}`);
        const secured = routeAccess !== undefined && routeAccess !== 'public';
        operation.security = secured ? [{ bearerAuth: [] }, { apiKey: [] }] : [];
        if (secured && routeAccess !== 'authenticated') {
          const scopes = typeof routeAccess === 'string' ? [routeAccess] : (routeAccess as readonly string[]);
          operation.description = `${typeof operation.description === 'string' ? `${operation.description}\n\n` : ''}Portée requise : ${scopes.join(' ou ')}.`;
        }
        const responses = (operation.responses ?? {}) as Record<string, Json>;
        for (const [code, content] of Object.entries(SUCCESS_ANSWERS[`${method} ${path}`] ?? {})) {
          if (responses[code]?.content !== undefined) continue;
          const described = Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }]));
          responses[code] = { description: (responses[code]?.description as string | undefined) ?? 'Réussite', content: described };
          if (code !== '200' && responses['200']?.content === undefined && SUCCESS_ANSWERS[`${method} ${path}`]?.['200'] === undefined) delete responses['200'];
        }
        for (const code of errorsOf(method, path, secured)) {
          responses[code] ??= { description: ERRORS[code], content: { 'application/fhir+json': { schema: OUTCOME_REF } } };
        }
        operation.responses = responses;
      }
    }
    const post = (path: string): Json | undefined => doc.paths?.[path]?.post;
    const withExamples = (operation: Json | undefined, examples: Json): void => {
      const content = (operation?.requestBody as { content?: Record<string, Json> } | undefined)?.content?.['application/json'];
      if (content !== undefined) content.examples = examples;
    };
    withExamples(post('/v1/acts'), acts);
    withExamples(post('/v1/offers'), offers);
    const bulk = post('/v1/offers/$import');
    if (bulk !== undefined) {
      bulk.requestBody = {
        required: true,
        description: 'Une offre JSON par ligne (le même contenu que POST /v1/offers)',
        content: { 'application/x-ndjson': { schema: { type: 'string' }, example: ndjson } },
      };
    }
    return doc;
  };
}
