// The dashboard in a real browser (headless Chromium through playwright-core): the page served by the
// app on 127.0.0.1 (random port), on the embedded store filled with generated acts of 2024 and 2025, with
// the service's clock in January 2026. By default it shows the last 12 complete months (2025) by region,
// with the region and department names, rates with "%", and beside each figure the previous period (2024):
// Δ and %. The filters (act type, profession, region, department, structure, period, grouping) change the
// figures as /v1/indicators computes them; every control is reached and operated with the keyboard, with a
// visible focus; axe-core finds no serious or critical accessibility violation. With authentication on,
// the page asks for an API key or a token (the form /deliveries shares), keeps it in sessionStorage only,
// and then shows the same numbers. Screenshots (1400×1000, 390×844, full pages) are saved to
// test-output/dashboard/ for a person to look at. Without /usr/bin/chromium the test is skipped loudly,
// unless REQUIRE_CHROMIUM=1 makes that a failure.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import t from 'tap';
import { EmbeddedStore } from '../../src/fhir/index.ts';
import { computeIndicators } from '../../src/indicators/index.ts';
import { toActBundle } from '../../src/mapping/act.ts';
import { toOfferBundle } from '../../src/mapping/offer.ts';
import { generateActs, generateOffers } from '../../src/synthetic/index.ts';
import { testApp } from '../support/app.ts';
import { testIssuer } from '../support/auth.ts';

const CHROMIUM = '/usr/bin/chromium';

type App = Awaited<ReturnType<typeof testApp>>['app'];

/** Rebuilds the app's indicators projection from its store (POST /v1/indicators/$rebuild) and waits for the end. */
async function rebuilt(app: App, headers: Record<string, string> = {}): Promise<void> {
  const started = await app.inject({ method: 'POST', url: '/v1/indicators/$rebuild', headers });
  if (started.statusCode !== 202) throw new Error(`rebuild: ${started.statusCode} ${started.body}`);
  for (;;) {
    const state = (await app.inject({ method: 'GET', url: '/v1/indicators/$rebuild', headers })).json() as { running: boolean; error?: string };
    if (state.error !== undefined) throw new Error(state.error);
    if (!state.running) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!existsSync(CHROMIUM)) {
  if (process.env.REQUIRE_CHROMIUM === '1') throw new Error(`REQUIRE_CHROMIUM=1 but ${CHROMIUM} is absent (apt-get install -y chromium)`);
  console.error(`\n*** DASHBOARD BROWSER TEST SKIPPED: ${CHROMIUM} is absent (apt-get install -y chromium). Set REQUIRE_CHROMIUM=1 to make this a failure. ***\n`);
  t.plan(0, 'no Chromium');
} else {
  const { chromium } = await import('playwright-core');
  const store = new EmbeddedStore();
  // 2025, the default period at the clock below, and 2024, the period it is compared with.
  for (const [count, year] of [[120, 2025], [70, 2024]] as const) {
    for (const act of generateActs({ count, seed: year, year, idPrefix: `tb${year}` })) {
      await store.transaction(toActBundle(act, { receivedAt: '2026-01-02T00:00:00Z' }).bundle);
    }
  }
  // Offers, for the ROR fill rate and the structures with a telehealth offer.
  for (const offer of generateOffers(12, { seed: 2025, prefix: 'TB' })) await store.transaction(toOfferBundle(offer, { now: '2024-06-01T00:00:00+02:00' }));
  const clock = () => new Date('2026-01-15T10:00:00Z');
  const { app } = await testApp({}, store, { clock });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  // The acts went straight into the store: the projection the dashboard reads is rebuilt from it.
  await rebuilt(app);
  const issuer = await testIssuer();
  const apiKeys = [
    { id: 'pilotage-ars', key: 'cle-ars-indicateurs-7f3a9c2e41d8b6', scopes: ['acts:read'] },
    { id: 'dpi-ecriture', key: 'cle-dpi-ecriture-0b5e8d1c7a2f94', scopes: ['acts:write'] },
    { id: 'admin', key: 'cle-admin-reconstruction-5d2e9a', scopes: ['deliveries:admin'] },
  ];
  const secured = (await testApp({}, store, { auth: { issuer, apiKeys }, clock })).app;
  const securedAddress = await secured.listen({ host: '127.0.0.1', port: 0 });
  await rebuilt(secured, { 'x-api-key': 'cle-admin-reconstruction-5d2e9a' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  t.teardown(async () => {
    await browser.close();
    await app.close();
    await secured.close();
    await store.close();
  });
  const period = { from: '2025-01-01', to: '2026-01-01' };
  const expected = await computeIndicators(store, { ...period, groupBy: 'region' });
  const before = await computeIndicators(store, { from: '2024-01-01', to: '2025-01-01', groupBy: 'region' });
  const fr = (n: number) => n.toLocaleString('fr-FR').replace(/\s/g, ' ');
  const OUT = 'test-output/dashboard';
  mkdirSync(OUT, { recursive: true });
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  type Page = Awaited<ReturnType<typeof browser.newPage>>;
  /** axe-core run in the page (through the DevTools protocol, as the page's CSP lets no other script in). */
  async function seriousViolations(page: Page): Promise<string[]> {
    await page.evaluate(axeSource);
    const violations = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) })))')) as { id: string; impact: string; nodes: string[] }[];
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).join(', ')}`);
  }
  const ready = (page: Page) => page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  const cardValue = (page: Page, key: string) => page.locator(`[data-indicator="${key}"]`).getAttribute('data-value');
  /** Sets filters and submits, as a person would with the mouse; the keyboard has its own test. */
  async function show(page: Page, choices: Record<string, string>): Promise<void> {
    for (const [id, value] of Object.entries(choices)) {
      if (id === 'from' || id === 'to') await page.fill(`#${id}`, value);
      else await page.selectOption(`#${id}`, value);
    }
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.click('#filters button[type="submit"]');
    await ready(page);
  }

  t.test('by default: the last 12 complete months by region, with names, rates in % and the previous period', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: 'fr-FR' });
    await page.goto(`${address}/dashboard`);
    await ready(page);
    t.equal(await page.inputValue('#from'), period.from, 'from: the first of 12 complete months before the clock');
    t.equal(await page.inputValue('#to'), period.to);
    t.equal(await page.inputValue('#groupBy'), 'region', 'grouped by region');
    const o = expected.overall;
    t.ok(o.acts > 80, 'most generated acts are finished acts of the year');
    for (const key of ['acts', 'professionals', 'consentRefusals', 'finishedWithoutReport', 'patientsTelesurveillance6Months'] as const) {
      t.equal(await cardValue(page, key), String(o[key]), key);
    }
    for (const m of o.actsByMonth ?? []) {
      t.equal(await page.locator(`[data-month-total="${m.month}"]`).getAttribute('data-value'), String(m.total), `month ${m.month}`);
    }
    t.equal(await page.locator('[data-chart="types"] rect[data-key="teleconsultation"]').getAttribute('data-value'), String(o.actsByType.teleconsultation));
    const rows = await page.locator('#groups tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-group'), tr.querySelector('th')?.textContent, tr.querySelector('[data-acts]')?.getAttribute('data-acts')]));
    t.same(rows, expected.groups.map((g) => [g.key, g.label, String(g.indicators.acts)]), 'one row per region, by name');
    t.ok(expected.groups.length > 1, 'acts or offers in several regions');
    for (const [, label] of rows) t.notMatch(label, /^(Région|Département) \d/, `a name, not a code: ${label}`);
    t.match(await page.locator('#groups caption').textContent(), /Indicateurs par région, du 01\/01\/2025 au 01\/01\/2026/);
    t.match(await page.locator('[data-indicator="fillRate"] .value').textContent(), /^[\d ,]+ %$/, 'the ROR fill rate in %');
    t.match(await page.locator('[data-indicator="incidentRate"] .value').textContent(), /^[\d ,]+ %$/, 'the share of acts with an incident in %');
    const acts = page.locator('[data-indicator="acts"] [data-previous]');
    t.equal(await acts.getAttribute('data-previous'), String(before.overall.acts), 'the previous period (2024) beside the figure');
    const delta = o.acts - before.overall.acts;
    const change = Math.round((delta / before.overall.acts) * 1000) / 10;
    const sign = (n: number) => (n > 0 ? '+' : n < 0 ? '−' : '±');
    t.equal((await acts.textContent())?.replace(/\s/g, ' '), `Période précédente : ${fr(before.overall.acts)} (Δ ${sign(delta)}${fr(Math.abs(delta))}, ${sign(change)}${fr(Math.abs(change))} %)`, 'Δ and %');
    // Green when a figure went the good way: more acts is better, a larger share of acts with an incident worse.
    t.equal(await acts.getAttribute('class'), `previous ${delta > 0 ? 'better' : 'worse'}`, 'more acts: green');
    const rate = (r: { acts: number; actsWithIncident: number | null }) => Math.round(((r.actsWithIncident ?? 0) / r.acts) * 1000) / 10;
    const rates = [rate(o), rate(before.overall)] as const;
    t.not(rates[0], rates[1], 'the share of acts with an incident changed');
    t.equal(await page.locator('[data-indicator="incidentRate"] .previous').getAttribute('class'), `previous ${rates[0] < rates[1] ? 'better' : 'worse'}`, 'fewer incidents: green, more: red');
    t.match(await page.locator('#status').textContent(), /Période du 01\/01\/2025 au 01\/01\/2026 \(exclu\), tous les actes ; comparée au 01\/01\/2024/);
    t.same(await seriousViolations(page), [], 'axe-core: no serious or critical violation at 1400×1000');
    await page.screenshot({ path: `${OUT}/1400x1000.png` });
    await page.screenshot({ path: `${OUT}/1400-full.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    t.same(await seriousViolations(page), [], 'axe-core: none on a phone either');
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    t.equal(overflow, 0, 'no sideways scrolling of the page on a phone (the table scrolls in its own box)');
    await page.screenshot({ path: `${OUT}/390x844.png` });
    await page.screenshot({ path: `${OUT}/390-full.png`, fullPage: true });
    await page.locator('#groups').screenshot({ path: `${OUT}/390-table.png` });
    await page.locator('.charts').screenshot({ path: `${OUT}/390-charts.png` });
    await page.close();
  });

  t.test('the filters change the figures as the API computes them', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: 'fr-FR' });
    await page.goto(`${address}/dashboard`);
    await ready(page);
    const api = async (query: string) => (await app.inject({ method: 'GET', url: `/v1/indicators?from=${period.from}&to=${period.to}&${query}` })).json() as { overall: { acts: number }; groups: { key: string; label: string }[] };
    const total = expected.overall.acts;

    await show(page, { type: 'teleconsultation' });
    t.equal(await cardValue(page, 'acts'), String(expected.overall.actsByType.teleconsultation), 'act type');
    t.match(await page.locator('#status').textContent(), /Téléconsultation ;/, 'the filter named in the status');
    await show(page, { type: '', profession: 'infirmier' });
    const nurses = (await api('profession=infirmier')).overall.acts;
    t.ok(nurses > 0 && nurses < total, 'some acts with a nurse, not all');
    t.equal(await cardValue(page, 'acts'), String(nurses), 'profession');

    const region = expected.groups[0];
    if (region === undefined) throw new Error('no region');
    await show(page, { profession: '', region: region.key });
    t.equal(await cardValue(page, 'acts'), String(region.indicators.acts), `region ${region.label}`);
    const departments = await computeIndicators(store, { ...period, groupBy: 'department' });
    const department = departments.groups[0];
    if (department === undefined) throw new Error('no department');
    await show(page, { region: '', department: department.key, groupBy: 'department' });
    t.equal(await cardValue(page, 'acts'), String(department.indicators.acts), `department ${department.label}`);
    t.same(await page.locator('#groups tbody th').allTextContents(), [department.label], 'grouped by department, named');
    t.match(department.label, /^\d[\dAB]\d? \D/, 'a department is its code and its name');
    const structures = await computeIndicators(store, { ...period, groupBy: 'structure' });
    const structure = structures.groups.find((g) => g.indicators.acts > 0 && g.indicators.acts < total);
    if (structure === undefined) throw new Error('no structure with some of the acts');
    await show(page, { department: '', finess: structure.key, groupBy: 'structure' });
    t.equal(await cardValue(page, 'acts'), String(structure.indicators.acts), `structure ${structure.key}`);
    await page.screenshot({ path: `${OUT}/structure.png`, fullPage: true });

    await show(page, { finess: '', from: '2024-01-01', to: '2025-01-01', groupBy: 'region' });
    t.equal(await cardValue(page, 'acts'), String(before.overall.acts), 'the period');
    t.match(await page.locator('[data-indicator="acts"] [data-previous]').textContent(), /Période précédente : 0 /, '2023 had no act');
    t.match(page.url(), /from=2024-01-01&to=2025-01-01/, 'the view is in the address, to share');
    await page.close();
  });

  t.test('every control is reached and operated with the keyboard, with a visible focus', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: 'fr-FR' });
    await page.goto(`${address}/dashboard`);
    await ready(page);
    const reached: string[] = [];
    for (let i = 0; i < 30 && !reached.includes('groups'); i++) {
      await page.keyboard.press('Tab');
      const focused = (await page.evaluate(`(() => { const e = document.activeElement; const s = getComputedStyle(e);
        return { id: e.id || e.tagName, outline: s.outlineStyle, width: s.outlineWidth }; })()`)) as { id: string; outline: string; width: string };
      t.not(focused.outline, 'none', `${focused.id}: a visible focus`);
      reached.push(focused.id);
    }
    const controls = ['from', 'to', 'type', 'profession', 'region', 'department', 'finess', 'groupBy', 'csv', 'groups'];
    for (const id of controls) t.ok(reached.includes(id), `${id} reached by Tab`);
    t.ok(reached.indexOf('type') < reached.indexOf('groupBy') && reached.indexOf('groupBy') < reached.indexOf('csv'), 'in reading order');
    // Choose an act type with the arrow key, then Tab to the button and press Space.
    await page.focus('#type');
    await page.keyboard.press('ArrowDown');
    t.equal(await page.inputValue('#type'), 'teleconsultation');
    while ((await page.evaluate('document.activeElement.type')) !== 'submit') await page.keyboard.press('Tab');
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.keyboard.press('Space');
    await ready(page);
    t.equal(await cardValue(page, 'acts'), String(expected.overall.actsByType.teleconsultation), 'the form submitted from the keyboard');
    await page.keyboard.press('Shift+Tab');
    await page.screenshot({ path: `${OUT}/focus.png`, clip: { x: 0, y: 0, width: 1400, height: 260 } });
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
    await page.goto(`${securedAddress}/dashboard`);
    await settled('auth');
    t.ok(await page.isVisible('#credentials'), 'the key form is shown on 401');
    t.match(await page.locator('#status').textContent(), /demande une authentification/);
    t.equal(await page.locator('[data-indicator]').count(), 0, 'no figure without a key');
    t.same(await seriousViolations(page), [], 'axe-core: the key form too');
    await page.screenshot({ path: `${OUT}/auth.png`, fullPage: true });

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
    const regions = await page.locator('[data-chart="groups"] rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-key')));
    t.same(regions, expected.groups.map((g) => g.key));
    t.equal(sent.at(-1), apiKeys[0]?.key, 'the key travels in X-API-Key');
    t.equal(await page.evaluate('JSON.stringify(Object.values(sessionStorage))'), JSON.stringify([apiKeys[0]?.key]), 'kept in sessionStorage');
    t.equal(await page.evaluate('localStorage.length'), 0, 'never in localStorage');
    t.notMatch(page.url(), /cle-/, 'never in the URL');
    await page.screenshot({ path: `${OUT}/authenticated.png`, fullPage: true });

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
    await page.goto(`${securedAddress}/dashboard`);
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
