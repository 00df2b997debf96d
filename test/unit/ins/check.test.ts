import t from 'tap';
import { checkIns, INS_ISSUE_CODES, nirKey, type InsCheckResult, type InsIssueCode } from '../../../src/ins/index.ts';
import { withKey } from './generators.ts';

const codes = (r: InsCheckResult): InsIssueCode[] => r.issues.map((i) => i.code);

// Real-shaped numbers, keys from the BigInt oracle (generators.ts), never from the code under test.
const MALE_SEINE_MARITIME = '184127645108946'; // 1 84 12 76 451 089 46
const FEMALE_DEUX_SEVRES = '269054958815780'; // the worked example of the French Wikipedia article

t.test('nirKey', async (t) => {
  t.equal(nirKey('1841276451089'), 46);
  t.equal(nirKey('2690549588157'), 80);
  t.equal(nirKey('1550814168025'), 88);
  t.test('Corsica: 2A is read as 19 and 2B as 18', async (t) => {
    t.equal(nirKey('185052A004123'), 56);
    t.equal(nirKey('185052A004123'), nirKey('1850519004123'), '2A shares its key with the raw 19 twin');
    t.equal(nirKey('185052B004123'), 83);
    t.equal(nirKey('185052B004123'), nirKey('1850518004123'));
    t.not(nirKey('185052A004123'), nirKey('1850520004123'), '2A is not read as 20');
  });
  t.test('the key range ends are reachable: 97 when the number is a multiple of 97, 01 just below', async (t) => {
    // the first multiple of 97 from 1 00 01 01 001 000 on, found with BigInt rather than with the code under test
    const base = 1000101001000n;
    const multiple = base + ((97n - (base % 97n)) % 97n);
    t.equal(nirKey(String(multiple)), 97);
    t.equal(nirKey(String(multiple - 1n)), 1);
  });
  t.throws(() => nirKey('184127645108'), RangeError, 'too short');
  t.throws(() => nirKey('18412764510894'), RangeError, 'too long');
  t.throws(() => nirKey('1841276451O89'), RangeError, 'letter O for zero');
  t.throws(() => nirKey('1A41276451089'), RangeError, 'letter outside the department');
  t.throws(() => nirKey('185051A004123'), RangeError, 'A not after 2');
});

t.test('a valid number with the default OID', async (t) => {
  const r = checkIns({ ins: MALE_SEINE_MARITIME });
  t.same(r, { valid: true, ins: MALE_SEINE_MARITIME, kind: 'INS-NIR', oid: 'urn:oid:1.2.250.1.213.1.4.8', test: false, issues: [] });
  t.ok(checkIns({ ins: FEMALE_DEUX_SEVRES }).valid);
});

t.test('length: exactly 15 characters once outer whitespace is removed', async (t) => {
  const outer = checkIns({ ins: `  ${MALE_SEINE_MARITIME}\t\n` });
  t.ok(outer.valid, 'outer whitespace is dropped');
  t.equal(outer.ins, MALE_SEINE_MARITIME, 'and the trimmed number is returned');

  const spaced = checkIns({ ins: '1 84 12 76 451 089 46' });
  t.same(codes(spaced), ['INS_LENGTH']);
  t.match(spaced.issues[0]?.message, /retirez les espaces/);

  t.same(codes(checkIns({ ins: MALE_SEINE_MARITIME.slice(0, 14) })), ['INS_LENGTH']);
  t.same(codes(checkIns({ ins: `${MALE_SEINE_MARITIME}0` })), ['INS_LENGTH']);
  t.match(checkIns({ ins: '1841276451089' }).issues[0]?.message, /il en compte 13/);
  t.same(codes(checkIns({ ins: '' })), ['INS_MISSING']);
  t.same(codes(checkIns({ ins: '   ' })), ['INS_MISSING']);
  t.same(codes(checkIns({ ins: undefined })), ['INS_MISSING']);
});

t.test('characters: digits only, and 2A/2B at positions 6-7', async (t) => {
  const letterO = checkIns({ ins: '1841276451O8946' });
  t.same(codes(letterO), ['INS_CHARACTERS']);
  t.match(letterO.issues[0]?.message, /« O » en position 11/);
  t.same(codes(checkIns({ ins: '18505A1004123xx' })), ['INS_CHARACTERS']);
  t.match(checkIns({ ins: '185052a00412356' }).issues[0]?.message, /majuscules/);
  t.same(codes(checkIns({ ins: '185051A00412356' })), ['INS_CHARACTERS'], 'A must follow a 2');
  t.same(codes(checkIns({ ins: '18505-200412356' })), ['INS_CHARACTERS']);
  t.same(codes(checkIns({ ins: '１84127645108946' })), ['INS_CHARACTERS'], 'a full-width digit is not a digit');
});

t.test('sex digit: 1 or 2; temporary numbers are named as such', async (t) => {
  for (const sex of ['0', '5', '6', '9']) {
    t.same(codes(checkIns({ ins: withKey(`${sex}841276451089`) })), ['INS_SEX_DIGIT_INVALID'], `sex ${sex}`);
  }
  for (const sex of ['3', '4', '7', '8']) {
    const r = checkIns({ ins: withKey(`${sex}841276451089`) });
    t.same(codes(r), ['INS_TEMPORARY_NUMBER'], `sex ${sex}`);
    t.match(r.issues[0]?.message, /numéro provisoire/);
  }
  t.ok(checkIns({ ins: withKey('2841276451089'), oid: 'urn:oid:1.2.250.1.213.1.4.9' }).valid, 'NIA: 2 is accepted');
  t.same(
    codes(checkIns({ ins: withKey('7841276451089'), oid: 'urn:oid:1.2.250.1.213.1.4.9' })),
    ['INS_TEMPORARY_NUMBER'],
    'NIA: a temporary number is not a NIA either',
  );
});

t.test('birth month: 01-12, or 20-30 and 50+ for incomplete civil records', async (t) => {
  for (const month of ['01', '12', '20', '25', '30', '50', '75', '99']) {
    t.ok(checkIns({ ins: withKey(`184${month}76451089`) }).valid, `month ${month} accepted`);
  }
  for (const month of ['00', '13', '19', '31', '42', '49']) {
    t.same(codes(checkIns({ ins: withKey(`184${month}76451089`) })), ['INS_BIRTH_MONTH_INVALID'], `month ${month} refused`);
  }
});

t.test('department', async (t) => {
  const accepted = ['01', '13', '20', '2A', '2B', '75', '95', '96', '99'];
  for (const d of accepted) t.ok(checkIns({ ins: withKey(`18412${d}451089`) }).valid, `department ${d}`);
  t.same(codes(checkIns({ ins: withKey('1841200451089') })), ['INS_DEPARTMENT_INVALID'], 'department 00');

  for (const d of ['971', '972', '973', '974', '975', '976', '977', '978', '984', '985', '986', '987', '988', '989']) {
    t.ok(checkIns({ ins: withKey(`18412${d}15089`) }).valid, `overseas ${d}`);
  }
  for (const d of ['970', '979', '980', '981', '982', '983']) {
    t.same(codes(checkIns({ ins: withKey(`18412${d}15089`) })), ['INS_DEPARTMENT_INVALID'], `overseas ${d}`);
  }
});

t.test('commune or country code', async (t) => {
  t.same(codes(checkIns({ ins: withKey('1841276000089') })), ['INS_COMMUNE_INVALID'], 'commune 000');
  t.same(codes(checkIns({ ins: withKey('184122A000089') })), ['INS_COMMUNE_INVALID'], 'Corsican commune 000');
  t.same(codes(checkIns({ ins: withKey('1841297400089') })), ['INS_COMMUNE_INVALID'], 'overseas commune 00');
  t.ok(checkIns({ ins: withKey('1841297410089') }).valid, 'overseas commune 10: the 0 is the commune, not the department');
  const country = checkIns({ ins: withKey('1841299000089') });
  t.same(codes(country), ['INS_COMMUNE_INVALID'], 'country 000');
  t.match(country.issues[0]?.message, /code pays/);
  t.ok(checkIns({ ins: withKey('1841299352089') }).valid, 'born in Algeria (99352)');
});

t.test('order number: 001-999', async (t) => {
  t.same(codes(checkIns({ ins: withKey('1841276451000') })), ['INS_ORDER_NUMBER_INVALID']);
  t.ok(checkIns({ ins: withKey('1841276451001') }).valid);
  t.ok(checkIns({ ins: withKey('1841276451999') }).valid);
});

t.test('key', async (t) => {
  const wrong = checkIns({ ins: '184127645108943' });
  t.same(codes(wrong), ['INS_KEY_MISMATCH']);
  t.equal(wrong.issues[0]?.message, "La clé de l'INS est 43 mais le numéro donne 46 : vérifiez la saisie.");
  t.equal(wrong.issues[0]?.field, 'ins');
  for (const key of ['00', '98', '99']) {
    t.same(codes(checkIns({ ins: `1841276451089${key}` })), ['INS_KEY_OUT_OF_RANGE'], `key ${key}`);
  }
  t.same(codes(checkIns({ ins: '185052A00412383' })), ['INS_KEY_MISMATCH'], '2A number with the 2B key');
  t.ok(checkIns({ ins: '185052A00412356' }).valid);
  t.ok(checkIns({ ins: '185052B00412383' }).valid);
});

t.test('several structural errors are all reported', async (t) => {
  const r = checkIns({ ins: '5841300000000' + '00' });
  t.same(codes(r), ['INS_SEX_DIGIT_INVALID', 'INS_BIRTH_MONTH_INVALID', 'INS_DEPARTMENT_INVALID', 'INS_ORDER_NUMBER_INVALID', 'INS_KEY_OUT_OF_RANGE']);
  t.notOk(r.valid);
});

t.test('OID decides the kind', async (t) => {
  const bare = checkIns({ ins: MALE_SEINE_MARITIME, oid: '1.2.250.1.213.1.4.8' });
  t.equal(bare.kind, 'INS-NIR');
  t.equal(bare.oid, 'urn:oid:1.2.250.1.213.1.4.8', 'the bare OID is returned in its urn:oid form');
  const nia = checkIns({ ins: MALE_SEINE_MARITIME, oid: 'urn:oid:1.2.250.1.213.1.4.9' });
  t.same([nia.kind, nia.oid, nia.valid, nia.test], ['INS-NIA', 'urn:oid:1.2.250.1.213.1.4.9', true, false]);
  t.equal(checkIns({ ins: MALE_SEINE_MARITIME, oid: '1.2.250.1.213.1.4.9' }).kind, 'INS-NIA');

  const unknown = checkIns({ ins: MALE_SEINE_MARITIME, oid: 'urn:oid:1.2.250.1.213.1.4.2' });
  t.same([unknown.kind, unknown.oid, unknown.valid], [undefined, undefined, false]);
  t.same(codes(unknown), ['INS_OID_UNKNOWN']);
  t.equal(unknown.issues[0]?.field, 'oid');
  t.same(codes(checkIns({ ins: '184127645108943', oid: 'x' })), ['INS_OID_UNKNOWN', 'INS_KEY_MISMATCH'], 'the number is still checked');
});

t.test('test and demo identities are refused unless allowed', async (t) => {
  for (const [oid, kind] of [
    ['urn:oid:1.2.250.1.213.1.4.10', 'INS-NIR-TEST'],
    ['1.2.250.1.213.1.4.11', 'INS-NIR-DEMO'],
  ] as const) {
    const refused = checkIns({ ins: MALE_SEINE_MARITIME, oid });
    t.same([refused.kind, refused.test, refused.valid], [kind, true, false], `${kind} refused by default`);
    t.same(codes(refused), ['INS_TEST_IDENTITY_REFUSED']);
    t.equal(refused.issues[0]?.field, 'oid');
    const allowed = checkIns({ ins: MALE_SEINE_MARITIME, oid }, { allowTestIdentities: true });
    t.same([allowed.kind, allowed.test, allowed.valid, allowed.issues], [kind, true, true, []], `${kind} accepted when allowed`);
  }
  t.notOk(checkIns({ ins: MALE_SEINE_MARITIME, oid: '1.2.250.1.213.1.4.10' }, { allowTestIdentities: false }).valid);
});

t.test('the code list: severities and fields are those of the findings', async (t) => {
  const r = checkIns({ ins: '184127645108943', oid: 'x', traits: { sex: 'female', birthDate: '1985-01-01', birthplaceCode: '99100' } });
  t.ok(r.issues.length >= 5);
  for (const issue of r.issues) {
    t.equal(issue.severity, INS_ISSUE_CODES[issue.code].severity, issue.code);
    t.equal(issue.field, INS_ISSUE_CODES[issue.code].field, issue.code);
    t.ok(issue.message.length > 20, 'a message a person can act on');
  }
  const warnings = Object.entries(INS_ISSUE_CODES).filter(([, d]) => d.severity === 'warning').map(([c]) => c);
  t.same(warnings.sort(), ['INS_BIRTHPLACE_FORMER_TERRITORY', 'INS_BIRTHPLACE_MISMATCH', 'INS_BIRTH_COUNTRY_MISMATCH']);
});
