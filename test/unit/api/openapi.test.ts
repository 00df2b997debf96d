// The API document is complete and true: every operation has a success answer with a schema that says
// what it holds (no bare object), checked against what the routes answer; its errors as
// OperationOutcomes, its security (bearer token or API key) unless it is open, and the write routes carry
// the files of examples/ as examples. A route added without any of these fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import t from 'tap';
import { testApp } from '../../support/app.ts';
import { testIssuer } from '../../support/auth.ts';

interface Operation {
  security?: Record<string, string[]>[];
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  requestBody?: { content?: Record<string, { examples?: Record<string, { value: unknown }>; example?: unknown }> };
}

const OPEN = new Set(['get /health', 'get /ready']);
const issuer = await testIssuer();
const { app } = await testApp({}, undefined, { auth: { issuer } });
t.teardown(() => app.close());
const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme?: string; name?: string }> } };
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ id: `${method} ${path}`, method, path, op })));

t.test('bearer tokens and API keys are declared, so that /docs can authorize', async (t) => {
  t.same(doc.components.securitySchemes.bearerAuth?.scheme, 'bearer');
  t.same(doc.components.securitySchemes.apiKey?.name, 'X-API-Key');
  t.ok(operations.length >= 20, `${operations.length} operations`);
});

t.test('every operation: a success with a schema, its errors as OperationOutcomes, its security', async (t) => {
  for (const { id, path, op } of operations) {
    const responses = op.responses ?? {};
    const successes = Object.entries(responses).filter(([code]) => /^2\d\d$/.test(code));
    t.ok(successes.length > 0 && successes.every(([, r]) => Object.values(r.content ?? {}).some((c) => c.schema !== undefined)), `${id}: every 2xx has a schema`);
    const errors = Object.entries(responses).filter(([code]) => /^[45]\d\d$/.test(code) && !(id === 'get /ready' && code === '503'));
    t.ok(errors.some(([code]) => code === '400') && errors.some(([code]) => code === '429'), `${id}: 400 and 429 at least`);
    t.ok(errors.every(([, r]) => r.content?.['application/fhir+json']?.schema?.$ref === '#/components/schemas/OperationOutcome'), `${id}: every error is an OperationOutcome`);
    if (OPEN.has(id)) {
      t.same(op.security, [], `${id}: open`);
    } else {
      t.same(op.security, [{ bearerAuth: [] }, { apiKey: [] }], `${id}: a token or a key`);
      t.ok(responses['401'] && responses['403'], `${id}: 401 and 403`);
    }
    if (path.includes('{')) t.ok(responses['404'], `${id}: 404`);
  }
});

t.test('the files of examples/ are the examples of the write routes; the import has its NDJSON body', async (t) => {
  const count = (folder: string) => readdirSync(new URL(`../../../examples/${folder}/`, import.meta.url)).filter((f) => f.endsWith('.json')).length;
  const acts = doc.paths['/v1/acts']?.post?.requestBody?.content?.['application/json']?.examples ?? {};
  t.equal(Object.keys(acts).length, count('acts'), 'every act example');
  const offers = doc.paths['/v1/offers']?.post?.requestBody?.content?.['application/json']?.examples ?? {};
  t.equal(Object.keys(offers).length, count('offers'), 'every offer example');
  // Each example is accepted by the route it illustrates (the schema is the one that validates requests).
  for (const [name, example] of Object.entries(acts)) {
    const answer = await app.inject({ method: 'POST', url: '/v1/acts', headers: { authorization: `Bearer ${await issuer.sign({ scope: 'acts:write' })}` }, payload: example.value as object });
    t.not(answer.statusCode, 400, `examples/acts/${name}.json is well formed for the route`);
  }
  const ndjson = doc.paths['/v1/offers/$import']?.post?.requestBody?.content?.['application/x-ndjson']?.example;
  t.equal(typeof ndjson === 'string' ? ndjson.split('\n').length : 0, count('offers'), 'one offer per line');
});

/** Where a 2xx schema says only "an object": a type object with nothing that describes its content. */
function bareObjects(schema: unknown, path: string): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  const described = ['properties', '$ref', 'oneOf', 'anyOf', 'allOf'].some((key) => key in s) || (typeof s.additionalProperties === 'object' && s.additionalProperties !== null);
  const found = s.type === 'object' && !described ? [path || '(the answer)'] : [];
  for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) found.push(...bareObjects(child, `${path}.${name}`));
  if (typeof s.items === 'object') found.push(...bareObjects(s.items, `${path}[]`));
  if (typeof s.additionalProperties === 'object') found.push(...bareObjects(s.additionalProperties, `${path}{}`));
  for (const key of ['oneOf', 'anyOf', 'allOf']) for (const [n, child] of ((s[key] ?? []) as unknown[]).entries()) found.push(...bareObjects(child, `${path}|${key}${n}`));
  return found;
}

t.test('no success answer is documented as a bare object: each says what it holds, all the way down', async (t) => {
  t.same(bareObjects({ type: 'object', additionalProperties: true }, ''), ['(the answer)'], 'the check sees a bare object');
  for (const { id, op } of operations) {
    for (const [code, response] of Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code))) {
      for (const [type, content] of Object.entries(response.content ?? {})) t.same(bareObjects(content.schema, ''), [], `${id} ${code} ${type}`);
    }
  }
});

t.test('the routes answer what the document says they answer', async (t) => {
  const { app: open } = await testApp({});
  t.teardown(() => open.close());
  const document = (await open.inject({ method: 'GET', url: '/openapi.json' })).json() as object;
  const ajv = new Ajv({ strict: false, validateSchema: false, validateFormats: false, allErrors: true });
  ajv.addSchema(document, 'doc');
  const pointer = (...parts: string[]): string => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
  const check = async (method: 'GET' | 'POST' | 'DELETE', path: string, url: string, accept = 'application/json', payload?: object): Promise<unknown> => {
    const answer = await open.inject({ method, url, headers: { accept }, ...(payload === undefined ? {} : { payload }) });
    const code = String(answer.statusCode);
    const type = accept.split(';')[0] as string;
    const validate = ajv.getSchema(`doc#/${pointer('paths', path, method.toLowerCase(), 'responses', code, 'content', type, 'schema')}`);
    t.ok(validate, `${method} ${path} ${code} ${type} is documented`);
    const body = type === 'text/csv' ? answer.body : (answer.json() as unknown);
    t.ok(validate?.(body), `${method} ${path} ${code} ${type}: ${JSON.stringify(validate?.errors?.slice(0, 3))}`);
    return body;
  };
  const offer = JSON.parse(readFileSync(new URL('../../../examples/offers/gp-teleconsultation.json', import.meta.url), 'utf8')) as { identifiantOffre: string };
  const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as { source: string; actId: string };
  await check('POST', '/v1/offers', '/v1/offers', 'application/json', offer);
  await check('POST', '/v1/acts', '/v1/acts', 'application/json', act);
  const offerUrl = `/v1/offers/${encodeURIComponent(offer.identifiantOffre)}`;
  await check('GET', '/v1/offers', '/v1/offers');
  await check('GET', '/v1/offers/{offerId}', offerUrl);
  await check('GET', '/v1/offers/{offerId}', offerUrl, 'application/fhir+json');
  const actUrl = `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
  await check('GET', '/v1/acts/{source}/{actId}', actUrl);
  await check('GET', '/v1/acts/{source}/{actId}', actUrl, 'application/fhir+json');
  const report = (await check('GET', '/v1/indicators', '/v1/indicators?from=2025-01-01&to=2026-01-01&groupBy=structure')) as { overall: { acts: number } };
  t.ok(report.overall.acts >= 1, 'the act posted above is counted');
  await check('GET', '/v1/indicators', '/v1/indicators?from=2025-01-01&to=2026-01-01', 'application/fhir+json');
  await check('GET', '/v1/indicators', '/v1/indicators?from=2025-01-01&to=2026-01-01', 'text/csv');
  await check('GET', '/v1/indicators/$rebuild', '/v1/indicators/$rebuild');
  await check('GET', '/v1/deliveries', '/v1/deliveries?status=delivered');
  await check('POST', '/v1/ins/patient', '/v1/ins/patient', 'application/json', { ins: (act as unknown as { patient: { ins: string } }).patient.ins, insOid: 'urn:oid:1.2.250.1.213.1.4.8', identityStatus: 'QUAL', traits: (act as unknown as { patient: { traits: object } }).patient.traits, ipp: { system: 'urn:oid:1.2.250.1.999.2.1', value: 'IPP1' } });
  await check('DELETE', '/v1/offers/{offerId}', offerUrl);
});
