// The dashboard in a real browser (headless Chromium through playwright-core): the page served by the
// app on 127.0.0.1 (random port), on the embedded store filled with generated acts, shows the numbers
// /v1/indicators computes; the department filter narrows them. A screenshot is saved to
// test-output/dashboard.png for a person to look at. Without /usr/bin/chromium the test is skipped
// loudly, unless REQUIRE_CHROMIUM=1 makes that a failure.
import { existsSync, mkdirSync } from 'node:fs';
import t from 'tap';
import { EmbeddedStore } from '../../src/fhir/index.ts';
import { computeIndicators } from '../../src/indicators/index.ts';
import { toActBundle } from '../../src/mapping/act.ts';
import { generateActs } from '../../src/synthetic/acts.ts';
import { testApp } from '../support/app.ts';

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
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  t.teardown(async () => {
    await browser.close();
    await app.close();
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
}
