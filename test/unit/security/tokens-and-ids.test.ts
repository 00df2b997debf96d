// Issue 16, D7 and point 6: NODE_ENV is read whatever its case (`Production` once started without
// authentication); a token issued ahead of the clock, without iat, or living longer than
// AUTH_MAX_TOKEN_LIFETIME_S (one hour by default) is refused; a client's X-Request-ID that could carry an
// INS is replaced by a UUID before it reaches a log line or an AuditEvent; the AuditEvent of a read in our
// JSON format names the Patient disclosed, as the FHIR format's does.
import { readFileSync } from 'node:fs';
import type { AuditEvent } from '@medplum/fhirtypes';
import t from 'tap';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { isSafeRequestId } from '../../../src/security/index.ts';
import { testApp } from '../../support/app.ts';
import { testIssuer } from '../../support/auth.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const actPath = `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
const INS = act.patient.ins ?? '';
const now = (): number => Math.floor(Date.now() / 1000);

t.test('NODE_ENV=production in any case refuses to start without authentication', async (t) => {
  for (const value of ['Production', 'PRODUCTION', ' production ', 'production']) {
    t.throws(() => loadConfig({ NODE_ENV: value }), ConfigError, value);
    t.throws(() => loadConfig({ NODE_ENV: value, AUTH_MODE: 'none' }), ConfigError, `${value}, AUTH_MODE=none`);
  }
  t.equal(loadConfig({ NODE_ENV: 'development' }).authMode, 'none');
  t.equal(loadConfig({}).authMaxTokenLifetimeS, 3600, 'one hour by default');
  t.throws(() => loadConfig({ AUTH_MAX_TOKEN_LIFETIME_S: '0' }), ConfigError);
});

t.test('tokens: iat ahead of the clock, no iat, or a life longer than the maximum are refused', async (t) => {
  const issuer = await testIssuer();
  const { app } = await testApp({}, new EmbeddedStore(), { auth: { issuer } });
  t.teardown(() => app.close());
  const status = async (token: string): Promise<number> =>
    (await app.inject({ method: 'GET', url: '/v1/acts', headers: { authorization: `Bearer ${token}` } })).statusCode;
  const claims = { scope: 'acts:read' };
  t.equal(await status(await issuer.sign(claims)), 200, 'five minutes, issued now');
  t.equal(await status(await issuer.sign(claims, { issuedAt: now() + 365 * 86_400, expiresIn: now() + 366 * 86_400 })), 401, 'iat a year ahead');
  t.equal(await status(await issuer.sign(claims, { issuedAt: now() + 120 })), 401, 'iat two minutes ahead (skew 30 s)');
  t.equal(await status(await issuer.sign(claims, { issuedAt: now() + 10 })), 200, 'iat within the skew');
  t.equal(await status(await issuer.sign(claims, { issuedAt: null })), 401, 'no iat');
  t.equal(await status(await issuer.sign(claims, { expiresIn: '365d' })), 401, 'valid for a year');
  t.equal(await status(await issuer.sign(claims, { expiresIn: '2h' })), 401, 'valid for two hours');
  t.equal(await status(await issuer.sign(claims, { expiresIn: '59m' })), 200, 'valid for 59 minutes');
  t.equal(await status(await issuer.sign(claims, { issuedAt: now() - 7_200, expiresIn: now() + 600 })), 401, 'issued two hours ago');

  const longer = await testApp({ AUTH_MAX_TOKEN_LIFETIME_S: '10800' }, new EmbeddedStore(), { auth: { issuer } });
  t.teardown(() => longer.app.close());
  const token = await issuer.sign(claims, { expiresIn: '2h' });
  t.equal((await longer.app.inject({ method: 'GET', url: '/v1/acts', headers: { authorization: `Bearer ${token}` } })).statusCode, 200, 'AUTH_MAX_TOKEN_LIFETIME_S=10800: two hours pass');
});

async function auditEvents(store: EmbeddedStore, count: number): Promise<AuditEvent[]> {
  for (let i = 0; i < 200; i++) {
    const found = ((await store.search<AuditEvent>('AuditEvent', { _count: '100' })).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${count} AuditEvents`);
}

t.test('a request id that could carry an INS is replaced before it is logged or audited', async (t) => {
  for (const safe of ['dpi-42.abc', 'trace-7', '3f2b8c1e-9d4a-4b7e-8f21-6c5d4e3b2a10', 'req-audit-1']) t.ok(isSafeRequestId(safe), safe);
  for (const unsafe of [INS, `ins-${INS}`, `1-56-03-75-05-61-23-22`, `${INS.slice(0, 13)}`, 'a b', 'x'.repeat(65)]) t.notOk(isSafeRequestId(unsafe), unsafe);

  const store = new EmbeddedStore();
  const { app, logs } = await testApp({ LOG_LEVEL: 'debug' }, store);
  t.teardown(() => app.close());
  const written = await app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers: { 'x-request-id': `dpi-${INS}` } });
  t.equal(written.statusCode, 201);
  t.match(written.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'a new UUID');
  const read = await app.inject({ method: 'GET', url: actPath, headers: { 'x-request-id': `1-56-03-75-05-61-23-22` } });
  t.equal(read.statusCode, 200);
  t.not(read.headers['x-request-id'], '1-56-03-75-05-61-23-22');
  const kept = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'dpi-42.abc' } });
  t.equal(kept.headers['x-request-id'], 'dpi-42.abc', 'a safe id is kept');

  const events = await auditEvents(store, 2);
  t.notOk(JSON.stringify(events).includes(INS), 'no INS in the AuditEvents');
  t.notOk(logs().includes(INS), 'no INS in the logs');
  t.notOk(logs().includes('1-56-03-75'), 'nor spread out');

  // The JSON-format read names the act's Patient, as the FHIR format does.
  const readEvent = events.find((event) => event.action === 'R');
  const patientRef = readEvent?.entity?.find((entity) => entity.what?.reference?.startsWith('Patient/'))?.what?.reference;
  t.ok(patientRef, `the JSON read names the Patient: ${JSON.stringify(readEvent?.entity?.map((e) => e.what))}`);
  const patients = (await store.search('Patient', {})).entry ?? [];
  t.ok(patients.some((entry) => `Patient/${entry.resource?.id ?? ''}` === patientRef), 'the Patient of the act');
});
