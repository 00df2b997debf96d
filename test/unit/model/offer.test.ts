import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import t from 'tap';
import { fieldOfPointer, issuesFromSchemaErrors, OFFER_SCHEMA } from '../../../src/model/offer.ts';
import { example, examples } from '../mapping/offer-examples.ts';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

function strictAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strictSchema: true, strictNumbers: true, strictTypes: true, strictTuples: true });
  addFormats(ajv);
  return ajv;
}

const validate = strictAjv().compile(OFFER_SCHEMA);
function errorsOf(body: unknown): ErrorObject[] {
  return validate(body) ? [] : [...(validate.errors ?? [])];
}
function fieldsOf(body: unknown): string[] {
  return issuesFromSchemaErrors(errorsOf(body)).map((i) => `${i.code} ${i.field}`);
}

t.test('the schema compiles where the service uses it', async (t) => {
  t.doesNotThrow(() => strictAjv().compile(OFFER_SCHEMA), 'Ajv 8 in strict mode, types included');
  // Fastify's own Ajv options (@fastify/ajv-compiler defaults), with a logger that records what Ajv would
  // print at every start of the service.
  const logged: unknown[] = [];
  const logger = { log: (...a: unknown[]) => logged.push(a), warn: (...a: unknown[]) => logged.push(a), error: (...a: unknown[]) => logged.push(a) };
  const fastifyAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, addUsedSchema: false, allErrors: false, logger });
  addFormats(fastifyAjv);
  const fastifyValidate = fastifyAjv.compile(OFFER_SCHEMA);
  t.same(logged, [], 'no strict-mode warning');

  t.test('a local code survives removeAdditional (no properties inside oneOf branches)', async (t) => {
    const body = { ...example('gp-teleconsultation'), careMode: { localSystem: 'urn:oid:1.2.250.1.999.2', localCode: 'CS' } };
    t.ok(fastifyValidate(body), JSON.stringify(fastifyValidate.errors));
    t.same(body.careMode, { localSystem: 'urn:oid:1.2.250.1.999.2', localCode: 'CS' });
  });
});

t.test('every example is accepted by the schema', async (t) => {
  t.ok(examples.length >= 5);
  for (const { file, offer } of examples) t.same(errorsOf(offer), [], file);
});

t.test('identifier formats', async (t) => {
  const withStructureFiness = (finess: string) => ({ ...example('gp-teleconsultation'), structure: { finess, name: 'X' } });
  for (const finess of ['290004514', '2A0000014', '2B1234567']) t.same(fieldsOf(withStructureFiness(finess)), [], `FINESS ${finess} accepted`);
  for (const finess of ['29000451', '2900045140', '2C0000014', '29 000 451 4', '2a0000014']) {
    t.same(fieldsOf(withStructureFiness(finess)), ['finess-format structure.finess'], `FINESS ${finess} rejected`);
  }
  const withRpps = (rpps: string) => ({ ...example('gp-teleconsultation'), professionals: [{ rpps, familyName: 'X', profession: { code: '10' } }] });
  t.same(fieldsOf(withRpps('10005234561')), []);
  for (const rpps of ['1000523456', '100052345610', '8100052345', '1000523456A']) t.same(fieldsOf(withRpps(rpps)), ['rpps-format professionals[0].rpps'], rpps);
  const withSiret = (siret: string) => ({ ...example('gp-teleconsultation'), structure: { finess: '290004514', name: 'X', siret } });
  t.same(fieldsOf(withSiret('26350023400012')), []);
  t.same(fieldsOf(withSiret('263500234')), ['siret-format structure.siret']);
});

t.test('address formats', async (t) => {
  const withAddress = (postalCode: string, inseeCode: string) => {
    const offer = example('gp-teleconsultation');
    return { ...offer, sites: [{ name: 'S', address: { lines: ['1 rue X'], postalCode, city: 'C', inseeCode } }] };
  };
  for (const [postal, insee] of [['29000', '29232'], ['20000', '2A004'], ['20200', '2B033'], ['97400', '97411']] as const) {
    t.same(fieldsOf(withAddress(postal, insee)), [], `${postal} ${insee}`);
  }
  t.same(fieldsOf(withAddress('2900', '29232')), ['postal-code-format sites[0].address.postalCode']);
  t.same(fieldsOf(withAddress('29000', '2C004')), ['insee-format sites[0].address.inseeCode']);
  t.same(fieldsOf(withAddress('29000', '2923')), ['insee-format sites[0].address.inseeCode']);
});

t.test('contact formats follow the channel', async (t) => {
  const withContact = (channel: string, value: string) => ({ ...example('gp-teleconsultation'), contacts: [{ channel, value }] });
  const good: [string, string][] = [
    ['landline', '02 98 55 12 34'],
    ['landline', '02.98.55.12.34'],
    ['landline', '0298551234'],
    ['mobile', '+33612345678'],
    ['mobile', '+33 6 12 34 56 78'],
    ['fax', '+4930123456'],
    ['email', 'accueil@msp.example.fr'],
    ['mssante', 'dr.martin@medecin.mssante.fr'],
    ['web', 'https://msp.example.fr/rdv'],
  ];
  for (const [channel, value] of good) t.same(fieldsOf(withContact(channel, value)), [], `${channel} ${value}`);
  const bad: [string, string][] = [
    ['landline', '02 98 55 12'],
    ['mobile', '12345'],
    ['mobile', '+33 0 12 34 56 78'],
    ['email', 'accueil(at)msp.fr'],
    ['mssante', '02 98 55 12 34'],
    ['web', 'ftp://msp.example.fr'],
    ['web', 'msp.example.fr'],
  ];
  for (const [channel, value] of bad) t.same(fieldsOf(withContact(channel, value)), ['contact-format contacts[0].value'], `${channel} ${value}`);
  t.same(fieldsOf(withContact('pigeon', 'x')), ['not-allowed contacts[0].channel']);
});

t.test('hours and days', async (t) => {
  const withHours = (opens: string, closes: string, days: string[] = ['mon']) => ({ ...example('gp-teleconsultation'), openingHours: [{ days, opens, closes }] });
  t.same(fieldsOf(withHours('00:00', '23:59')), []);
  for (const time of ['24:00', '9:00', '12:60', '12h00']) t.same(fieldsOf(withHours(time, '23:00')), ['time-format openingHours[0].opens'], time);
  t.same(fieldsOf(withHours('09:00', '12:00', ['monday'])), ['not-allowed openingHours[0].days[0]']);
  t.same(fieldsOf(withHours('09:00', '12:00', [])), ['too-few openingHours[0].days']);
  t.same(fieldsOf(withHours('09:00', '12:00', ['mon', 'mon'])), ['duplicate openingHours[0].days']);
});

t.test('codes: national or local, never both, never neither', async (t) => {
  const withCareMode = (careMode: unknown) => ({ ...example('gp-teleconsultation'), careMode });
  t.same(fieldsOf(withCareMode({ code: '32' })), []);
  t.same(fieldsOf(withCareMode({ localSystem: 'urn:oid:1.2.250.1.999.2', localCode: 'CS' })), []);
  t.same(fieldsOf(withCareMode({})), ['code-missing careMode']);
  t.same(fieldsOf(withCareMode({ localCode: 'CS' })), ['code-missing careMode']);
  t.same(fieldsOf(withCareMode({ code: '32', localSystem: 'urn:x', localCode: 'CS' })), ['code-ambiguous careMode']);
  t.same(fieldsOf(withCareMode({ code: '32 ' })), ['code-format careMode.code']);
  t.same(fieldsOf(withCareMode('32')), ['type careMode']);
});

t.test('required data and unknown fields are named, each once', async (t) => {
  const offer: Record<string, unknown> = { ...example('gp-teleconsultation'), colour: 'blue' };
  delete offer.name;
  delete offer.sensitiveUnit;
  const issues = issuesFromSchemaErrors(errorsOf(offer));
  t.same(
    issues.map((i) => `${i.code} ${i.field}`),
    ['missing name', 'missing sensitiveUnit', 'unknown-field colour'],
  );
  for (const issue of issues) {
    t.equal(issue.severity, 'error');
    t.match(issue.message, /^[A-ZÀ-Ý].*\.$/u, 'a French sentence');
  }
  t.same(fieldsOf({ ...example('gp-teleconsultation'), sites: [] }), ['too-few sites']);
  t.same(fieldsOf({ ...example('gp-teleconsultation'), name: '   ' }), ['format name'], 'a blank name is no name');
  t.same(fieldsOf([]), ['type (corps)']);
});

t.test('JSON pointers become body paths', async (t) => {
  t.equal(fieldOfPointer(''), '');
  t.equal(fieldOfPointer('/professionals/1/rpps'), 'professionals[1].rpps');
  t.equal(fieldOfPointer('/openingHours/0/days/3'), 'openingHours[0].days[3]');
  t.equal(fieldOfPointer('/a~1b/c~0d'), 'a/b.c~d');
});
