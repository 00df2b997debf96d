// Authentication and authorization over HTTP: bearer tokens against a JWKS file, API keys, scopes per
// route, the FINESS binding, and the 401/403 OperationOutcomes.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OperationOutcome } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { testIssuer } from '../../support/auth.ts';
import { example } from '../mapping/offer-examples.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const actFiness = act.performers.find((p) => p.finess !== undefined)?.finess ?? '';
const actPath = `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;

const issuer = await testIssuer();
const stranger = await testIssuer(); // another key pair: its tokens are forged as far as the service knows
const ALL = 'offers:write offers:read acts:write acts:read ins:check deliveries:admin';
const apiKeys = [
  { id: 'ror-pipeline', key: 'k-ror-2f9a1c7e5b3d', scopes: ['offers:write', 'offers:read'] },
  { id: 'dpi-batignolles', key: 'k-dpi-8e1f4a2b9c6d', scopes: ['acts:write', 'acts:read'], finess: [actFiness] },
];

const store = new EmbeddedStore();
const { app } = await testApp({}, store, { auth: { issuer, apiKeys } });
t.teardown(() => app.close());

function b64url(value: object | string): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function outcomeOf(body: string): OperationOutcome {
  const parsed = JSON.parse(body) as OperationOutcome;
  if (parsed.resourceType !== 'OperationOutcome') throw new Error(`not an OperationOutcome: ${body}`);
  return parsed;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

t.test('refused tokens: forged, expired, not yet valid, wrong audience, wrong issuer, alg none, HMAC with the public key, garbage', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer.issuer, aud: issuer.audience, sub: 'dpi-client', scope: ALL, exp: now + 300, iat: now };
  const jwks = JSON.parse(readFileSync(issuer.jwksFile, 'utf8')) as { keys: { n: string }[] };
  const hmacInput = `${b64url({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' })}.${b64url(claims)}`;
  const hmacWithPublicKey = `${hmacInput}.${createHmac('sha256', Buffer.from(JSON.stringify(jwks.keys[0]))).update(hmacInput).digest('base64url')}`;
  const cases: [string, string, RegExp][] = [
    ['forged (another key)', await stranger.sign({ scope: ALL }), /signature|no key/],
    ['expired', await issuer.sign({ scope: ALL }, { expiresIn: now - 120 }), /expired/],
    ['not yet valid', await issuer.sign({ scope: ALL }, { notBefore: now + 600 }), /nbf/],
    ['wrong audience', await issuer.sign({ scope: ALL, aud: 'another-service' }), /aud/],
    ['wrong issuer', await issuer.sign({ scope: ALL, iss: 'https://evil.example/' }), /iss/],
    ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`, /algorithm|malformed|cannot/],
    ['HMAC with the public key', hmacWithPublicKey, /algorithm/],
    ['garbage', 'not.a.token', /malformed|cannot/],
  ];
  for (const [name, token, reason] of cases) {
    const response = await app.inject({ method: 'GET', url: '/v1/acts', headers: bearer(token) });
    t.equal(response.statusCode, 401, name);
    t.match(response.headers['www-authenticate'], /^Bearer realm="telesante-fhir", error="invalid_token"$/, `${name}: challenge`);
    const outcome = outcomeOf(response.body);
    t.equal(outcome.issue[0]?.code, 'login', name);
    t.match(outcome.issue[0]?.diagnostics, reason, `${name}: ${outcome.issue[0]?.diagnostics}`);
    t.notOk(response.body.includes(token.slice(0, 40)), `${name}: the token is not echoed`);
  }
  const expiredWithinSkew = await issuer.sign({ scope: ALL }, { expiresIn: now - 10 });
  t.equal((await app.inject({ method: 'GET', url: '/v1/acts', headers: bearer(expiredWithinSkew) })).statusCode, 200, 'expired 10 s ago: within the 30 s clock skew');
});

t.test('no credentials, a wrong API key, a malformed header: 401', async (t) => {
  const none = await app.inject({ method: 'GET', url: '/v1/acts' });
  t.equal(none.statusCode, 401);
  t.equal(none.headers['www-authenticate'], 'Bearer realm="telesante-fhir"');
  t.equal(outcomeOf(none.body).issue[0]?.diagnostics, 'no credentials');
  const wrongKey = await app.inject({ method: 'GET', url: '/v1/offers', headers: { 'x-api-key': 'k-ror-2f9a1c7e5b3e' } });
  t.equal(wrongKey.statusCode, 401);
  t.equal(outcomeOf(wrongKey.body).issue[0]?.diagnostics, 'unknown API key');
  const basic = await app.inject({ method: 'GET', url: '/v1/offers', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  t.equal(basic.statusCode, 401);
  const both = await app.inject({ method: 'GET', url: '/v1/offers', headers: { 'x-api-key': apiKeys[0]?.key ?? '', authorization: `Bearer ${await issuer.sign({ scope: ALL })}` } });
  t.equal(both.statusCode, 401, 'a token and a key at once: refused');
});

t.test('open routes stay open; $validate needs credentials and the fhir:validate scope', async (t) => {
  for (const url of ['/health', '/ready', '/openapi.json', '/docs/', '/dashboard']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
  }
  const resource = { resourceType: 'Patient', gender: 'female' };
  t.equal((await app.inject({ method: 'POST', url: '/v1/$validate', payload: resource })).statusCode, 401);
  const noScope = await issuer.sign({ scope: '' });
  t.equal((await app.inject({ method: 'POST', url: '/v1/$validate', payload: resource, headers: bearer(noScope) })).statusCode, 403);
  const validator = await issuer.sign({ scope: 'fhir:validate' });
  t.equal((await app.inject({ method: 'POST', url: '/v1/$validate', payload: resource, headers: bearer(validator) })).statusCode, 200);
});

t.test('a missing scope is a 403 naming the scope; scope (string) and scp (array) are both read; API keys carry scopes', async (t) => {
  const reader = await issuer.sign({ scope: 'acts:read' });
  const write = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: bearer(reader) });
  t.equal(write.statusCode, 403);
  t.equal(write.headers['www-authenticate'], 'Bearer realm="telesante-fhir", error="insufficient_scope", scope="acts:write"');
  t.equal(outcomeOf(write.body).issue[0]?.code, 'forbidden');
  t.match(outcomeOf(write.body).issue[0]?.details?.text, /acts:write/);
  t.equal((await app.inject({ method: 'GET', url: '/v1/acts', headers: bearer(reader) })).statusCode, 200);
  const scp = await issuer.sign({ scp: ['ins:check'] });
  t.equal((await app.inject({ method: 'POST', url: '/v1/ins/check', payload: { ins: '184037512345690' }, headers: bearer(scp) })).statusCode, 200, 'scp array');
  t.equal((await app.inject({ method: 'POST', url: '/v1/ins/check', payload: { ins: '184037512345690' }, headers: bearer(reader) })).statusCode, 403);
  const ror = { 'x-api-key': apiKeys[0]?.key ?? '' };
  t.equal((await app.inject({ method: 'GET', url: '/v1/offers', headers: ror })).statusCode, 200, 'API key with offers:read');
  t.equal((await app.inject({ method: 'GET', url: '/v1/acts', headers: ror })).statusCode, 403, 'API key without acts:read');
  t.equal((await app.inject({ method: 'GET', url: '/v1/deliveries', headers: ror })).statusCode, 403, 'deliveries:admin needed');
  const admin = await issuer.sign({ scope: 'deliveries:admin' });
  t.equal((await app.inject({ method: 'GET', url: '/v1/deliveries', headers: bearer(admin) })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/v1/indicators', headers: bearer(reader) })).statusCode, 200, 'indicators: acts:read');
  t.equal((await app.inject({ method: 'GET', url: '/v1/indicators', headers: ror })).statusCode, 403);
});

t.test('a client bound to one FINESS writes only for it, and cannot take over what another structure stored', async (t) => {
  const dpi = { 'x-api-key': apiKeys[1]?.key ?? '' };
  const other = { ...act, actId: 'TC-OTHER-1', performers: act.performers.map((p) => ({ ...p, finess: '290004514' })) };
  const refused = await app.inject({ method: 'POST', url: '/v1/acts', payload: other, headers: dpi });
  t.equal(refused.statusCode, 403, refused.body.slice(0, 300));
  t.same(outcomeOf(refused.body).issue[0]?.expression, ['performers[0].finess']);
  const noStructure = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, actId: 'TC-NONE-1', performers: act.performers.map((p) => ({ ...p, finess: undefined, structureName: undefined })) }, headers: dpi });
  t.equal(noStructure.statusCode, 403, 'an act naming no structure: refused to a bound client');
  const own = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: dpi });
  t.equal(own.statusCode, 201, own.body.slice(0, 300));

  // Another structure's act, written by an unbound client; the bound one may neither amend nor cancel it,
  // nor overwrite it by posting the same key with its own FINESS.
  const unbound = await issuer.sign({ scope: ALL });
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: other, headers: bearer(unbound) })).statusCode, 201);
  const otherPath = `/v1/acts/${encodeURIComponent(other.source)}/${other.actId}`;
  t.equal((await app.inject({ method: 'PUT', url: `${otherPath}/report`, payload: act.report, headers: dpi })).statusCode, 403, 'PUT report on another structure’s act');
  t.equal((await app.inject({ method: 'DELETE', url: otherPath, payload: { reason: 'test' }, headers: dpi })).statusCode, 403, 'DELETE of another structure’s act');
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...other, performers: act.performers }, headers: dpi })).statusCode, 403, 'overwrite by key');
  t.equal((await app.inject({ method: 'PUT', url: `${actPath}/report`, payload: act.report, headers: dpi })).statusCode, 200, 'its own act: amended');

  const offer = example('gp-teleconsultation');
  const boundOffers = await issuer.sign({ scope: 'offers:write', finess: ['750990012'] });
  const offerRefused = await app.inject({ method: 'POST', url: '/v1/offers', payload: offer, headers: bearer(boundOffers) });
  t.equal(offerRefused.statusCode, 403);
  t.same(outcomeOf(offerRefused.body).issue[0]?.expression, ['structure.finess']);
  const boundToOffer = await issuer.sign({ scope: 'offers:write', finess: [offer.structure.finess] });
  t.equal((await app.inject({ method: 'POST', url: '/v1/offers', payload: offer, headers: bearer(boundToOffer) })).statusCode, 201);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/offers/${offer.identifiantOffre}`, headers: bearer(boundOffers) })).statusCode, 403, 'withdrawing another structure’s offer');
  const imported = await app.inject({ method: 'POST', url: '/v1/offers/$import', headers: { ...bearer(boundToOffer), 'content-type': 'application/x-ndjson' }, payload: JSON.stringify(offer) });
  t.equal(imported.statusCode, 403, 'bulk import: unbound clients only');
});

t.test('an unknown field is refused (400), never dropped', async (t) => {
  const writer = bearer(await issuer.sign({ scope: ALL }));
  const offer = await app.inject({ method: 'POST', url: '/v1/offers', payload: { ...example('nurse-telesoin'), colour: 'blue' }, headers: writer });
  t.equal(offer.statusCode, 400);
  t.ok(outcomeOf(offer.body).issue.some((issue) => issue.expression?.[0] === 'colour'));
  const posted = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, colour: 'blue' }, headers: writer });
  t.equal(posted.statusCode, 400);
  t.ok(outcomeOf(posted.body).issue.some((issue) => issue.expression?.[0] === 'colour'));
  const report = await app.inject({ method: 'PUT', url: `${actPath}/report`, payload: { ...act.report, colour: 'blue' }, headers: writer });
  t.equal(report.statusCode, 400);
  const cancel = await app.inject({ method: 'DELETE', url: actPath, payload: { reason: 'x', colour: 'blue' }, headers: writer });
  t.equal(cancel.statusCode, 400);
});
