import t from 'tap';
import { checkIns, type InsCheckResult, type InsIssueCode, type InsTraits } from '../../../src/ins/index.ts';
import { withKey } from './generators.ts';

const codes = (r: InsCheckResult): InsIssueCode[] => r.issues.map((i) => i.code);
const check = (ins: string, traits: InsTraits): InsCheckResult => checkIns({ ins, traits });

// 1 84 12 76 451 089: a man born in December 1984 in commune 76451 (Seine-Maritime).
const MAN = withKey('1841276451089');
const WOMAN = withKey('2841276451089');

t.test('coherent traits give no finding at all', async (t) => {
  const r = check(MAN, { sex: 'male', birthDate: '1984-12-03', birthplaceCode: '76451' });
  t.same(r.issues, []);
  t.ok(r.valid);
});

t.test('sex: only male and female can conflict with the number', async (t) => {
  const femaleWithMan = check(MAN, { sex: 'female' });
  t.same(codes(femaleWithMan), ['INS_SEX_MISMATCH']);
  t.equal(femaleWithMan.issues[0]?.field, 'traits.sex');
  t.equal(femaleWithMan.issues[0]?.severity, 'error');
  t.notOk(femaleWithMan.valid);
  t.same(codes(check(WOMAN, { sex: 'male' })), ['INS_SEX_MISMATCH']);
  t.same(codes(check(WOMAN, { sex: 'female' })), []);
  for (const sex of ['other', 'unknown'] as const) {
    t.same(codes(check(MAN, { sex })), [], `${sex} with a man`);
    t.same(codes(check(WOMAN, { sex })), [], `${sex} with a woman`);
  }
});

t.test('birth year and month', async (t) => {
  const year = check(MAN, { birthDate: '1985-12-03' });
  t.same(codes(year), ['INS_BIRTH_YEAR_MISMATCH']);
  t.equal(year.issues[0]?.field, 'traits.birthDate');
  t.same(codes(check(MAN, { birthDate: '2084-12-03' })), [], 'only the last two digits of the year are in the number');
  t.same(codes(check(MAN, { birthDate: '1984-11-03' })), ['INS_BIRTH_MONTH_MISMATCH']);
  t.same(codes(check(MAN, { birthDate: '1983-11-03' })), ['INS_BIRTH_YEAR_MISMATCH', 'INS_BIRTH_MONTH_MISMATCH']);
  t.same(codes(check(MAN, { birthDate: '1984' })), [], 'a year-only date is compared on its year');
  t.same(codes(check(MAN, { birthDate: '1984-12' })), []);
  t.same(codes(check(MAN, { birthDate: '1984-01' })), ['INS_BIRTH_MONTH_MISMATCH']);
});

t.test('a month coding an incomplete civil record is not compared with the birth date', async (t) => {
  for (const month of ['20', '30', '50', '99']) {
    const ins = withKey(`184${month}76451089`);
    t.same(codes(check(ins, { birthDate: '1984-06-01' })), [], `month ${month}`);
    t.same(codes(check(ins, { birthDate: '1985-06-01' })), ['INS_BIRTH_YEAR_MISMATCH'], `month ${month}: the year still is`);
  }
});

t.test('a birth date that is not a FHIR date', async (t) => {
  for (const birthDate of ['03/12/1984', '1984-13-01', '1984-12-32', '1984-12-00', '84-12-03', '1984-12-3', '']) {
    const r = check(MAN, { birthDate });
    t.same(codes(r), ['INS_BIRTHDATE_INVALID'], JSON.stringify(birthDate));
  }
});

t.test('birthplace in France', async (t) => {
  const merged = check(MAN, { birthplaceCode: '76450' });
  t.same(codes(merged), ['INS_BIRTHPLACE_MISMATCH']);
  t.equal(merged.issues[0]?.severity, 'warning');
  t.equal(merged.issues[0]?.field, 'traits.birthplaceCode');
  t.ok(merged.valid, 'communes merge: a different commune is a warning, the INS stays valid');
  t.same(codes(check(MAN, { birthplaceCode: '75056' })), ['INS_BIRTHPLACE_MISMATCH'], 'another department too');

  t.test('overseas: 3-digit department and 2-digit commune', async (t) => {
    const reunion = withKey('1841297411089');
    t.same(codes(check(reunion, { birthplaceCode: '97411' })), []);
    t.same(codes(check(reunion, { birthplaceCode: '97415' })), ['INS_BIRTHPLACE_MISMATCH']);
  });

  t.test('Corsica', async (t) => {
    const ajaccio = withKey('185052A004123');
    t.same(codes(check(ajaccio, { birthplaceCode: '2A004' })), []);
    t.same(codes(check(ajaccio, { birthplaceCode: '2B004' })), ['INS_BIRTHPLACE_MISMATCH']);
    t.same(codes(check(ajaccio, { birthplaceCode: '19004' })), ['INS_BIRTHPLACE_MISMATCH'], '19 is Corrèze, not Corse-du-Sud');
    const before1976 = withKey('1650520004123');
    t.same(codes(check(before1976, { birthplaceCode: '2A004' })), [], 'numbered 20 before the split, 2A in today’s COG');
    t.same(codes(check(before1976, { birthplaceCode: '2B004' })), []);
    t.same(codes(check(before1976, { birthplaceCode: '2A005' })), ['INS_BIRTHPLACE_MISMATCH']);
    const correze = withKey('1850519004123');
    t.same(codes(check(correze, { birthplaceCode: '19004' })), [], 'the raw 19 twin is Corrèze');
    t.same(codes(check(correze, { birthplaceCode: '2A004' })), ['INS_BIRTHPLACE_MISMATCH']);
  });
});

t.test('birthplace abroad', async (t) => {
  const algeria = withKey('1841299352089');
  t.same(codes(check(algeria, { birthplaceCode: '99352' })), []);
  const otherCountry = check(algeria, { birthplaceCode: '99350' });
  t.same(codes(otherCountry), ['INS_BIRTH_COUNTRY_MISMATCH']);
  t.equal(otherCountry.issues[0]?.severity, 'warning');
  t.ok(otherCountry.valid);

  const frenchCommune = check(algeria, { birthplaceCode: '76451' });
  t.same(codes(frenchCommune), ['INS_BORN_ABROAD_CONFLICT']);
  t.equal(frenchCommune.issues[0]?.severity, 'error');
  t.notOk(frenchCommune.valid);

  const bornInFrance = check(MAN, { birthplaceCode: '99352' });
  t.same(codes(bornInFrance), ['INS_BORN_ABROAD_CONFLICT'], 'born in Seine-Maritime per the number, abroad per the traits');
  t.notOk(bornInFrance.valid);
});

t.test('former territories: coded 91-96 or 98x in the number, a foreign country in the COG', async (t) => {
  for (const place of ['91352', '94352', '95350', '96351', '98501']) {
    const ins = withKey(`15510${place}089`);
    const r = check(ins, { birthplaceCode: '99352' });
    t.same(codes(r), ['INS_BIRTHPLACE_FORMER_TERRITORY'], place);
    t.ok(r.valid, `${place}: a warning only`);
  }
});

t.test('a birthplace that is not a 5-character INSEE code', async (t) => {
  for (const code of ['7645', '764510', '2C004', '2a004', 'AB123', '76 45']) {
    t.same(codes(check(MAN, { birthplaceCode: code })), ['INS_BIRTHPLACE_INVALID'], code);
  }
});

t.test('traits are not compared with a number that is malformed', async (t) => {
  t.same(codes(check('18412764510', { sex: 'female', birthDate: '1990-01-01' })), ['INS_LENGTH']);
});
