// The delivery console (/deliveries) in a real browser (headless Chromium through playwright-core), on
// an app whose FHIR store refuses writes as HAPI would (422 with an OperationOutcome and its expressions),
// then is down, then is fixed: dead letters by source system with the server's reasons, the pending one,
// a replay that delivers, a discard that is audited; with authentication on, the page asks for a key with
// deliveries:admin. Screenshots go to test-output/console*.png for a person to look at. Without
// /usr/bin/chromium the test is skipped loudly, unless REQUIRE_CHROMIUM=1 makes that a failure.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore, FhirStoreError } from '../../src/fhir/index.ts';
import type { CallContext } from '../../src/fhir/index.ts';
import type { Act } from '../../src/model/act.ts';
import { testApp } from '../support/app.ts';
import { testIssuer } from '../support/auth.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const act = JSON.parse(readFileSync(new URL('../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const SOURCE_A = act.source;
const SOURCE_B = 'https://dpi.ehpad-les-tilleuls.example.fr';

/** The embedded store, whose transactions fail as the test says (act writes only: audit records go through). */
class FlakyStore extends EmbeddedStore {
  failure: FhirStoreError | undefined;
  override async transaction(bundle: Bundle, ctx?: CallContext): Promise<Bundle> {
    const audit = bundle.entry?.every((entry) => entry.resource?.resourceType === 'AuditEvent') ?? false;
    if (this.failure !== undefined && !audit) throw this.failure;
    return super.transaction(bundle, ctx);
  }
}

const refusal = new FhirStoreError('invalid', 'HAPI refused the transaction', {
  status: 422,
  outcome: {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'processing',
        diagnostics: 'HAPI-0574: Encounter.serviceProvider: reference to Organization/ORG-INCONNUE could not be resolved',
        expression: ['Bundle.entry[0].resource.serviceProvider'],
      },
    ],
  },
});

if (!existsSync(CHROMIUM)) {
  if (process.env.REQUIRE_CHROMIUM === '1') throw new Error(`REQUIRE_CHROMIUM=1 but ${CHROMIUM} is absent (apt-get install -y chromium)`);
  console.error(`\n*** CONSOLE BROWSER TEST SKIPPED: ${CHROMIUM} is absent (apt-get install -y chromium). Set REQUIRE_CHROMIUM=1 to make this a failure. ***\n`);
  t.plan(0, 'no Chromium');
} else {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  t.teardown(() => browser.close());
  mkdirSync('test-output', { recursive: true });

  t.test('dead letters by source with their reasons, the pending one; replay delivers, discard removes and is audited', async (t) => {
    const store = new FlakyStore();
    // Audit records wait (AUDIT_FLUSH_MS): one delivered while the page loads would close the breaker.
    const { app, logs } = await testApp({ DELIVERY_WAIT_MS: '3000', DELIVERY_BREAKER_THRESHOLD: '1', DELIVERY_BREAKER_COOLDOWN_MS: '4000', AUDIT_FLUSH_MS: '60000' }, store);
    t.teardown(() => app.close());
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    // Audit records fall due on a grid of AUDIT_FLUSH_MS (60 s): started less than 30 s before a minute's
    // end, the records of the requests below would be delivered while the page loads (a CI run saw the
    // breaker closed so). Start just after the minute turns instead.
    const toNextMinute = 60_000 - (Date.now() % 60_000);
    if (toNextMinute < 30_000) await new Promise((resolve) => setTimeout(resolve, toNextMinute + 200));
    store.failure = refusal;
    const post = async (source: string, actId: string) => (await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, source, actId } })).statusCode;
    t.same([await post(SOURCE_A, 'TC-A-1'), await post(SOURCE_A, 'TC-A-2'), await post(SOURCE_B, 'TC-B-1')], [422, 422, 422], 'three refused');
    store.failure = new FhirStoreError('unavailable', 'connection refused');
    t.equal(await post(SOURCE_A, 'TC-A-3'), 202, 'one waiting for the server');

    const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, locale: 'fr-FR' });
    page.on('dialog', (dialog) => void dialog.accept());
    const settled = () => page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.goto(`${address}/deliveries`);
    await settled();
    t.equal(await page.locator('[data-count="dead"] strong').textContent(), '3');
    t.equal(await page.locator('[data-count="pending"] strong').textContent(), '1');
    // Half-open once its 4 s cooldown has passed, if the page took that long on a loaded machine.
    t.match(await page.locator('[data-breaker]').getAttribute('data-breaker'), /^(open|half-open)$/, 'the breaker opened on the server down');
    const sections = await page.locator('section.source').evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-source'), n.querySelectorAll('tr[data-delivery]').length]));
    t.same(sections, [[SOURCE_A, 2], [SOURCE_B, 1]], 'grouped by source system');
    const reason = await page.locator(`section[data-source="${SOURCE_B}"] td.reason`).textContent();
    t.match(reason, /HTTP 422/, "the service's status");
    t.match(reason, /HAPI-0574/, "the FHIR server's diagnostics");
    t.match(reason, /Bundle\.entry\[0\]\.resource\.serviceProvider/, 'with its expression');
    await page.screenshot({ path: 'test-output/console-dead.png', fullPage: true });

    await page.selectOption('#status', 'pending');
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.click('#filters button[type="submit"]');
    await settled();
    const pendingRows = page.locator('tr[data-status="pending"]');
    t.equal(await pendingRows.count(), 1);
    t.match(await pendingRows.first().textContent(), /TC-A-3/);
    t.match(await pendingRows.first().locator('td.reason').textContent(), /HTTP 503/, 'why it waits');
    t.equal(await pendingRows.first().locator('button').count(), 0, 'no replay nor discard for a pending message');
    await page.screenshot({ path: 'test-output/console-pending.png', fullPage: true });

    // The server is fixed: replay the dead letter of B; discard one of A.
    store.failure = undefined;
    await page.selectOption('#status', 'dead');
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.click('#filters button[type="submit"]');
    await settled();
    const bId = await page.locator(`section[data-source="${SOURCE_B}"] tr[data-delivery]`).getAttribute('data-delivery');
    await page.click(`tr[data-delivery="${bId}"] button[data-action="replay"]`);
    // A locator waits without evaluating strings in the page: waitForFunction('…') polls by eval, which the
    // page's CSP (no 'unsafe-eval') refuses whenever the first check is false (a loaded machine).
    await page.locator('#status-line', { hasText: 'rejouée' }).waitFor({ timeout: 30_000 });
    t.equal(await page.locator(`section[data-source="${SOURCE_B}"]`).count(), 0, 'replayed: no longer a dead letter');
    let replayed = '';
    for (let i = 0; i < 600 && replayed !== 'delivered'; i++) {
      replayed = (await app.inject({ method: 'GET', url: `/v1/deliveries/${bId}` })).json().status;
      if (replayed !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.equal(replayed, 'delivered', 'the replayed act reached the store');

    const aId = await page.locator(`section[data-source="${SOURCE_A}"] tr[data-delivery]`).first().getAttribute('data-delivery');
    await page.click(`tr[data-delivery="${aId}"] button[data-action="discard"]`);
    await page.locator('#status-line', { hasText: 'abandonnée' }).waitFor({ timeout: 30_000 });
    await page.locator(`tr[data-delivery="${aId}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    t.equal(await page.locator(`section[data-source="${SOURCE_A}"] tr[data-delivery]`).count(), 1, 'one dead letter of A left');
    t.equal((await app.inject({ method: 'GET', url: `/v1/deliveries/${aId}` })).statusCode, 404, 'discarded for good');
    t.match(logs(), /"method":"DELETE","route":"\/v1\/deliveries\/:id","status":200\}.*"msg":"write audited"/, 'the discard is audited');
    await page.screenshot({ path: 'test-output/console-after.png', fullPage: true });
    await page.close();
  });

  t.test('with authentication on, the console asks for a key with deliveries:admin', async (t) => {
    const issuer = await testIssuer();
    const apiKeys = [
      { id: 'dpi', key: 'cle-dpi-ecriture-0b5e8d1c7a2f94', scopes: ['acts:write'] },
      { id: 'exploitation', key: 'cle-exploitation-3c9d7e1a5b', scopes: ['deliveries:admin'] },
    ];
    const store = new FlakyStore();
    const { app } = await testApp({ DELIVERY_WAIT_MS: '3000' }, store, { auth: { issuer, apiKeys } });
    t.teardown(() => app.close());
    store.failure = refusal;
    const posted = await app.inject({ method: 'POST', url: '/v1/acts', headers: { 'x-api-key': 'cle-dpi-ecriture-0b5e8d1c7a2f94' }, payload: { ...act, actId: 'TC-AUTH-1' } });
    t.equal(posted.statusCode, 422);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const context = await browser.newContext({ viewport: { width: 1360, height: 700 }, locale: 'fr-FR' });
    const page = await context.newPage();
    const state = (value: string) => page.waitForSelector(`body[data-ready="${value}"]`, { timeout: 30_000 });
    await page.goto(`${address}/deliveries`);
    await state('auth');
    t.ok(await page.isVisible('#credentials'), 'asks for a key');
    t.equal(await page.locator('tr[data-delivery]').count(), 0, 'shows nothing without one');
    await page.screenshot({ path: 'test-output/console-auth.png', fullPage: true });
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.fill('#secret', 'cle-dpi-ecriture-0b5e8d1c7a2f94');
    await page.click('#credentials button[type="submit"]');
    await state('auth');
    t.match(await page.locator('#credentials-why').textContent(), /deliveries:admin/, 'a key without the scope: the scope is named');
    await page.evaluate('document.body.dataset.ready = "false"');
    await page.fill('#secret', 'cle-exploitation-3c9d7e1a5b');
    await page.click('#credentials button[type="submit"]');
    await state('true');
    t.equal(await page.locator('tr[data-delivery]').count(), 1, 'the dead letter, once the key fits');
    t.match(await page.locator('section.source').getAttribute('data-source'), 'dpi', 'the source of an act is its source system');
    t.equal(await page.evaluate('localStorage.length'), 0, 'never in localStorage');
    await context.close();
  });
}
