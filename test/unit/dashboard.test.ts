// The dashboard in a real browser (headless Chromium through playwright-core): the page served by the
// app on 127.0.0.1 (random port), on the embedded store filled with generated acts, shows the numbers
// /v1/indicators computes; the department filter narrows them. With authentication on, the page asks
// for an API key or a token, keeps it in sessionStorage only, and then shows the same numbers. Screenshots
// are saved to test-output/dashboard*.png for a person to look at. Without /usr/bin/chromium the test is skipped
// loudly, unless REQUIRE_CHROMIUM=1 makes that a failure.
import { existsSync, mkdirSync } from 'node:fs';
import t from 'tap';
import { EmbeddedStore } from '../../src/fhir/index.ts';
import { computeIndicators } from '../../src/indicators/index.ts';
import { toActBundle } from '../../src/mapping/act.ts';
import { generateActs } from '../../src/synthetic/index.ts';
import { testApp } from '../support/app.ts';
import { testIssuer } from '../support/auth.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!existsSync(CHROMIUM)) {
  if (process.env.REQUIRE_CHROMIUM === '1') throw new Error(`REQUIRE_CHROMIUM=1 but ${CHROMIUM} is absent (apt-get install -y chromium)`);
  console.error(`\n*** DASHBOARD BROWSER TEST SKIPPED: ${CHROMIUM} is absent (apt-get install -y chromium). Set REQUIRE_CHROMIUM=1 to make this a failure. ***\n`);
  t.plan(0, 'no Chromium');
} else {
  const { chromium } = await import('playwright-core');
  const store = new EmbeddedStore();
  for (const act of generateActs({ count: 120, seed: 2025, year: 2025 })) {
    await store.transaction(toActBundle(act, { receivedAt: '2026-01-02T00:00:00Z' }).bundle);
  }
  const { app } = await testApp({}, store);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const issuer = await testIssuer();
  const apiKeys = [
    { id: 'pilotage-ars', key: 'cle-ars-indicateurs-7f3a9c2e41d8b6', scopes: ['acts:read'] },
    { id: 'dpi-ecriture', key: 'cle-dpi-ecriture-0b5e8d1c7a2f94', scopes: ['acts:write'] },
  ];
  const secured = (await testApp({}, store, { auth: { issuer, apiKeys } })).app;
  const securedAddress = await secured.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  t.teardown(async () => {
    await browser.close();
    await app.close();
    await secured.close();
    await store.close();
  });
  const period = { from: '2025-01-01', to: '2026-01-01' };
  const expected = await computeIndicators(store, { ...period, groupBy: 'department' });

  t.test('the charts and cards show the computed indicators, and the department filter narrows them', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 }, locale: 'fr-FR' });
    await page.goto(`${address}/dashboard?from=${period.from}&to=${period.to}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const card = (key: string) => page.locator(`[data-indicator="${key}"]`).getAttribute('data-value');
    const o = expected.overall;
    t.equal(await card('acts'), String(o.acts));
    t.ok(o.acts > 80, 'most generated acts are finished acts of the year');
    t.equal(await card('professionals'), String(o.professionals));
    t.equal(await card('consentRefusals'), String(o.consentRefusals));
    t.equal(await card('finishedWithoutReport'), String(o.finishedWithoutReport));
    t.equal(await card('actsWithIncident'), String(o.actsWithIncident));
    for (const m of o.actsByMonth ?? []) {
      t.equal(await page.locator(`[data-month-total="${m.month}"]`).getAttribute('data-value'), String(m.total), `month ${m.month}`);
    }
    t.equal(await page.locator('[data-chart="types"] rect[data-key="teleconsultation"]').getAttribute('data-value'), String(o.actsByType.teleconsultation));
    const departments = await page.locator('[data-chart="departments"] rect').evaluateAll((rects) => rects.map((r) => [r.getAttribute('data-key'), r.getAttribute('data-value')]));
    t.same(departments, expected.groups.map((g) => [g.key, String(g.indicators.acts)]));
    t.match(await page.locator('#status').textContent(), /Période du 01\/01\/2025/);
    t.notOk(await page.isVisible('#credentials'), 'no authentication: no key asked');
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });

    const first = expected.groups[0];
    if (first === undefined) throw new Error('no department');
    await page.selectOption('#department', first.key);
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.click('button[type="submit"]');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    t.equal(await card('acts'), String(first.indicators.acts), `department ${first.key}`);
    await page.screenshot({ path: `test-output/dashboard-${first.key}.png`, fullPage: true });
    await page.close();
  });

  t.test('with authentication on, the page asks for a key, keeps it for the tab only, then shows the indicators', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1100 }, locale: 'fr-FR' });
    const page = await context.newPage();
    const sent: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/v1/indicators')) sent.push(request.headers()['x-api-key']);
    });
    const settled = async (state: string) => page.waitForSelector(`body[data-ready="${state}"]`, { timeout: 30_000 });
    const submitKey = async (key: string) => {
      await page.evaluate('document.body.dataset.ready = "false"');
      await page.fill('#secret', key);
      await page.click('#credentials button[type="submit"]');
    };
    await page.goto(`${securedAddress}/dashboard?from=${period.from}&to=${period.to}`);
    await settled('auth');
    t.ok(await page.isVisible('#credentials'), 'the key form is shown on 401');
    t.match(await page.locator('#status').textContent(), /demande une authentification/);
    t.equal(await page.locator('[data-indicator]').count(), 0, 'no figure without a key');
    await page.screenshot({ path: 'test-output/dashboard-auth.png', fullPage: true });

    await submitKey('cle-inconnue-de-ce-service');
    await settled('auth');
    t.match(await page.locator('#credentials-why').textContent(), /n'est pas accepté/, '401 with a key: said so');
    t.equal(await page.evaluate('sessionStorage.length'), 0, 'a refused key is not kept');

    await submitKey(apiKeys[1]?.key ?? '');
    await settled('auth');
    t.match(await page.locator('#credentials-why').textContent(), /ne permet pas de lire les indicateurs.*acts:read/, '403: the missing scope is named');

    await submitKey(apiKeys[0]?.key ?? '');
    await settled('true');
    t.notOk(await page.isVisible('#credentials'), 'the form goes away');
    t.equal(await page.locator('[data-indicator="acts"]').getAttribute('data-value'), String(expected.overall.acts));
    const departments = await page.locator('[data-chart="departments"] rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-key')));
    t.same(departments, expected.groups.map((g) => g.key));
    t.equal(sent.at(-1), apiKeys[0]?.key, 'the key travels in X-API-Key');
    t.equal(await page.evaluate('JSON.stringify(Object.values(sessionStorage))'), JSON.stringify([apiKeys[0]?.key]), 'kept in sessionStorage');
    t.equal(await page.evaluate('localStorage.length'), 0, 'never in localStorage');
    t.notMatch(page.url(), /cle-/, 'never in the URL');
    await page.screenshot({ path: 'test-output/dashboard-authenticated.png', fullPage: true });

    // The same tab reloaded keeps its key; "Oublier ma clé" drops it and the page asks again.
    await page.reload();
    await settled('true');
    await page.click('#forget');
    await settled('auth');
    t.equal(await page.evaluate('sessionStorage.length'), 0);
    await context.close();
  });

  t.test('a bearer token pasted in the form is sent as Authorization: Bearer', async (t) => {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const page = await context.newPage();
    const authorizations: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/v1/indicators')) authorizations.push(request.headers().authorization);
    });
    await page.goto(`${securedAddress}/dashboard?from=${period.from}&to=${period.to}`);
    await page.waitForSelector('body[data-ready="auth"]', { timeout: 30_000 });
    const token = await issuer.sign({ scope: 'acts:read', sub: 'chef-de-projet-ars' });
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.fill('#secret', `Bearer ${token}`);
    await page.click('#credentials button[type="submit"]');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    t.equal(authorizations.at(-1), `Bearer ${token}`);
    t.equal(await page.locator('[data-indicator="acts"]').getAttribute('data-value'), String(expected.overall.acts));
    await context.close();
  });
}
