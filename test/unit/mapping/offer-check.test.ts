import t from 'tap';
import type { Offer, OfferIssue } from '../../../src/model/offer.ts';
import {
  checkOffer,
  finessKeyValid,
  luhnValid,
  normalizeOffer,
  rppsKeyValid,
  siretKeyValid,
  toOfferBundle,
  validateOffer,
  type LocalCodeTranslator,
} from '../../../src/mapping/index.ts';
import { example, examples, invalidExamples, NOW } from './offer-examples.ts';

const summary = (issues: readonly OfferIssue[]): string[] => issues.map((i) => `${i.severity} ${i.code} ${i.field}`).sort();
const errorsOf = (offer: Offer): string[] => checkOffer(offer).filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.field}`);

t.test('FINESS key: Luhn on 9 digits, as published numbers show', async (t) => {
  // Published FINESS numbers (AP-HP, Hospices civils de Lyon, CHU de Bordeaux, CHRU de Rennes).
  for (const finess of ['750712184', '690781810', '330781196', '350005179']) t.equal(finessKeyValid(finess), true, finess);
  for (const finess of ['750712185', '690781811', '330781169', '350005197']) t.equal(finessKeyValid(finess), false, `${finess} (one digit off or two swapped)`);
  t.equal(finessKeyValid('2A0000014'), undefined, 'Corsica: no rule that could be checked, so no verdict');
  t.equal(finessKeyValid('2B9999999'), undefined);
});

t.test('RPPS and SIRET keys', async (t) => {
  t.equal(rppsKeyValid('10005234561'), true);
  t.equal(rppsKeyValid('10005234562'), false);
  t.equal(rppsKeyValid('1000523456'), false, 'ten digits');
  t.equal(siretKeyValid('26350023400012'), true);
  t.equal(siretKeyValid('26350023400013'), false);
  t.equal(luhnValid('35600000000001'), false);
  t.equal(siretKeyValid('35600000000001'), true, "La Poste: digits adding up to a multiple of 5");
  t.equal(luhnValid('12a4'), false, 'digits only');
});

t.test('every example passes the rules without error', async (t) => {
  for (const { file, offer } of examples) {
    t.same(errorsOf(offer), [], file);
    const result = validateOffer(offer);
    t.equal(result.ok, true, `${file} validates end to end`);
  }
});

t.test('every invalid example gives exactly the issues it documents, all at once', async (t) => {
  t.ok(invalidExamples.length >= 5);
  for (const { file, expect, offer } of invalidExamples) {
    const result = validateOffer(offer);
    t.equal(result.ok, false, file);
    if (result.ok) continue;
    t.equal(result.status, expect.status, `${file}: status`);
    t.same(summary(result.issues), summary(expect.issues as OfferIssue[]), `${file}: issues`);
    for (const issue of result.issues) {
      t.ok(issue.field.length > 0, `${file}: ${issue.code} names a field`);
      t.match(issue.message, /^[A-ZÀ-Ý«].*[.»)]$/u, `${file}: ${issue.code} says it in a French sentence`);
    }
  }
});

t.test('codes: unknown, outside the ROR value set, deprecated', async (t) => {
  const offer = example('gp-teleconsultation');
  t.same(errorsOf({ ...offer, careMode: { code: '99' } }), ['unknown-code careMode.code']);
  t.same(errorsOf({ ...offer, careMode: { code: '03' } }), ['code-not-allowed careMode.code'], 'deprecated and out of JDV_J19');
  const soinsADomicile = checkOffer({ ...offer, receptionModalities: [{ code: '27' }] });
  t.same(summary(soinsADomicile), ['warning deprecated-code receptionModalities[0].code'], 'R338 27 is deprecated yet still in JDV_J226: a warning');
  t.same(errorsOf({ ...offer, specificActs: [{ code: '0988' }] }), ['telehealth-code-in-list specificActs[0].code'], 'a keyword code given as an act');
  t.same(errorsOf({ ...offer, activityField: { code: '06' } }), [], 'Social (2026) is in JDV_J20');
});

t.test('local codes are translated through the caller, or named', async (t) => {
  const LOCAL = 'urn:oid:1.2.250.1.999.2';
  const translate: LocalCodeTranslator = (system, code, target) =>
    system === LOCAL && code === 'CONSULT' && target.includes('TRE_R213') ? '32' : system === LOCAL && code === 'VIEUX' ? '26' : undefined;
  const offer: Offer = { ...example('gp-teleconsultation'), careMode: { localSystem: LOCAL, localCode: 'CONSULT' } };
  t.same(errorsOf(offer), ['unknown-local-code careMode.localCode'], 'no translator');
  t.same(checkOffer(offer, { translate }), [], 'translated to 32');
  t.same(normalizeOffer(offer, { translate }).careMode, { code: '32' }, 'the normal form holds the national code');
  const bundle = toOfferBundle(offer, { now: NOW, translate });
  t.ok(JSON.stringify(bundle).includes('"code":"32"'));
  const old: Offer = { ...offer, careMode: { localSystem: LOCAL, localCode: 'VIEUX' } };
  const issue = checkOffer(old, { translate })[0];
  t.equal(issue?.code, 'code-not-allowed', 'a translation into a retired code is caught too');
  t.equal(issue?.field, 'careMode.localCode');
  t.match(issue?.message ?? '', /traduit de « VIEUX »/);
});

t.test('opening hours', async (t) => {
  const offer = example('gp-teleconsultation');
  const withHours = (openingHours: Offer['openingHours']): Offer => ({ ...offer, openingHours });
  t.same(errorsOf(withHours([{ days: ['mon'], opens: '12:00', closes: '12:00' }])), ['hours-order openingHours[0].closes'], 'empty slot');
  t.same(
    errorsOf(withHours([{ days: ['mon', 'tue'], opens: '08:00', closes: '12:00' }, { days: ['tue', 'wed'], opens: '11:59', closes: '13:00' }])),
    ['hours-overlap openingHours[1]'],
    'one issue for the pair, on the later entry',
  );
  t.same(errorsOf(withHours([{ days: ['mon'], opens: '08:00', closes: '12:00' }, { days: ['mon'], opens: '12:00', closes: '13:00' }])), [], 'touching is not overlapping');
  t.same(
    errorsOf(
      withHours([
        { days: ['mon'], opens: '08:00', closes: '18:00', hoursType: { code: '01' } },
        { days: ['mon'], opens: '09:00', closes: '12:00', hoursType: { code: '07' } },
      ]),
    ),
    [],
    'consultation hours inside opening hours',
  );
  const message = checkOffer(withHours([{ days: ['fri'], opens: '08:00', closes: '12:00' }, { days: ['fri'], opens: '10:00', closes: '11:00' }]))[0]?.message;
  t.match(message ?? '', /vendredi/, 'the day is named');
});

t.test('telehealth coherence', async (t) => {
  const offer = example('gp-teleconsultation');
  t.same(errorsOf({ ...offer, modalities: ['teleexpertise'], teleexpertiseDelay: 'lt24h' }), []);
  const gt7d = checkOffer({ ...offer, modalities: ['teleexpertise'], teleexpertiseDelay: 'gt7d' });
  t.same(summary(gt7d), ['warning teleexpertise-delay-deprecated teleexpertiseDelay']);
  t.same(errorsOf({ ...offer, modalities: ['telesurveillance'], careMode: { code: '37' } }), [], 'care mode 37 is enough');
  t.same(errorsOf({ ...offer, modalities: ['telesurveillance'], specificActs: [{ code: '1486' }] }), [], 'an act is enough');
  t.same(errorsOf({ ...offer, specificActs: [{ code: '1486' }] }), ['telesurveillance-act-without-modality modalities']);
  t.same(errorsOf({ ...offer, modalities: ['regulation'], careMode: { code: '27' } }), []);
  t.same(errorsOf({ ...offer, careMode: { code: '27' } }), ['care-mode-without-modality modalities']);
  t.same(errorsOf({ ...offer, modalities: ['teleassistance'] }), [], 'téléassistance under another care mode: act 0824');
});

t.test('sites and professionals', async (t) => {
  const offer = example('multisite-cardiologie');
  const [first] = offer.sites;
  if (first === undefined) throw new Error('example without site');
  t.same(errorsOf({ ...offer, sites: [first, first] }), ['site-duplicate sites[1].finess']);
  const sensitive = checkOffer({ ...offer, sensitiveUnit: true });
  t.same(summary(sensitive), ['warning sensitive-public-contact contacts[0].confidentiality'], 'only the public contact is flagged');
});

t.test('validateOffer: one answer, the right status', async (t) => {
  const ok = validateOffer(example('ehpad-telesurveillance'));
  t.equal(ok.ok, true);
  const schemaAndRules = validateOffer({ ...example('gp-teleconsultation'), careMode: { code: '99' }, structure: { finess: '29000451', name: 'X' } });
  t.equal(schemaAndRules.ok, false);
  if (!schemaAndRules.ok) {
    t.equal(schemaAndRules.status, 400, 'a schema error makes it a 400');
    t.same(summary(schemaAndRules.issues), ['error finess-format structure.finess', 'error unknown-code careMode.code'], 'the rule error is named in the same answer');
  }
  const rulesOnly = validateOffer({ ...example('gp-teleconsultation'), careMode: { code: '99' } });
  t.equal(rulesOnly.ok === false && rulesOnly.status, 422);
  const warned = validateOffer({ ...example('gp-teleconsultation'), receptionModalities: [{ code: '27' }] });
  t.same(warned.ok && summary(warned.warnings), ['warning deprecated-code receptionModalities[0].code'], 'warnings do not block');
  t.equal(validateOffer('not an offer').ok, false);
  t.equal(validateOffer(null).ok, false);
});

t.test('no body makes the check throw (a 400 or 422, never a 500)', async (t) => {
  const { default: fc } = await import('fast-check');
  const base = example('multisite-cardiologie') as unknown as Record<string, unknown>;
  const keys = Object.keys(base);
  fc.assert(
    fc.property(fc.jsonValue(), (body) => {
      const result = validateOffer(body);
      return result.ok === false && result.issues.length > 0;
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
      const result = validateOffer({ ...base, [key]: value });
      // A replaced field is either still valid or named in the answer.
      return result.ok || result.issues.some((i) => i.field === key || i.field.startsWith(`${key}.`) || i.field.startsWith(`${key}[`));
    }),
    { numRuns: 500 },
  );
  t.pass('fuzzed');
});
